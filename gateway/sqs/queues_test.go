package sqs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

func TestCreateQueue(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Unix(1_796_000_000, 0)

	st, err := createQueue(ctx, s, "jobs", map[string]string{"VisibilityTimeout": "60"}, map[string]string{"team": "a"}, now)
	if err != nil {
		t.Fatal(err)
	}
	attrs := queueAttributes(st)
	if !isQueue(st) || attrs["VisibilityTimeout"] != "60" || attrs["DelaySeconds"] != "0" || queueTags(st)["team"] != "a" {
		t.Fatalf("new queue: %v", st.Config)
	}
	if st.Retention != 345600*time.Second || len(st.Partitions) != queuePartitions {
		t.Fatalf("new queue's stream: retention %v, %d partitions", st.Retention, len(st.Partitions))
	}

	// The same attributes (defaults spelled out or not) give the same queue;
	// another value is refused, naming the attribute.
	for _, same := range []map[string]string{{"VisibilityTimeout": "60"}, {"VisibilityTimeout": "60", "DelaySeconds": "0"}} {
		if _, err := createQueue(ctx, s, "jobs", same, nil, now.Add(time.Hour)); err != nil {
			t.Fatalf("CreateQueue again with %v: %v", same, err)
		}
	}
	var exists *Error
	if _, err := createQueue(ctx, s, "jobs", nil, nil, now); !errors.As(err, &exists) || !errors.Is(err, ErrQueueNameExists) ||
		exists.Message != "A queue already exists with the same name and a different value for attribute VisibilityTimeout" {
		t.Fatalf("CreateQueue with the default visibility: %v, want QueueAlreadyExists on VisibilityTimeout", err)
	}
	if _, err := createQueue(ctx, s, "bad name", nil, nil, now); !errors.Is(err, errQueueName) {
		t.Fatalf("a bad name: %v", err)
	}

	// A Kafka topic becomes a queue: its records are the queue's messages,
	// and it keeps its retention (a week here), shown as SQS's nearest.
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "orders", ShardCount: 3, Retention: 7 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	st, err = createQueue(ctx, s, "orders", nil, nil, now)
	if err != nil || !isQueue(st) || len(st.Partitions) != 3 {
		t.Fatalf("adopting a topic: %+v %v", st, err)
	}
	if st.Retention != 7*24*time.Hour || queueAttributes(st)["MessageRetentionPeriod"] != "604800" {
		t.Fatalf("adopted topic: retention %v, MessageRetentionPeriod %s", st.Retention, queueAttributes(st)["MessageRetentionPeriod"])
	}
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "forever", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	if st, _ := createQueue(ctx, s, "forever", nil, nil, now); st.Retention != 0 || queueAttributes(st)["MessageRetentionPeriod"] != "1209600" {
		t.Fatalf("adopted topic without retention: %v %s", st.Retention, queueAttributes(st)["MessageRetentionPeriod"])
	}
	fifo, err := createQueue(ctx, s, "jobs.fifo", map[string]string{"ContentBasedDeduplication": "true"}, nil, now)
	if err != nil || queueAttributes(fifo)["FifoQueue"] != "true" {
		t.Fatalf("FIFO queue: %v %v", fifo.Config, err)
	}

	if err := setQueueAttributes(ctx, s, "jobs", map[string]string{"MessageRetentionPeriod": "60"}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	st, _ = s.DescribeStream(ctx, "jobs")
	if st.Retention != time.Minute || st.Config[cfgModified] == st.Config[cfgCreated] {
		t.Fatalf("after SetQueueAttributes: retention %v, created %s modified %s", st.Retention, st.Config[cfgCreated], st.Config[cfgModified])
	}
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "topic", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	if err := setQueueAttributes(ctx, s, "topic", map[string]string{"DelaySeconds": "1"}, now); !errors.Is(err, errNotQueue) {
		t.Fatalf("SetQueueAttributes on a topic: %v", err)
	}
}
