package sqs

// A queue worked from Kafka. Kafka consumers read a queue's topic like any
// topic; SQS state hides nothing from them. A queue tagged
// streambridge:kafka-group=G is also worked by consumer group G: what G
// commits counts as deleted for SQS receivers (committing offset N of a
// partition deletes the messages below N), so Kafka workers and SQS
// receivers can share the queue's work, each message done once by either
// (at least once, as SQS itself). The commits are read where the Kafka
// front end keeps them (internal/groupoffsets) before each receive and
// each count.

import (
	"context"
	"errors"

	"github.com/streambridge/bridge/internal/groupoffsets"
	"github.com/streambridge/bridge/store"
)

// TagKafkaGroup is the queue tag that names the Kafka consumer group whose
// commits delete messages.
const TagKafkaGroup = "streambridge:kafka-group"

// applyGroupCommits deletes, in every partition of t, the messages below
// the offset its Kafka group committed. A commit older than the queue's
// stream is another topic's of the same name, and is ignored.
func (h *Handler) applyGroupCommits(ctx context.Context, t *target) error {
	group := t.st.Config[cfgTag+TagKafkaGroup]
	if group == "" {
		return nil
	}
	for _, p := range t.q.parts {
		v, err := h.store.Get(ctx, groupoffsets.Namespace, groupoffsets.Key(group, t.name, p.partition))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		c, err := groupoffsets.Decode(v)
		if err != nil {
			h.log.Warn("sqs: unreadable committed offset; ignored", "queue", t.name, "group", group, "partition", p.partition, "err", err)
			continue
		}
		if c.CommitMs < t.st.Created.UnixMilli() {
			continue
		}
		if err := p.deleteBelow(ctx, c.Offset); err != nil {
			return err
		}
	}
	return nil
}

// deleteBelow deletes every message below offset, durably.
func (q *partitionQueue) deleteBelow(ctx context.Context, offset int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errNoQueue
	}
	if offset <= q.index.cursor {
		return nil
	}
	before := q.index.cursor
	q.index.trimmed(offset)
	if writes := q.cursorWrites(before); len(writes) > 0 {
		return q.store.Update(ctx, writes...)
	}
	return nil
}
