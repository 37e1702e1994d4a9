package herder

// Connector offsets (KIP-875): a source connector's positions are in the
// herder's OffsetStore, a sink connector's are its consumer group's
// committed offsets (group connect-NAME), read and altered with the admin
// API. Altering or resetting needs the connector STOPPED, as in Kafka.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/runtime"
)

// The keys of a sink connector's offsets, as Kafka names them.
const (
	KafkaTopicKey     = "kafka_topic"
	KafkaPartitionKey = "kafka_partition"
	KafkaOffsetKey    = "kafka_offset"
)

// Offsets is the body of GET and PATCH /connectors/{name}/offsets.
type Offsets struct {
	Offsets []runtime.SourceOffset `json:"offsets"`
}

// GroupOffsets reads and changes a consumer group's committed offsets.
type GroupOffsets interface {
	// Fetch returns the group's committed offsets (none for an unknown group).
	Fetch(ctx context.Context, group string) (map[connect.TopicPartition]int64, error)
	// Alter commits the given offsets and deletes those that are nil.
	Alter(ctx context.Context, group string, offsets map[connect.TopicPartition]*int64) error
	// Reset deletes the group and its offsets (an unknown group is no error).
	Reset(ctx context.Context, group string) error
}

// SinkGroup is a sink connector's consumer group, as Kafka names it.
func SinkGroup(name string, cfg connect.Config) string {
	if g := cfg["consumer.override.group.id"]; g != "" {
		return g
	}
	return "connect-" + name
}

// GetOffsets returns a connector's offsets.
func (h *Herder) GetOffsets(ctx context.Context, name string) (Offsets, error) {
	s, err := h.get(name)
	if err != nil {
		return Offsets{}, err
	}
	return h.offsetsOf(ctx, h.offsets, h.cfg.Groups, name, s.Config)
}

// offsetsOf reads a connector's offsets from store (a source's) or its
// consumer group (a sink's); the distributed herder shares it.
func (h *Herder) offsetsOf(ctx context.Context, store runtime.OffsetStore, groupOffsets GroupOffsets, name string, cfg connect.Config) (Offsets, error) {
	out := Offsets{Offsets: []runtime.SourceOffset{}}
	switch h.connectorType(cfg) {
	case "sink":
		if groupOffsets == nil {
			return Offsets{}, errNoGroups
		}
		committed, err := groupOffsets.Fetch(ctx, SinkGroup(name, cfg))
		if err != nil {
			return Offsets{}, &Error{500, fmt.Sprintf("Failed to retrieve consumer group offsets for sink connector %s: %v", name, err)}
		}
		tps := make([]connect.TopicPartition, 0, len(committed))
		for tp := range committed {
			tps = append(tps, tp)
		}
		slices.SortFunc(tps, func(a, b connect.TopicPartition) int {
			if c := strings.Compare(a.Topic, b.Topic); c != 0 {
				return c
			}
			return int(a.Partition - b.Partition)
		})
		for _, tp := range tps {
			out.Offsets = append(out.Offsets, runtime.SourceOffset{
				Partition: map[string]any{KafkaTopicKey: tp.Topic, KafkaPartitionKey: tp.Partition},
				Offset:    map[string]any{KafkaOffsetKey: committed[tp]},
			})
		}
	default:
		list, err := store.List(ctx, name)
		if err != nil {
			return Offsets{}, &Error{500, fmt.Sprintf("Failed to read the offsets of connector %s: %v", name, err)}
		}
		out.Offsets = append(out.Offsets, list...)
	}
	return out, nil
}

// AlterOffsets changes some of a stopped connector's offsets; a nil offset
// removes the partition's.
func (h *Herder) AlterOffsets(ctx context.Context, name string, body Offsets) (string, error) {
	s, unlock, err := h.stoppedForOffsets(name)
	if err != nil {
		return "", err
	}
	defer unlock()
	return h.alterOffsetsIn(ctx, h.offsets, h.cfg.Groups, name, s.Config, body)
}

func (h *Herder) alterOffsetsIn(ctx context.Context, store runtime.OffsetStore, groupOffsets GroupOffsets, name string, cfg connect.Config, body Offsets) (string, error) {
	if len(body.Offsets) == 0 {
		return "", badRequest("Partitions / offsets need to be provided for an alter offsets request")
	}
	for _, o := range body.Offsets {
		if o.Partition == nil {
			return "", badRequest("Partition objects cannot be null")
		}
	}
	if h.connectorType(cfg) == "sink" {
		alter, err := sinkAlterations(body.Offsets)
		if err != nil {
			return "", err
		}
		if groupOffsets == nil {
			return "", errNoGroups
		}
		if err := groupOffsets.Alter(ctx, SinkGroup(name, cfg), alter); err != nil {
			return "", &Error{500, fmt.Sprintf("Failed to alter consumer group offsets for connector %s: %v", name, err)}
		}
	} else if err := store.Put(ctx, name, body.Offsets); err != nil {
		return "", &Error{500, fmt.Sprintf("Failed to write offsets for connector %s: %v", name, err)}
	}
	h.log.Info("connect: offsets altered", "connector", name, "partitions", len(body.Offsets))
	return "The offsets for this connector have been altered successfully", nil
}

// ResetOffsets removes every offset of a stopped connector: a source's
// positions, a sink's consumer group.
func (h *Herder) ResetOffsets(ctx context.Context, name string) (string, error) {
	s, unlock, err := h.stoppedForOffsets(name)
	if err != nil {
		return "", err
	}
	defer unlock()
	return h.resetOffsetsOf(ctx, h.offsets, h.cfg.Groups, name, s.Config)
}

func (h *Herder) resetOffsetsOf(ctx context.Context, store runtime.OffsetStore, groupOffsets GroupOffsets, name string, cfg connect.Config) (string, error) {
	if h.connectorType(cfg) == "sink" {
		if groupOffsets == nil {
			return "", errNoGroups
		}
		if err := groupOffsets.Reset(ctx, SinkGroup(name, cfg)); err != nil {
			return "", &Error{500, fmt.Sprintf("Failed to delete consumer group %s for connector %s: %v", SinkGroup(name, cfg), name, err)}
		}
	} else if err := h.resetOffsetsIn(ctx, store, name); err != nil {
		return "", err
	}
	h.log.Info("connect: offsets reset", "connector", name)
	return "The offsets for this connector have been reset successfully", nil
}

func (h *Herder) resetSourceOffsets(ctx context.Context, name string) error {
	return h.resetOffsetsIn(ctx, h.offsets, name)
}

// resetOffsetsIn deletes every source offset of name from store.
func (h *Herder) resetOffsetsIn(ctx context.Context, store runtime.OffsetStore, name string) error {
	list, err := store.List(ctx, name)
	if err != nil {
		return &Error{500, fmt.Sprintf("Failed to read the offsets of connector %s: %v", name, err)}
	}
	if len(list) == 0 {
		return nil
	}
	for i := range list {
		list[i].Offset = nil
	}
	if err := store.Put(ctx, name, list); err != nil {
		return &Error{500, fmt.Sprintf("Failed to reset the offsets of connector %s: %v", name, err)}
	}
	return nil
}

// stoppedForOffsets checks that name is STOPPED and keeps h.mu locked until
// the returned unlock, so that no resume starts its tasks while its offsets
// change.
func (h *Herder) stoppedForOffsets(name string) (stored, func(), error) {
	h.mu.Lock()
	c, ok := h.connectors[name]
	if !ok {
		h.mu.Unlock()
		return stored{}, nil, notFound(name)
	}
	s := c.stored.clone()
	if s.Target != TargetStopped {
		h.mu.Unlock()
		return stored{}, nil, badRequest("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	return s, h.mu.Unlock, nil
}

// errNoGroups answers sink offset requests on a herder without an admin client.
var errNoGroups = &Error{500, "This worker has no Kafka admin client for sink connector offsets"}

// sinkAlterations checks a sink connector's offsets as Kafka does and
// returns them by partition.
func sinkAlterations(offsets []runtime.SourceOffset) (map[connect.TopicPartition]*int64, error) {
	out := map[connect.TopicPartition]*int64{}
	for _, o := range offsets {
		topic, ok := o.Partition[KafkaTopicKey].(string)
		if !ok || topic == "" {
			return nil, badRequest("Kafka partitions must contain a non-empty '%s' key with a string value", KafkaTopicKey)
		}
		p, ok := wholeNumber(o.Partition[KafkaPartitionKey])
		if !ok || p < 0 || p > math.MaxInt32 {
			return nil, badRequest("Kafka partitions must contain a '%s' key with a non-negative integer value", KafkaPartitionKey)
		}
		tp := connect.TopicPartition{Topic: topic, Partition: int32(p)}
		if o.Offset == nil {
			out[tp] = nil
			continue
		}
		off, ok := wholeNumber(o.Offset[KafkaOffsetKey])
		if !ok || off < 0 {
			return nil, badRequest("Kafka offsets must contain a '%s' key with a non-negative integer value", KafkaOffsetKey)
		}
		out[tp] = &off
	}
	return out, nil
}

// wholeNumber reads a JSON number (float64 after decoding) or an integer.
func wholeNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) || x > math.MaxInt64 || x < math.MinInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	}
	return 0, false
}

// KafkaGroups is GroupOffsets over a Kafka admin client.
type KafkaGroups struct{ Admin *kadm.Client }

// Fetch implements GroupOffsets.
func (g KafkaGroups) Fetch(ctx context.Context, group string) (map[connect.TopicPartition]int64, error) {
	resps, err := g.Admin.FetchOffsets(ctx, group)
	if err == nil {
		err = resps.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		return map[connect.TopicPartition]int64{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[connect.TopicPartition]int64{}
	resps.Each(func(o kadm.OffsetResponse) {
		if o.At >= 0 {
			out[connect.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.At
		}
	})
	return out, nil
}

// Alter implements GroupOffsets.
func (g KafkaGroups) Alter(ctx context.Context, group string, offsets map[connect.TopicPartition]*int64) error {
	commit := kadm.Offsets{}
	del := kadm.TopicsSet{}
	for tp, off := range offsets {
		if off == nil {
			del.Add(tp.Topic, tp.Partition)
			continue
		}
		commit.Add(kadm.Offset{Topic: tp.Topic, Partition: tp.Partition, At: *off, LeaderEpoch: -1})
	}
	if len(commit) > 0 {
		resps, err := g.Admin.CommitOffsets(ctx, group, commit)
		if err == nil {
			err = resps.Error()
		}
		if err != nil {
			return err
		}
	}
	if len(del) > 0 {
		resps, err := g.Admin.DeleteOffsets(ctx, group, del)
		if errors.Is(err, kerr.GroupIDNotFound) {
			return nil
		}
		if err == nil {
			err = resps.Error()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Reset implements GroupOffsets.
func (g KafkaGroups) Reset(ctx context.Context, group string) error {
	_, err := g.Admin.DeleteGroup(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil
	}
	return err
}
