package itest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// An idempotent producer (franz-go's default) whose connections are cut in
// the middle of a stream ends with exactly one copy of every record, in
// order, at the offsets it was acknowledged with. The producer talks through
// a proxy that both swallows Produce responses (the server wrote the batch,
// the client never hears it and retries it: only the server's dedup window
// prevents a duplicate) and closes every connection at random moments
// (requests lost in flight, half-written, or answered after the cut).
func TestKafkaIdempotentProducerSurvivesCuts(t *testing.T) {
	k := startKafka(t)
	const topic = "idempotent"
	k.createTopic(topic, 3, nil)
	proxy := newCutProxy(t, func() string { return k.addr })

	cl, err := kgo.NewClient(kgo.SeedBrokers(proxy.addr()), dialVia(proxy.addr()),
		kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(0),
		kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	const n = 3000
	const keys = 7
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()

	var mu sync.Mutex
	acked := make([]rec, n)
	var errs []error
	var wg sync.WaitGroup
	// Every 100 acknowledgements, alternately arm the proxy to swallow the
	// next Produce response (twice) or cut every connection (once), so the
	// interventions are spread over the whole stream.
	ackCount, interventions := 0, 0
	intervene := func() {
		ackCount++
		if ackCount%100 != 0 {
			return
		}
		if interventions%3 == 2 {
			proxy.cut()
		} else {
			proxy.dropProduceResponses(1)
		}
		interventions++
	}
	for i := 0; i < n; i++ {
		r := &kgo.Record{
			Key:   []byte("k" + strconv.Itoa(i%keys)),
			Value: []byte(fmt.Sprintf("idem-%05d %s", i, strings.Repeat("x", i%200))),
		}
		wg.Add(1)
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			acked[i] = fromKgo(r)
			intervene()
		})
		if i%50 == 49 {
			time.Sleep(20 * time.Millisecond) // spread the stream over the cuts
		}
	}
	waitOrFail(t, &wg, kafkaTimeout, "produce promises")
	if len(errs) > 0 {
		t.Fatalf("%d records failed, first: %v", len(errs), errs[0])
	}
	dropped, cuts := proxy.stats()
	t.Logf("%d records; %d Produce responses swallowed after the server wrote the batch; %d times all connections cut", n, dropped, cuts)
	if dropped == 0 {
		t.Fatal("no Produce response was swallowed: the test did not exercise retries of written batches")
	}

	// Read back directly, not through the proxy.
	wants := map[string]want{}
	for _, r := range acked {
		wants[recID(r)] = want{rec: r}
	}
	got := kgoConsume(t, k.addr, topic, k.endOffsets(topic))
	compareRecs(t, "read back", wants, got)

	// Per key, records are in produce order (the offsets are dense and
	// match the acks, checked above; this checks the order of the acks).
	lastSeq := map[string]int{}
	for _, r := range got {
		seq, _ := strconv.Atoi(strings.TrimPrefix(recID(r), "idem-"))
		if prev, ok := lastSeq[string(r.Key)]; ok && seq <= prev {
			t.Errorf("key %s: record %d stored after %d", r.Key, seq, prev)
		}
		lastSeq[string(r.Key)] = seq
	}
	for p, end := range k.endOffsets(topic) {
		var count int64
		for _, r := range got {
			if r.Partition == p {
				count++
			}
		}
		if count != end {
			t.Errorf("partition %d: %d records below high watermark %d (a hole or a duplicate)", p, count, end)
		}
	}
}
