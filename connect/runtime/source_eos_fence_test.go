package runtime

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A producer fenced by FenceProducers cannot commit; the next producer with
// the same transactional id writes and commits, with its own
// initialization after the fence (Kafka's fenceProducers then
// initTransactions), to every partition the fenced one wrote.
func TestFenceProducers(t *testing.T) {
	addr := startKafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	newProducer := func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("fence-me"), kgo.AllowAutoTopicCreation(),
			kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	produce := func(cl *kgo.Client, round int) error {
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
		for p := range int32(3) {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "fenced", Partition: p, Value: fmt.Appendf(nil, "%d", round)}).FirstErr(); err != nil {
				return err
			}
		}
		return nil
	}
	for round := range 5 {
		old := newProducer()
		if err := produce(old, round); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		// The old producer's transaction is open; fence it.
		if err := FenceProducers(ctx, old, []string{"fence-me"}); err != nil {
			t.Fatalf("round %d: fencing: %v", round, err)
		}
		if err := old.EndTransaction(ctx, kgo.TryCommit); err == nil {
			t.Fatalf("round %d: a fenced producer committed", round)
		}
		cur := newProducer()
		if _, _, err := cur.ProducerID(ctx); err != nil {
			t.Fatal(err)
		}
		if err := produce(cur, round); err != nil {
			t.Fatalf("round %d: the producer after the fence: %v", round, err)
		}
		if err := cur.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatalf("round %d: commit after the fence: %v", round, err)
		}
	}
}
