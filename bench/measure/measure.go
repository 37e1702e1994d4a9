// Package measure holds what the `bridge bench` load generators measure
// alike: rates, the CPU time of the processes under load (the figure a
// shared machine disturbs least: time other processes take is not counted
// in it), waiting for a server to go idle between phases, and medians of
// repeated runs.
package measure

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// MBps is bytes per second in MB/s (2^20 bytes), 0 for no time.
func MBps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / (1 << 20) / d.Seconds()
}

// PerSec is n per second, 0 for no time.
func PerSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// CPUPerMB is CPU milliseconds per MB (10^6 bytes) moved; negative when
// the CPU time is unknown (negative) or nothing moved.
func CPUPerMB(seconds float64, bytes int64) float64 {
	if seconds < 0 || bytes == 0 {
		return -1
	}
	return seconds * 1e3 / (float64(bytes) / 1e6)
}

// CPUSince reads a process's CPU time now (cpu, as ProcessCPU returns) and
// returns a function that gives the CPU seconds spent since, or -1 when it
// cannot be known (cpu nil or failing).
func CPUSince(cpu func() (float64, error)) (since func() float64) {
	unknown := func() float64 { return -1 }
	if cpu == nil {
		return unknown
	}
	before, err := cpu()
	if err != nil {
		return unknown
	}
	return func() float64 {
		after, err := cpu()
		if err != nil {
			return -1
		}
		return after - before
	}
}

// Idle means using under idleShare of a core over idleWindow; WaitIdle
// gives up waiting after idleMaxWait.
const (
	idleWindow  = 250 * time.Millisecond
	idleShare   = 0.05
	idleMaxWait = time.Minute
)

// WaitIdle waits until the server's CPU use over a window drops under 5%
// of a core, so that work a server defers after acknowledging writes
// (flushes, compactions, garbage collection) is charged to the write phase
// and does not slow the read phase, as when a read benchmark reads data
// written earlier. A server that never settles is waited for a minute,
// then the run goes on; an unknown CPU time (nil cpu) is not waited for.
func WaitIdle(ctx context.Context, cpu func() (float64, error)) error {
	if cpu == nil {
		return nil
	}
	deadline := time.Now().Add(idleMaxWait)
	prev, err := cpu()
	if err != nil {
		return nil
	}
	t := time.NewTimer(idleWindow)
	defer t.Stop()
	for time.Now().Before(deadline) {
		t.Reset(idleWindow)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		now, err := cpu()
		if err != nil {
			return nil
		}
		if now-prev < idleShare*idleWindow.Seconds() {
			return nil
		}
		prev = now
	}
	return nil
}

// Median returns the median of values (the mean of the middle two for an
// even count), 0 for none. values is not changed.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	v := slices.Clone(values)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// MedianOf returns the median of f over runs: one figure of repeated runs.
func MedianOf[R any](runs []R, f func(R) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	return Median(v)
}

// Payloads returns a few distinct values of size n: random upper-case
// letters, like Kafka's own perf tool, so compression has something to do
// without the data being trivially compressible.
func Payloads(n int) [][]byte {
	out := make([][]byte, 16)
	for i := range out {
		b := make([]byte, n)
		for j := range b {
			b[j] = 'A' + byte(rand.IntN(26))
		}
		out[i] = b
	}
	return out
}

// DistinctPayloads returns count values of size n, all different: random
// upper-case letters in one buffer. Unlike Payloads' few values, which a
// producer reads from its cache and compresses by ~15x as they repeat in
// every batch, these make every byte cost memory traffic and leave little
// for an LZ compressor: data that does not repeat, as most data does not.
func DistinctPayloads(count, n int) [][]byte {
	buf := make([]byte, count*n)
	for i := 0; i < len(buf); i += 8 {
		v := rand.Uint64()
		for j := i; j < min(i+8, len(buf)); j++ {
			buf[j] = 'A' + byte(v%26)
			v /= 26
		}
	}
	out := make([][]byte, count)
	for i := range out {
		out[i] = buf[i*n : (i+1)*n : (i+1)*n]
	}
	return out
}

// Percentile returns the q-quantile (0 < q <= 1) of sorted by the
// nearest-rank method, 0 for none.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Progress prints to w, every period, how many records counter says a
// phase has moved so far and at what rate (records of size bytes), until
// the returned stop is called. A nil w prints nothing.
func Progress(w io.Writer, every time.Duration, phase string, counter *atomic.Int64, size int) (stop func()) {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				n := counter.Load()
				el := time.Since(start)
				fmt.Fprintf(w, "  %s: %d records, %.1f MB/s, %s\n", phase, n, MBps(n*int64(size), el), el.Round(time.Second))
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
