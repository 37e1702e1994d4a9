package runtime

import (
	"context"
	"time"

	"github.com/streambridge/bridge/internal/kgotxn"
)

// metadataWait bounds the wait for one topic, in case it is never listed
// or its partition 0 has no leader to report (the transaction then ends as
// it would have).
const metadataWait = time.Second

// awaitProducerMetadata returns once the producer's metadata lists every
// topic the task has written to, or when ctx is done (see package kgotxn:
// without it, a task whose first transaction ended a moment after its
// producer learned the offsets topic failed its second with
// OUT_OF_ORDER_SEQUENCE_NUMBER, about once in a few hundred task starts on
// a loaded machine). A topic not listed within metadataWait (one whose
// records all failed) is waited for once.
func (r *exactlyOnceSourceRunner) awaitProducerMetadata(ctx context.Context) {
	await := func(topic string) {
		if !r.published[topic] && (kgotxn.AwaitProducerTopic(ctx, r.cl, topic, metadataWait) || ctx.Err() == nil) {
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
