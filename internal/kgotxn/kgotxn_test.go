package kgotxn

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/internal/kafkatest"
)

// AwaitProducerTopic relies on PartitionLeader reading the producer's
// published partitions: false for a topic the producer has not learned,
// true once it produced to it, in a transaction as the callers do.
func TestAwaitProducerTopic(t *testing.T) {
	addr := kafkatest.Start(t, 3)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("await"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if AwaitProducerTopic(ctx, cl, "t", 10*time.Millisecond) {
		t.Fatal("a topic the producer never wrote to is listed")
	}
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if !AwaitProducerTopic(ctx, cl, "t", 10*time.Second) {
		t.Fatal("the topic the transaction wrote to is not listed")
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if AwaitProducerTopic(ctx, cl, "other", 10*time.Millisecond) {
		t.Fatal("a topic the producer never wrote to is listed after a commit")
	}
}
