package http

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
)

// TestRandomFailures sends records of two partitions through an endpoint
// that fails requests at random (500, 429, connection reset) and refuses
// random records, with random batch sizes and Put sizes: the endpoint must
// accept every good record exactly once, in order, and the bad ones must be
// reported, in order.
func TestRandomFailures(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			var script []string
			for range 200 {
				script = append(script, []string{"", "", "", "500", "429", "reset"}[rng.IntN(6)])
			}
			ep := newEndpoint(t, script...)
			sc := &connecttest.SinkContext{Tolerate: true}
			var waits []time.Duration
			tk := startTask(t, sc, connect.Config{
				URLConfig: ep.srv.URL, MaxRetriesConfig: "1000", RetryBackoffConfig: "1",
				BatchMaxSizeConfig: fmt.Sprint(1 + rng.IntN(8)),
			}, &waits)

			tps := []connect.TopicPartition{{Topic: "a", Partition: 0}, {Topic: "b", Partition: 3}}
			next := []int64{0, 1000}
			var good []float64
			var bad []int64
			var all []connect.Record
			for range 120 {
				p := rng.IntN(2)
				isBad := rng.IntN(5) == 0
				rec := records(tps[p], next[p], 1, func(int) bool { return isBad })[0]
				next[p]++
				all = append(all, rec)
				if isBad {
					bad = append(bad, rec.Offset)
				} else {
					good = append(good, float64(rec.Offset))
				}
			}
			for len(all) > 0 {
				n := min(len(all), 1+rng.IntN(10))
				if err := tk.Put(context.Background(), all[:n]); err != nil {
					t.Fatal(err)
				}
				all = all[n:]
				if rng.IntN(3) == 0 {
					if _, err := tk.PreCommit(context.Background(), nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			offsets, err := tk.PreCommit(context.Background(), map[connect.TopicPartition]int64{tps[0]: next[0], tps[1]: next[1]})
			if err != nil || offsets[tps[0]] != next[0] || offsets[tps[1]] != next[1] {
				t.Fatalf("PreCommit = %v, %v", offsets, err)
			}
			if got := ep.delivered(); !slices.Equal(got, good) {
				t.Fatalf("delivered %v\nwant      %v", got, good)
			}
			var reported []int64
			for _, r := range sc.Reported {
				reported = append(reported, r.Record.Offset)
			}
			if !slices.Equal(reported, bad) {
				t.Fatalf("reported %v, want %v", reported, bad)
			}
		})
	}
}
