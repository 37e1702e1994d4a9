package kafka

// Topics declared in a fixtures file (`bridge serve --init-file`), made to
// exist before any client connects. EnsureTopic goes through the same code
// as CreateTopics, CreatePartitions and IncrementalAlterConfigs, so a
// declared topic meets the same checks and its refusal reads as the
// protocol's would (error name, then Kafka's message).

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

// TopicFixture is one declared topic.
type TopicFixture struct {
	Name string
	// Partitions is the partition count; 0 takes the default
	// (DefaultPartitions), as CreateTopics' -1 does.
	Partitions int
	// ReplicationFactor must be 1 (or 0 for the default): the bridge is one
	// broker. Anything else is CreateTopics' INVALID_REPLICATION_FACTOR.
	ReplicationFactor int
	// Configs are topic configs, as CreateTopics takes them.
	Configs map[string]string
}

// Topic fixture outcomes EnsureTopic reports.
const (
	TopicCreated         = "created"
	TopicUnchanged       = "unchanged"
	TopicPartitionsAdded = "partitions added"
	TopicConfigsSet      = "configs set"
)

// EnsureTopic makes f exist as declared in st: a missing topic is created
// (CreateTopics), one with fewer partitions grows (CreatePartitions; fewer
// declared than there are is INVALID_PARTITIONS, as Kafka never shrinks a
// topic), and declared configs that differ from the topic's are set
// (IncrementalAlterConfigs SET; configs the file leaves out are left
// alone). With validateOnly it runs every check, the existing topic's
// included, and changes nothing. It returns what it did, joined with ", "
// when it did more than one thing; errors read "NAME: message".
func EnsureTopic(ctx context.Context, st store.Store, log *slog.Logger, defaultPartitions int, f TopicFixture, validateOnly bool) (string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if defaultPartitions <= 0 {
		defaultPartitions = 1
	}
	s := &Server{store: withInternalTopics(st), cfg: Config{DefaultPartitions: defaultPartitions}, log: log}
	req := kmsg.NewCreateTopicsRequestTopic()
	req.Topic = f.Name
	req.NumPartitions, req.ReplicationFactor = -1, -1
	if f.Partitions != 0 {
		req.NumPartitions = int32(f.Partitions)
	}
	if f.ReplicationFactor != 0 {
		req.ReplicationFactor = int16(f.ReplicationFactor)
	}
	for _, name := range slices.Sorted(maps.Keys(f.Configs)) {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = name, kmsg.StringPtr(f.Configs[name])
		req.Configs = append(req.Configs, c)
	}
	if aerr := checkNewTopicName(f.Name); aerr != nil {
		return "", aerr
	}
	existing, err := s.store.DescribeStream(ctx, f.Name)
	if errors.Is(err, store.ErrStreamNotFound) {
		if _, aerr := createOneTopic(ctx, s, &req, validateOnly); aerr != nil {
			return "", aerr
		}
		return TopicCreated, nil
	}
	if err != nil {
		return "", storeError(err)
	}

	// The topic exists: the declared partitions and configs are checked
	// as CreateTopics would, then compared with what is there.
	want, aerr := newTopicPartitions(s, &req)
	if aerr != nil {
		return "", aerr
	}
	var did []string
	if have := len(existing.Partitions); want != have {
		grow := kmsg.NewCreatePartitionsRequestTopic()
		grow.Topic, grow.Count = f.Name, int32(want)
		if aerr := growTopic(ctx, s, &grow, validateOnly); aerr != nil {
			return "", aerr
		}
		did = append(did, TopicPartitionsAdded)
	}
	current := topicOverrides(&existing)
	var ops []kmsg.IncrementalAlterConfigsRequestResourceConfig
	for _, c := range req.Configs {
		v, aerr := normalizeTopicConfig(c.Name, c.Value)
		if aerr != nil {
			return "", aerr
		}
		cur, ok := current[c.Name]
		if ok && cur == v || !ok && v == topicConfigDefault(c.Name) {
			continue
		}
		op := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		op.Name, op.Op, op.Value = c.Name, kmsg.IncrementalAlterConfigOpSet, c.Value
		ops = append(ops, op)
	}
	if len(ops) > 0 {
		aerr := alterTopicConfigs(ctx, s, f.Name, validateOnly, func(o map[string]string) *kafkaError {
			for _, op := range ops {
				if aerr := applyConfigOp(o, op); aerr != nil {
					return aerr
				}
			}
			return nil
		})
		if aerr != nil {
			return "", aerr
		}
		did = append(did, TopicConfigsSet)
	}
	if len(did) == 0 {
		return TopicUnchanged, nil
	}
	return strings.Join(did, ", "), nil
}
