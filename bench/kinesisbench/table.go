package kinesisbench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/streambridge/bridge/bench/measure"
)

// Median combines the results of repeated runs against one target: each
// figure is the median of that figure over the runs (so a row of the table
// may come from different runs), which keeps one disturbed run from
// deciding a comparison.
func Median(runs []Result) Result {
	if len(runs) == 0 {
		return Result{}
	}
	med := func(f func(Result) float64) float64 { return measure.MedianOf(runs, f) }
	dur := func(f func(Result) time.Duration) time.Duration {
		return time.Duration(med(func(r Result) float64 { return float64(f(r)) }))
	}
	count := func(f func(Result) int64) int64 {
		return int64(med(func(r Result) float64 { return float64(f(r)) }) + 0.5)
	}
	out := runs[0]
	// Rates are kept by fixing the counts at the first run's and scaling
	// the times to the median rates.
	if rate := med(Result.PutRecsPerS); rate > 0 {
		out.PutTime = time.Duration(float64(out.PutRecords) / rate * float64(time.Second))
	}
	if rate := med(Result.GetRecsPerS); rate > 0 {
		out.GetTime = time.Duration(float64(out.GetRecords) / rate * float64(time.Second))
	}
	out.LatencyP50 = dur(func(r Result) time.Duration { return r.LatencyP50 })
	out.LatencyP99 = dur(func(r Result) time.Duration { return r.LatencyP99 })
	out.LatencyMax = dur(func(r Result) time.Duration { return r.LatencyMax })
	out.PutCalls = count(func(r Result) int64 { return r.PutCalls })
	out.PutRetries = count(func(r Result) int64 { return r.PutRetries })
	out.PutThrottled = count(func(r Result) int64 { return r.PutThrottled })
	out.GetCalls = count(func(r Result) int64 { return r.GetCalls })
	out.GetRetries = count(func(r Result) int64 { return r.GetRetries })
	// CPU seconds are kept per MB, as the rates are.
	if cpu := med(Result.PutCPUPerMB); cpu >= 0 {
		out.PutServerCPU = cpu / 1e3 * float64(out.PutBytes) / 1e6
	}
	if cpu := med(Result.GetCPUPerMB); cpu >= 0 {
		out.GetServerCPU = cpu / 1e3 * float64(out.GetBytes) / 1e6
	}
	if cpu := med(Result.PutClientCPUPerMB); cpu >= 0 {
		out.PutClientCPU = cpu / 1e3 * float64(out.PutBytes) / 1e6
	}
	if cpu := med(Result.GetClientCPUPerMB); cpu >= 0 {
		out.GetClientCPU = cpu / 1e3 * float64(out.GetBytes) / 1e6
	}
	return out
}

// WriteTable prints results side by side, then for each result after the
// first a column with the first over it: for rates above 1 means the first
// is faster; for latency and CPU per MB above 1 means the first is slower
// or costlier. Server CPU rows appear when some result has them.
func WriteTable(w io.Writer, cfg Config, results ...Result) error {
	if len(results) == 0 {
		return nil
	}
	var b strings.Builder
	first := results[0]
	fmt.Fprintf(&b, "%d records of %d bytes, %d shards written, %d producers, PutRecords batches of %d, GetRecords limit %d\n\n",
		first.PutRecords, cfg.RecordSize, first.Shards, cfg.Producers, cfg.Batch, orDefault(cfg.Limit, MaxGetRecordsLimit))
	width := 14
	for _, r := range results {
		width = max(width, len(r.Target)+2)
	}
	ratioWidth := 16
	for _, r := range results[1:] {
		ratioWidth = max(ratioWidth, len(first.Target)+len(r.Target)+3)
	}
	fmt.Fprintf(&b, "%-24s", "")
	for _, r := range results {
		fmt.Fprintf(&b, "%*s", width, r.Target)
	}
	for _, r := range results[1:] {
		fmt.Fprintf(&b, "%*s", ratioWidth, first.Target+"/"+r.Target)
	}
	b.WriteString("\n")
	// Negative figures are unknown ones (server CPU of a server that is
	// not on this machine).
	row := func(name string, f func(Result) float64, format string, ratio bool) {
		fmt.Fprintf(&b, "%-24s", name)
		for _, r := range results {
			if v := f(r); v >= 0 {
				fmt.Fprintf(&b, "%*s", width, fmt.Sprintf(format, v))
			} else {
				fmt.Fprintf(&b, "%*s", width, "-")
			}
		}
		for _, r := range results[1:] {
			if d := f(r); ratio && d > 0 && f(first) >= 0 {
				fmt.Fprintf(&b, "%*.2f", ratioWidth, f(first)/d)
			} else {
				fmt.Fprintf(&b, "%*s", ratioWidth, "-")
			}
		}
		b.WriteString("\n")
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	n := func(f func(Result) int64) func(Result) float64 {
		return func(r Result) float64 { return float64(f(r)) }
	}
	row("put MB/s", Result.PutMBps, "%.1f", true)
	row("put records/s", Result.PutRecsPerS, "%.0f", true)
	row("PutRecords p50 ms", func(r Result) float64 { return ms(r.LatencyP50) }, "%.2f", true)
	row("PutRecords p99 ms", func(r Result) float64 { return ms(r.LatencyP99) }, "%.2f", true)
	row("get MB/s", Result.GetMBps, "%.1f", true)
	row("get records/s", Result.GetRecsPerS, "%.0f", true)
	known := func(f func(Result) float64) bool {
		return slices.ContainsFunc(results, func(r Result) bool { return f(r) >= 0 })
	}
	if known(Result.PutCPUPerMB) || known(Result.GetCPUPerMB) {
		row("server CPU ms/MB put", Result.PutCPUPerMB, "%.1f", true)
		row("server CPU ms/MB get", Result.GetCPUPerMB, "%.1f", true)
	}
	if known(Result.PutClientCPUPerMB) || known(Result.GetClientCPUPerMB) {
		row("bench CPU ms/MB put", Result.PutClientCPUPerMB, "%.1f", false)
		row("bench CPU ms/MB get", Result.GetClientCPUPerMB, "%.1f", false)
	}
	row("PutRecords calls", n(func(r Result) int64 { return r.PutCalls }), "%.0f", false)
	row("PutRecords retries", n(func(r Result) int64 { return r.PutRetries }), "%.0f", false)
	row("records throttled", n(func(r Result) int64 { return r.PutThrottled }), "%.0f", false)
	row("GetRecords calls", n(func(r Result) int64 { return r.GetCalls }), "%.0f", false)
	row("GetRecords retries", n(func(r Result) int64 { return r.GetRetries }), "%.0f", false)
	_, err := io.WriteString(w, b.String())
	return err
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}
