// IncrementalAlterConfigs (key 44), versions 0-1: changes named topic
// configs and leaves the others alone (KIP-339). Operations apply in request
// order to the topic's explicit configs, and the result is validated and
// stored in one store update (all or nothing per resource):
//
//   - SET validates and sets a value (null is INVALID_REQUEST). Read-only
//     keys (min.insync.replicas, compression.type) accept only their fixed
//     value, as a no-op.
//   - DELETE returns a key to its default.
//   - APPEND and SUBTRACT add or remove items of a list config; the only
//     list config here is cleanup.policy, whose items are "delete" and
//     "compact". On any other key they are INVALID_REQUEST, as in Kafka.
//
// Unknown keys are INVALID_CONFIG, for DELETE too (Kafka tolerates deleting
// an unknown key; refusing it catches typos). A key named twice in one
// resource is INVALID_REQUEST. Broker configs are read-only (bridge flags),
// other resource types unsupported: see alterconfigs.go. ValidateOnly checks
// and changes nothing. v1 is the flexible encoding.
package kafka

import (
	"context"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.IncrementalAlterConfigs, MinVersion: 0, MaxVersion: 1, Handle: handleIncrementalAlterConfigs})
}

func handleIncrementalAlterConfigs(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	resources := make([]alterResource, len(req.Resources))
	for i, res := range req.Resources {
		resources[i] = alterResource{res.ResourceType, res.ResourceName, len(res.Configs)}
	}
	errs := alterEach(r, resources, func(i int) *kafkaError {
		res := &req.Resources[i]
		if aerr := duplicateConfigKeys(res.Configs); aerr != nil {
			return aerr
		}
		return alterTopicConfigs(ctx, r.Server, res.ResourceName, req.ValidateOnly, func(o map[string]string) *kafkaError {
			for _, op := range res.Configs {
				if aerr := applyConfigOp(o, op); aerr != nil {
					return aerr
				}
			}
			return nil
		})
	})
	for i, res := range req.Resources {
		rr := kmsg.NewIncrementalAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		rr.ErrorCode, rr.ErrorMessage = errs[i].code(), errs[i].message()
		resp.Resources = append(resp.Resources, rr)
	}
	return Respond(resp), nil
}

func duplicateConfigKeys(ops []kmsg.IncrementalAlterConfigsRequestResourceConfig) *kafkaError {
	seen := map[string]bool{}
	for _, op := range ops {
		if seen[op.Name] {
			return refuse(kerr.InvalidRequest, "Error due to duplicate config keys: %s", op.Name)
		}
		seen[op.Name] = true
	}
	return nil
}

// applyConfigOp applies one operation to the explicit configs o.
func applyConfigOp(o map[string]string, op kmsg.IncrementalAlterConfigsRequestResourceConfig) *kafkaError {
	def, ok := topicConfigDefFor(op.Name)
	if !ok {
		return refuse(kerr.InvalidConfig, "Unknown topic config name: %s", op.Name)
	}
	if op.Op != kmsg.IncrementalAlterConfigOpDelete && op.Value == nil {
		return refuse(kerr.InvalidRequest, "Null value not supported for : %s", op.Name)
	}
	switch op.Op {
	case kmsg.IncrementalAlterConfigOpSet:
		v, aerr := normalizeTopicConfig(op.Name, op.Value)
		if aerr != nil {
			return aerr
		}
		if !def.readOnly {
			o[op.Name] = v
		}
	case kmsg.IncrementalAlterConfigOpDelete:
		delete(o, op.Name)
	case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
		verb := "append"
		if op.Op == kmsg.IncrementalAlterConfigOpSubtract {
			verb = "subtract"
		}
		if def.typ != kmsg.ConfigTypeList {
			return refuse(kerr.InvalidRequest, "Config value %s is not allowed for config key: %s", verb, op.Name)
		}
		cur, ok := o[op.Name]
		if !ok {
			cur = topicConfigDefault(op.Name)
		}
		items := splitConfigList(cur)
		for _, item := range splitConfigList(*op.Value) {
			i := slices.Index(items, item)
			switch {
			case verb == "append" && i < 0:
				items = append(items, item)
			case verb == "subtract" && i >= 0:
				items = append(items[:i], items[i+1:]...)
			}
		}
		if len(items) == 0 {
			return refuse(kerr.InvalidConfig, "%s cannot be empty here: records leave by retention (delete) or compaction (compact)", op.Name)
		}
		joined := strings.Join(items, ",")
		v, aerr := normalizeTopicConfig(op.Name, &joined)
		if aerr != nil {
			return aerr
		}
		o[op.Name] = v
	default:
		return refuse(kerr.InvalidRequest, "Unknown config operation %d for config key: %s", op.Op, op.Name)
	}
	return nil
}

// splitConfigList splits a Kafka list value, dropping blanks.
func splitConfigList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
