// DescribeConfigs (key 32), versions 0-4: reports configs of topics and of
// the broker.
//
// A topic resource lists every topic config this gateway knows
// (topicconfig.go) with its effective value: DYNAMIC_TOPIC_CONFIG when set
// on the topic, DEFAULT_CONFIG otherwise (v0: IsDefault), plus the
// broker-fixed ones (min.insync.replicas, compression.type) as read-only
// defaults. The broker resource "0" lists a small read-only set a client may
// want to know (broker.id, num.partitions, auto.create.topics.enable,
// message.max.bytes, the log.* defaults topic configs fall back to), marked
// STATIC_BROKER_CONFIG where a bridge flag sets them and DEFAULT_CONFIG where
// they equal Kafka's default; they change with bridge flags, not with
// AlterConfigs. The broker resource "" (cluster-wide dynamic defaults) is
// empty: there are none. Other broker ids, broker loggers and other resource
// types are INVALID_REQUEST; an unknown topic is UNKNOWN_TOPIC_OR_PARTITION.
//
// ConfigNames filters the list (null or empty means all, unknown names are
// left out, as in Kafka). v1+ reports ConfigSource and, when IncludeSynonyms, the
// synonyms (the topic value if set, then the broker default it falls back
// to); v3+ reports ConfigType and, when IncludeDocumentation, a line on what
// the config does here. v4 is the flexible encoding.
package kafka

import (
	"context"
	"math"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.DescribeConfigs, MinVersion: 0, MaxVersion: 4, Handle: handleDescribeConfigs})
}

func handleDescribeConfigs(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, res := range req.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		var values []configValue
		aerr := configAuthError(res.ResourceType)
		if r.configsAllowed(kmsg.ACLOperationDescribeConfigs, res.ResourceType, res.ResourceName) {
			values, aerr = describeResource(ctx, r.Server, res.ResourceType, res.ResourceName)
		}
		rr.ErrorCode, rr.ErrorMessage = aerr.code(), aerr.message()
		for _, cv := range values {
			if len(res.ConfigNames) > 0 && !slices.Contains(res.ConfigNames, cv.name) {
				continue
			}
			rr.Configs = append(rr.Configs, describeEntry(cv, req.IncludeSynonyms, req.IncludeDocumentation))
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return Respond(resp), nil
}

// describeResource returns every config of one resource.
func describeResource(ctx context.Context, s *Server, typ kmsg.ConfigResourceType, name string) ([]configValue, *kafkaError) {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		st, err := s.store.DescribeStream(ctx, name)
		if err != nil {
			aerr := storeError(err)
			if aerr.err == kerr.UnknownTopicOrPartition {
				aerr.msg = "Topic " + name + " does not exist."
			}
			return nil, aerr
		}
		return topicConfigValues(&st), nil
	case kmsg.ConfigResourceTypeBroker:
		clusterDefaults, aerr := checkBrokerResource(name)
		if aerr != nil || clusterDefaults {
			return nil, aerr
		}
		return brokerConfigValues(s), nil
	default:
		return nil, unsupportedResource(typ)
	}
}

// checkBrokerResource accepts the broker names Kafka does: "" for the
// cluster-wide defaults, or this broker's id.
func checkBrokerResource(name string) (clusterDefaults bool, aerr *kafkaError) {
	if name == "" {
		return true, nil
	}
	id, err := strconv.ParseInt(name, 10, 32)
	switch {
	case err != nil:
		return false, refuse(kerr.InvalidRequest, "Broker id must be an integer, but it is: %s", name)
	case id != 0:
		return false, refuse(kerr.InvalidRequest, "Unexpected broker id, expected 0 or empty string, but received %s", name)
	}
	return false, nil
}

// unsupportedResource is the answer for resource types other than topics
// and the broker.
func unsupportedResource(typ kmsg.ConfigResourceType) *kafkaError {
	if typ == kmsg.ConfigResourceTypeBrokerLogger {
		return refuse(kerr.InvalidRequest, "Broker loggers are not exposed by this bridge; set bridge serve --log-level instead.")
	}
	return refuse(kerr.InvalidRequest, "Unsupported resource type %s.", typ)
}

// describeEntry renders one config for the response; the version decides
// which fields reach the wire.
func describeEntry(cv configValue, synonyms, docs bool) kmsg.DescribeConfigsResponseResourceConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name = cv.name
	c.Value = kmsg.StringPtr(cv.value)
	c.ReadOnly = cv.readOnly
	c.IsDefault = cv.source == kmsg.ConfigSourceDefaultConfig
	c.Source = cv.source
	c.ConfigType = cv.typ
	if docs {
		c.Documentation = kmsg.StringPtr(cv.doc)
	}
	if synonyms {
		if cv.source != kmsg.ConfigSourceDefaultConfig || cv.synonym == "" {
			s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			s.Name, s.Value, s.Source = cv.name, kmsg.StringPtr(cv.value), cv.source
			c.ConfigSynonyms = append(c.ConfigSynonyms, s)
		}
		if cv.synonym != "" {
			s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			s.Name, s.Value, s.Source = cv.synonym, kmsg.StringPtr(cv.dflt), kmsg.ConfigSourceDefaultConfig
			c.ConfigSynonyms = append(c.ConfigSynonyms, s)
		}
	}
	return c
}

// brokerConfigValues lists the broker's configs: all read-only here, since
// they come from bridge flags or are fixed by the bridge's design.
func brokerConfigValues(s *Server) []configValue {
	boolStr := strconv.FormatBool
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	entries := []struct {
		name, value, kafkaDefault string
		typ                       kmsg.ConfigType
		doc                       string
	}{
		{"auto.create.topics.enable", boolStr(s.cfg.AutoCreateTopics), "true", kmsg.ConfigTypeBoolean,
			"Whether Produce and Metadata create unknown topics (bridge serve --auto-create-topics)."},
		{"broker.id", "0", "", kmsg.ConfigTypeInt, "The bridge is a single broker, node 0."},
		{"compression.type", "producer", "producer", kmsg.ConfigTypeString,
			"Batches are stored as the producer compressed them."},
		{"default.replication.factor", "1", "1", kmsg.ConfigTypeInt, "One copy, durable on this node's disk."},
		{"log.cleaner.delete.retention.ms", itoa(DefaultDeleteRetentionMs), itoa(DefaultDeleteRetentionMs), kmsg.ConfigTypeLong,
			"Default of the topic config delete.retention.ms: 1 day, as Kafka."},
		{"log.cleaner.max.compaction.lag.ms", itoa(math.MaxInt64), itoa(math.MaxInt64), kmsg.ConfigTypeLong,
			"Default of the topic config max.compaction.lag.ms."},
		{"log.cleaner.min.cleanable.ratio", "0.5", "0.5", kmsg.ConfigTypeDouble,
			"Default of the topic config min.cleanable.dirty.ratio."},
		{"log.cleaner.min.compaction.lag.ms", "0", "0", kmsg.ConfigTypeLong,
			"Default of the topic config min.compaction.lag.ms."},
		{"log.cleanup.policy", "delete", "delete", kmsg.ConfigTypeList, "Default of the topic config cleanup.policy."},
		{"log.message.timestamp.type", timestampCreateTime, timestampCreateTime, kmsg.ConfigTypeString,
			"Default of the topic config message.timestamp.type."},
		{"log.retention.bytes", "-1", "-1", kmsg.ConfigTypeLong, "Default of the topic config retention.bytes."},
		{"log.retention.ms", itoa(DefaultRetentionMs), itoa(DefaultRetentionMs), kmsg.ConfigTypeLong,
			"Default of the topic config retention.ms: 7 days, as Kafka."},
		{"message.max.bytes", itoa(int64(DefaultMaxMessageBytes)), itoa(int64(DefaultMaxMessageBytes)), kmsg.ConfigTypeInt,
			"Default of the topic config max.message.bytes."},
		{"min.insync.replicas", "1", "1", kmsg.ConfigTypeInt, "One broker: acks=all means durably stored on it."},
		{"num.partitions", itoa(int64(s.cfg.DefaultPartitions)), "1", kmsg.ConfigTypeInt,
			"Partitions of auto-created topics and of CreateTopics with NumPartitions -1 (bridge serve --default-partitions)."},
	}
	out := make([]configValue, len(entries))
	for i, e := range entries {
		src := kmsg.ConfigSourceStaticBrokerConfig
		if e.value == e.kafkaDefault {
			src = kmsg.ConfigSourceDefaultConfig
		}
		out[i] = configValue{name: e.name, value: e.value, source: src, readOnly: true, typ: e.typ, doc: e.doc}
	}
	return out
}
