package runtime

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Why an exactly-once task waits for its producer's metadata before ending
// a transaction.
//
// franz-go (v1.22.3) hands the records buffered for a topic it has just
// learned to that topic's partitions before it publishes the partitions in
// its producer metadata (storePartitionsUpdate: doPartition, then the
// store). Every EndTxn under KIP-890 part 2, and every producer ID reload,
// bumps the epoch and resets the sequence numbers of the partitions it
// finds published (resetAllProducerSequences). When the metadata goroutine
// is descheduled between the two steps while the records are acknowledged,
// flushed and the transaction ended, the reset misses the new topic's
// partitions: the next transaction writes them under the new epoch at the
// old sequence, and the broker (Kafka's as ours) answers
// OUT_OF_ORDER_SEQUENCE_NUMBER, which fails the task. It happens to the
// offsets topic, first written at the end of a task's first transaction,
// about once in a few hundred task starts on a loaded machine.
//
// The wait is almost always nothing: an acknowledged record's topic is one
// store away from being published.

// metadataWait bounds the wait for one topic, in case it is never listed
// or its partition 0 has no leader to report (the transaction then ends as
// it would have).
const metadataWait = time.Second

// awaitProducerMetadata returns once the producer's metadata lists every
// topic the task has written to, or when ctx is done. A topic not listed
// within metadataWait (one whose records all failed) is waited for once.
func (r *exactlyOnceSourceRunner) awaitProducerMetadata(ctx context.Context) {
	await := func(topic string) {
		if !r.published[topic] && (publishedWithin(ctx, r.cl, topic, metadataWait) || ctx.Err() == nil) {
			r.published[topic] = true
		}
	}
	for topic := range r.topics {
		await(topic)
	}
	for topic := range r.published {
		await(topic)
	}
}

// writingOffsetsTo notes that the transaction writes offsets to topic.
func (r *exactlyOnceSourceRunner) writingOffsetsTo(topic string) {
	if _, ok := r.published[topic]; !ok {
		r.published[topic] = false
	}
}

// publishedWithin polls cl's producer metadata for topic; PartitionLeader
// reads the same published partitions the sequence reset walks.
func publishedWithin(ctx context.Context, cl *kgo.Client, topic string, limit time.Duration) bool {
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
