package itest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Everything acknowledged with acks=all survives a SIGKILL of the bridge:
// producers write to several partitions, the bridge is killed with -9 in the
// middle of the stream, restarted on the same data dir, and every record
// that was acknowledged is read back at the offset it was acknowledged with,
// identical in key, value, headers and timestamp. Records whose
// acknowledgement was lost may be there or not, but nothing is there twice
// and no partition has a hole. Three rounds, each on top of the last.
// Both --fsync modes: under os the bridge's background fsyncs are an hour
// apart, so what survives is what was written to the kernel before the
// acknowledgement.
func TestKafkaAckedWritesSurviveSIGKILL(t *testing.T) {
	for _, tc := range []struct {
		mode string
		args []string
	}{
		{"always", []string{"--fsync", "always"}},
		{"os", []string{"--fsync", "os", "--fsync-interval", "1h"}},
	} {
		t.Run(tc.mode, func(t *testing.T) { testKafkaAckedWritesSurviveSIGKILL(t, tc.args) })
	}
}

func testKafkaAckedWritesSurviveSIGKILL(t *testing.T, serveArgs []string) {
	needsBridge(t)
	k := startKafka(t, serveArgs...)
	const topic = "durable"
	k.createTopic(topic, 3, nil)

	acked := map[string]want{}
	for round := 0; round < 3; round++ {
		killAfter := 300 + rand.IntN(1200) // acknowledgements before the kill
		var mu sync.Mutex
		roundAcks := 0
		enough := make(chan struct{})
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(context.Background())

		// Two producers at once, so the kill lands among concurrent appends.
		var clients []*kgo.Client
		for p := 0; p < 2; p++ {
			cl, err := kgo.NewClient(kgo.SeedBrokers(k.addr), kgo.DefaultProduceTopic(topic),
				kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			clients = append(clients, cl)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					id := fmt.Sprintf("r%d-p%d-%06d", round, p, i)
					r := rec{
						Key:       []byte(fmt.Sprintf("key-%d", i%11)),
						Value:     []byte(id + " " + strings.Repeat("d", i%500)),
						Headers:   []header{{"id", []byte(id)}},
						Timestamp: time.Now().UnixMilli(),
					}
					wg.Add(1)
					cl.Produce(ctx, kgoRecord(topic, r), func(kr *kgo.Record, err error) {
						defer wg.Done()
						if err != nil {
							return // not acknowledged: may or may not be stored
						}
						mu.Lock()
						defer mu.Unlock()
						acked[id] = want{rec: fromKgo(kr)}
						roundAcks++
						if roundAcks == killAfter {
							close(enough)
						}
					})
					if i%200 == 199 {
						time.Sleep(5 * time.Millisecond)
					}
				}
			}()
		}
		select {
		case <-enough:
		case <-time.After(kafkaTimeout):
			cancel()
			t.Fatalf("round %d: only %d acknowledgements in %v", round, roundAcks, kafkaTimeout)
		}
		k.kill9()
		cancel()
		for _, cl := range clients {
			cl.Close() // fails what is still buffered or in flight
		}
		waitOrFail(t, &wg, kafkaTimeout, "producers after the kill")
		mu.Lock()
		t.Logf("round %d: killed after %d acknowledgements (%d in all)", round, roundAcks, len(acked))
		mu.Unlock()

		k.restart()
		ends := k.endOffsets(topic)
		got := kgoConsume(t, k.addr, topic, ends)
		// Unacknowledged records that made it are allowed: add them as
		// wants (once) so compareRecs checks the rest strictly.
		wants := map[string]want{}
		for id, w := range acked {
			wants[id] = w
		}
		for _, r := range got {
			if _, ok := wants[recID(r)]; !ok {
				wants[recID(r)] = want{rec: r}
			}
		}
		compareRecs(t, fmt.Sprintf("round %d after SIGKILL and restart", round), wants, got)
		for p, end := range ends {
			var n int64
			for _, r := range got {
				if r.Partition == p {
					n++
				}
			}
			if n != end {
				t.Errorf("round %d: partition %d has %d records below its high watermark %d", round, p, n, end)
			}
		}
		if t.Failed() {
			return
		}
	}
}
