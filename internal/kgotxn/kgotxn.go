// Package kgotxn works around a gap in franz-go's transactional producer:
// ending a transaction right after the producer learned a topic.
//
// franz-go (v1.22.3) hands the records it buffered for a topic it has just
// learned to that topic's partitions before it publishes the partitions in
// its producer metadata (storePartitionsUpdate: doPartition, then the
// store). Every EndTxn under KIP-890 part 2, and every producer ID reload,
// bumps the epoch and resets the sequence numbers of the partitions it
// finds published (resetAllProducerSequences). When the metadata goroutine
// is descheduled between the two steps while the records are acknowledged,
// flushed and the transaction ended, the reset misses the new topic's
// partitions: the next transaction writes them under the new epoch at the
// old sequence, and the broker (Kafka's as the bridge's) answers
// OUT_OF_ORDER_SEQUENCE_NUMBER. Waiting before EndTransaction until the
// producer lists every topic the transaction wrote closes the window; the
// wait is almost always nothing, since an acknowledged record's topic is
// one store away from being published.
package kgotxn

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// AwaitProducerTopic reports whether cl's producer metadata lists topic,
// polling until it does, limit has passed or ctx is done. PartitionLeader
// reads the same published partitions the sequence reset walks.
func AwaitProducerTopic(ctx context.Context, cl *kgo.Client, topic string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		if leader, _, _ := cl.PartitionLeader(topic, 0); leader >= 0 {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(100 * time.Microsecond)
	}
}
