package sqs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/store"
)

// Queues are streams (ARCHITECTURE.md, "Queues"). A queue's attributes,
// tags and timestamps live in its stream's Config under the keys below, so
// they are durable with it and a Kafka DescribeConfigs shows them; its
// MessageRetentionPeriod is the stream's retention, which the store
// enforces for Kafka and SQS readers alike.
const (
	cfgQueue        = "sqs.queue"    // "true" on a stream that is a queue
	cfgAttr         = "sqs.attr."    // + attribute name
	cfgTag          = "sqs.tag."     // + tag key
	cfgCreated      = "sqs.created"  // Unix seconds
	cfgModified     = "sqs.modified" // Unix seconds
	queuePartitions = 1              // of a queue made by CreateQueue
)

// errNotQueue: the stream exists but is not a queue.
var errNotQueue = errors.New("stream is not a queue")

// isQueue reports whether a stream is a queue.
func isQueue(st store.Stream) bool { return st.Config[cfgQueue] == "true" }

// queueAttributes returns a queue's settable attributes.
func queueAttributes(st store.Stream) map[string]string {
	out := map[string]string{}
	for k, v := range st.Config {
		if name, ok := strings.CutPrefix(k, cfgAttr); ok {
			out[name] = v
		}
	}
	return out
}

// queueTags returns a queue's tags.
func queueTags(st store.Stream) map[string]string {
	out := map[string]string{}
	for k, v := range st.Config {
		if key, ok := strings.CutPrefix(k, cfgTag); ok {
			out[key] = v
		}
	}
	return out
}

// createQueue makes name a queue with attrs (checked, without defaults) and
// tags, as CreateQueue does: a queue of that name with the same attributes
// is returned as it is (tags aside, as in SQS); one with other attributes
// is refused with ErrQueueNameExists, naming the first attribute that
// differs. A stream of that name that is not a
// queue becomes one, its retained records its messages.
func createQueue(ctx context.Context, s store.Streams, name string, attrs, tags map[string]string, now time.Time) (store.Stream, error) {
	fifo, err := checkQueueName(name)
	if err != nil {
		return store.Stream{}, err
	}
	want := withDefaults(attrs, fifo)
	retention, err := retentionOf(want)
	if err != nil {
		return store.Stream{}, err
	}
	mark := func(st *store.Stream, adopting bool) {
		if st.Config == nil {
			st.Config = map[string]string{}
		}
		st.Config[cfgQueue] = "true"
		if _, given := attrs[attrMessageRetentionPeriod]; adopting && !given {
			// A topic keeps its retention; the attribute shows the nearest
			// value SQS can express.
			want[attrMessageRetentionPeriod] = strconv.FormatInt(retentionSeconds(st.Retention), 10)
		} else {
			st.Retention = retention
		}
		for k, v := range want {
			st.Config[cfgAttr+k] = v
		}
		if key, given := want[attrKmsMasterKeyID]; given {
			st.Encryption.KeyID = key // SSE-KMS: the store encrypts
		}
		for k, v := range tags {
			st.Config[cfgTag+k] = v
		}
		stamp := strconv.FormatInt(now.Unix(), 10)
		st.Config[cfgCreated], st.Config[cfgModified] = stamp, stamp
	}
	for {
		st, err := s.DescribeStream(ctx, name)
		switch {
		case errors.Is(err, store.ErrStreamNotFound):
			proto := store.Stream{}
			mark(&proto, false)
			st, err = s.CreateStream(ctx, store.StreamConfig{Name: name, ShardCount: queuePartitions, Retention: proto.Retention, Encryption: proto.Encryption, Config: proto.Config})
			if errors.Is(err, store.ErrStreamExists) {
				continue // made meanwhile: look again
			}
			return st, err
		case err != nil:
			return store.Stream{}, err
		case isQueue(st):
			if attr := firstDifference(queueAttributes(st), want); attr != "" {
				return store.Stream{}, newError(ErrQueueNameExists, "A queue already exists with the same name and a different value for attribute %s", attr)
			}
			return st, nil
		}
		return s.UpdateStream(ctx, name, func(st *store.Stream) error {
			if isQueue(*st) {
				return fmt.Errorf("%w: %s became a queue meanwhile", store.ErrStreamExists, name)
			}
			mark(st, true)
			return nil
		})
	}
}

// setQueueAttributes changes a queue's attributes (checked already).
func setQueueAttributes(ctx context.Context, s store.Streams, name string, attrs map[string]string, now time.Time) error {
	_, err := s.UpdateStream(ctx, name, func(st *store.Stream) error {
		if !isQueue(*st) {
			return errNotQueue
		}
		if _, ok := attrs[attrMessageRetentionPeriod]; ok {
			retention, err := retentionOf(attrs)
			if err != nil {
				return err
			}
			st.Retention = retention
		}
		for k, v := range attrs {
			st.Config[cfgAttr+k] = v
		}
		if key, given := attrs[attrKmsMasterKeyID]; given {
			st.Encryption.KeyID = key // "" turns SSE-KMS off
		}
		st.Config[cfgModified] = strconv.FormatInt(now.Unix(), 10)
		return nil
	})
	return err
}

// retentionOf is a queue's MessageRetentionPeriod as a store retention.
func retentionOf(attrs map[string]string) (time.Duration, error) {
	secs, err := strconv.ParseInt(attrs[attrMessageRetentionPeriod], 10, 64)
	if err != nil {
		return 0, invalidAttribute(attrMessageRetentionPeriod)
	}
	return time.Duration(secs) * time.Second, nil
}

// retentionSeconds is a stream retention as the nearest
// MessageRetentionPeriod (60 s to 14 days; forever is 14 days).
func retentionSeconds(r time.Duration) int64 {
	const lo, hi = 60, 1209600
	if r <= 0 {
		return hi
	}
	return min(max(int64(r/time.Second), lo), hi)
}

// firstDifference returns the first attribute, in name order, whose value
// differs between two sets; "" when they are the same.
func firstDifference(a, b map[string]string) string {
	names := slices.Sorted(maps.Keys(a))
	for name := range b {
		if _, ok := a[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if a[name] != b[name] {
			return name
		}
	}
	return ""
}
