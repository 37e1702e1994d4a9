package kafka

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/store/embedded"
)

// TestFetchReusesReadBuffers consumes a topic whose batches all come from
// pebble (no tail cache), so every fetch's read hands its buffer back
// (store.ReadResult.Release) once the response is written and later reads,
// read-aheads included, take it again. Four consumers at once, with small
// fetches, check every record they get: a buffer handed back before its
// response was written would show as another batch's bytes.
func TestFetchReusesReadBuffers(t *testing.T) {
	st, err := embedded.Open(embedded.Options{Dir: t.TempDir(), TailCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServerOn(t, st)
	ts.createTopic(t, "reuse", 2)
	const records = 4000
	value := func(i int) string { return fmt.Sprintf("value-%06d-%s", i, string(make([]byte, 200+i%300))) }
	pr := ts.client(t, kgo.ProducerLinger(0), kgo.ProducerBatchMaxBytes(16<<10), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	for i := range records {
		pr.Produce(context.Background(), &kgo.Record{Topic: "reuse", Key: fmt.Appendf(nil, "%d", i), Value: []byte(value(i))}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := pr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			cl := ts.client(t, kgo.ConsumeTopics("reuse"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
				kgo.FetchMaxPartitionBytes(int32(8<<10*(c+1))), kgo.FetchMaxBytes(64<<10))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			seen := 0
			for seen < records {
				fs := cl.PollFetches(ctx)
				if err := ctx.Err(); err != nil {
					t.Errorf("consumer %d: %d of %d records: %v", c, seen, records, err)
					return
				}
				fs.EachError(func(topic string, p int32, err error) { t.Errorf("consumer %d: %s-%d: %v", c, topic, p, err) })
				fs.EachRecord(func(r *kgo.Record) {
					var i int
					if _, err := fmt.Sscanf(string(r.Key), "%d", &i); err != nil || string(r.Value) != value(i) {
						t.Errorf("consumer %d: partition %d offset %d: key %q holds a value of %d bytes starting %.13q", c, r.Partition, r.Offset, r.Key, len(r.Value), r.Value)
					}
					seen++
				})
			}
		})
	}
	wg.Wait()
}
