// AlterConfigs (key 33), versions 0-2: replaces a topic's whole config set,
// as Kafka does: keys the request does not name return to their defaults
// (retention.ms included), which is why clients prefer
// IncrementalAlterConfigs. Every key is validated first
// (topicconfig.go); one bad key fails the resource (INVALID_CONFIG, or
// INVALID_REQUEST for a null value) and changes nothing. The new set is
// written in one store update, so readers see the old set or the new one.
// ValidateOnly checks and changes nothing.
//
// Broker configs are read-only here (they come from bridge flags): a broker
// resource with configs to set is INVALID_REQUEST, one with none is a no-op.
// Other resource types are INVALID_REQUEST; an unknown topic is
// UNKNOWN_TOPIC_OR_PARTITION; a resource listed twice is INVALID_REQUEST.
// All versions carry ErrorMessage; v2 is the flexible encoding.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.AlterConfigs, MinVersion: 0, MaxVersion: 2, Handle: handleAlterConfigs})
}

func handleAlterConfigs(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	resources := make([]alterResource, len(req.Resources))
	for i, res := range req.Resources {
		resources[i] = alterResource{res.ResourceType, res.ResourceName, len(res.Configs)}
	}
	errs := alterEach(r, resources, func(i int) *kafkaError {
		res := &req.Resources[i]
		entries := make([]topicConfigEntry, len(res.Configs))
		for j, c := range res.Configs {
			entries[j] = topicConfigEntry{name: c.Name, value: c.Value}
		}
		return alterTopicConfigs(ctx, r.Server, res.ResourceName, req.ValidateOnly, func(o map[string]string) *kafkaError {
			if aerr := nullConfigValue(entries); aerr != nil {
				return aerr
			}
			next, aerr := normalizeTopicConfigs(entries)
			if aerr != nil {
				return aerr
			}
			clear(o)
			for k, v := range next {
				o[k] = v
			}
			return nil
		})
	})
	for i, res := range req.Resources {
		rr := kmsg.NewAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		rr.ErrorCode, rr.ErrorMessage = errs[i].code(), errs[i].message()
		resp.Resources = append(resp.Resources, rr)
	}
	return Respond(resp), nil
}

// nullConfigValue refuses null values the way Kafka's alter APIs do.
func nullConfigValue(entries []topicConfigEntry) *kafkaError {
	for _, e := range entries {
		if e.value == nil {
			return refuse(kerr.InvalidRequest, "Null value not supported for : %s", e.name)
		}
	}
	return nil
}

// alterTopicConfigs applies change to the explicit configs of topic (see
// topicOverrides) in one store update; with validateOnly it runs change on
// a copy and stores nothing. change gets canonical values and must leave
// only canonical values (from normalizeTopicConfig) behind.
func alterTopicConfigs(ctx context.Context, s *Server, topic string, validateOnly bool, change func(o map[string]string) *kafkaError) *kafkaError {
	unknown := func(err error) *kafkaError {
		aerr := storeError(err)
		if aerr.err == kerr.UnknownTopicOrPartition {
			aerr.msg = "Topic " + topic + " does not exist."
		}
		return aerr
	}
	if validateOnly {
		st, err := s.store.DescribeStream(ctx, topic)
		if err != nil {
			return unknown(err)
		}
		o := topicOverrides(&st)
		if aerr := change(o); aerr != nil {
			return aerr
		}
		return checkTopicConfigSet(o)
	}
	var before, after map[string]string
	_, err := s.store.UpdateStream(ctx, topic, func(st *store.Stream) error {
		o := topicOverrides(st)
		before = topicOverrides(st)
		if aerr := change(o); aerr != nil {
			return aerr
		}
		if aerr := checkTopicConfigSet(o); aerr != nil {
			return aerr
		}
		applyTopicOverrides(st, o)
		after = o
		return nil
	})
	var aerr *kafkaError
	switch {
	case errors.As(err, &aerr):
		return aerr
	case store.IsKeyError(err):
		return keyConfigError(after[cfgEncryptionKey], err)
	case err != nil:
		return unknown(err)
	}
	s.log.Info("topic configs altered", "topic", topic, "before", fmt.Sprint(before), "after", fmt.Sprint(after))
	return nil
}

// alterBrokerConfigs answers an attempt to change broker configs: they are
// read-only, fixed by bridge flags.
func alterBrokerConfigs(name string, changes int) *kafkaError {
	if _, aerr := checkBrokerResource(name); aerr != nil {
		return aerr
	}
	if changes > 0 {
		return refuse(kerr.InvalidRequest, "Broker configs are read-only on this bridge; set them with bridge serve flags.")
	}
	return nil
}

// alterResource is one resource of an AlterConfigs or
// IncrementalAlterConfigs request.
type alterResource struct {
	typ     kmsg.ConfigResourceType
	name    string
	configs int
}

// alterEach answers the resources of an alter request in order: resources
// that share a type and name with another are all refused, as Kafka does; a
// topic is changed by alterTopic(i), a broker by alterBrokerConfigs, and any
// other type is unsupported.
// alterEach also checks ALTER_CONFIGS on each resource and audits the
// outcome of each.
func alterEach(req *Request, resources []alterResource, alterTopic func(i int) *kafkaError) []*kafkaError {
	type key struct {
		typ  kmsg.ConfigResourceType
		name string
	}
	count := map[key]int{}
	for _, r := range resources {
		count[key{r.typ, r.name}]++
	}
	errs := make([]*kafkaError, len(resources))
	for i, r := range resources {
		switch {
		case count[key{r.typ, r.name}] > 1:
			errs[i] = refuse(kerr.InvalidRequest, "Duplicate resource %s %q in request.", r.typ, r.name)
		case !req.configsAllowed(kmsg.ACLOperationAlterConfigs, r.typ, r.name):
			errs[i] = configAuthError(r.typ)
		case r.typ == kmsg.ConfigResourceTypeTopic:
			errs[i] = alterTopic(i)
		case r.typ == kmsg.ConfigResourceTypeBroker:
			errs[i] = alterBrokerConfigs(r.name, r.configs)
		default:
			errs[i] = unsupportedResource(r.typ)
		}
		if errs[i] == nil || errs[i].err != kerr.TopicAuthorizationFailed && errs[i].err != kerr.ClusterAuthorizationFailed {
			req.auditCall(strings.ToLower(r.typ.String())+":"+r.name, errs[i].code(), derefString(errs[i].message()))
		}
	}
	return errs
}

// configsAllowed checks op (DESCRIBE_CONFIGS, ALTER_CONFIGS) on a config
// resource: a topic, or a broker, whose configs are the cluster's.
func (r *Request) configsAllowed(op kmsg.ACLOperation, typ kmsg.ConfigResourceType, name string) bool {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		return r.topicAllowed(op, name)
	case kmsg.ConfigResourceTypeBroker, kmsg.ConfigResourceTypeBrokerLogger:
		return r.clusterAllowed(op)
	}
	return true // unsupported resource types are refused as such
}

func configAuthError(typ kmsg.ConfigResourceType) *kafkaError {
	if typ == kmsg.ConfigResourceTypeTopic {
		return refuse(kerr.TopicAuthorizationFailed, "")
	}
	return refuse(kerr.ClusterAuthorizationFailed, "")
}
