package sqsbench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/streambridge/bridge/bench/measure"
)

// Median combines the results of repeated runs against one target: each
// figure of each phase is the median of that figure over the runs (so a
// row of the table may come from different runs), which keeps one
// disturbed run from deciding a comparison. The runs must have the same
// phases, as runs of one Config do.
func Median(runs []Result) Result {
	if len(runs) == 0 {
		return Result{}
	}
	out := runs[0]
	out.Phases = slices.Clone(out.Phases)
	for i := range out.Phases {
		phases := make([]Phase, 0, len(runs))
		for _, r := range runs {
			if i < len(r.Phases) {
				phases = append(phases, r.Phases[i])
			}
		}
		out.Phases[i] = medianPhase(phases)
	}
	return out
}

func medianPhase(runs []Phase) Phase {
	med := func(f func(Phase) float64) float64 { return measure.MedianOf(runs, f) }
	dur := func(f func(Phase) time.Duration) time.Duration {
		return time.Duration(med(func(p Phase) float64 { return float64(f(p)) }))
	}
	count := func(f func(Phase) int64) int64 {
		return int64(med(func(p Phase) float64 { return float64(f(p)) }) + 0.5)
	}
	out := runs[0]
	// The rate is kept by fixing the count at the first run's and scaling
	// the time to the median rate; CPU likewise per message.
	if rate := med(Phase.MsgsPerS); rate > 0 {
		out.Time = time.Duration(float64(out.Messages) / rate * float64(time.Second))
	}
	if cpu := med(Phase.ServerCPUPerMsg); cpu >= 0 {
		out.ServerCPU = cpu / 1e6 * float64(out.Messages)
	}
	if cpu := med(Phase.ClientCPUPerMsg); cpu >= 0 {
		out.ClientCPU = cpu / 1e6 * float64(out.Messages)
	}
	out.Duplicates = count(func(p Phase) int64 { return p.Duplicates })
	for op := range numOps {
		out.Ops[op] = OpStats{
			Calls:   count(func(p Phase) int64 { return p.Ops[op].Calls }),
			Retries: count(func(p Phase) int64 { return p.Ops[op].Retries }),
			Empty:   count(func(p Phase) int64 { return p.Ops[op].Empty }),
			P50:     dur(func(p Phase) time.Duration { return p.Ops[op].P50 }),
			P99:     dur(func(p Phase) time.Duration { return p.Ops[op].P99 }),
			Max:     dur(func(p Phase) time.Duration { return p.Ops[op].Max }),
		}
	}
	return out
}

// WriteTable prints results side by side, then for each result after the
// first a column with the first over it: for rates above 1 means the first
// is faster; for latency and CPU per message above 1 means the first is
// slower or costlier. Every result must come from the same Config.
func WriteTable(w io.Writer, cfg Config, results ...Result) error {
	if len(results) == 0 {
		return nil
	}
	var b strings.Builder
	first := results[0]
	kind := "standard queue"
	if cfg.FIFO {
		kind = fmt.Sprintf("FIFO queue (%d message groups)", cfg.Groups)
	}
	fmt.Fprintf(&b, "%d messages of %d bytes a phase, %s, %d senders, %d receivers (long polls of %d s, up to %d messages), %d deleters, batches of %d\n\n",
		cfg.Messages, cfg.BodySize, kind, cfg.Senders, cfg.Receivers, cfg.WaitSeconds, MaxBatch, cfg.Deleters, cfg.Batch)

	const nameWidth = 34
	width := 14
	for _, r := range results {
		width = max(width, len(r.Target)+2)
	}
	ratioWidth := 16
	for _, r := range results[1:] {
		ratioWidth = max(ratioWidth, len(first.Target)+len(r.Target)+3)
	}
	fmt.Fprintf(&b, "%-*s", nameWidth, "")
	for _, r := range results {
		fmt.Fprintf(&b, "%*s", width, r.Target)
	}
	for _, r := range results[1:] {
		fmt.Fprintf(&b, "%*s", ratioWidth, first.Target+"/"+r.Target)
	}
	b.WriteString("\n")

	// A figure is taken from the phase at the same position in each
	// result; negative figures are unknown ones (server CPU of a server
	// elsewhere).
	row := func(name string, i int, f func(Phase) float64, format string, ratio bool) {
		fmt.Fprintf(&b, "%-*s", nameWidth, name)
		value := func(r Result) float64 {
			if i >= len(r.Phases) {
				return -1
			}
			return f(r.Phases[i])
		}
		for _, r := range results {
			if v := value(r); v >= 0 {
				fmt.Fprintf(&b, "%*s", width, fmt.Sprintf(format, v))
			} else {
				fmt.Fprintf(&b, "%*s", width, "-")
			}
		}
		for _, r := range results[1:] {
			if d := value(r); ratio && d > 0 && value(first) >= 0 {
				fmt.Fprintf(&b, "%*.2f", ratioWidth, value(first)/d)
			} else {
				fmt.Fprintf(&b, "%*s", ratioWidth, "-")
			}
		}
		b.WriteString("\n")
	}
	// some says whether a figure is above 0 in some result, known whether
	// it is known (not negative) in some result.
	some := func(i int, f func(Phase) float64) bool {
		return slices.ContainsFunc(results, func(r Result) bool { return i < len(r.Phases) && f(r.Phases[i]) > 0 })
	}
	known := func(i int, f func(Phase) float64) bool {
		return slices.ContainsFunc(results, func(r Result) bool { return i < len(r.Phases) && f(r.Phases[i]) >= 0 })
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

	for i, p := range first.Phases {
		row(p.Name+" msgs/s", i, Phase.MsgsPerS, "%.0f", true)
		row(p.Name+" MB/s", i, Phase.MBps, "%.2f", true)
		for op := range numOps {
			if !some(i, func(p Phase) float64 { return float64(p.Ops[op].Calls) }) {
				continue
			}
			row(fmt.Sprintf("  %s p50 ms", op), i, func(p Phase) float64 { return ms(p.Ops[op].P50) }, "%.2f", true)
			row(fmt.Sprintf("  %s p99 ms", op), i, func(p Phase) float64 { return ms(p.Ops[op].P99) }, "%.2f", true)
		}
	}
	b.WriteString("\n")
	for i, p := range first.Phases {
		if known(i, Phase.ServerCPUPerMsg) {
			row("server CPU us/msg "+p.Name, i, Phase.ServerCPUPerMsg, "%.1f", true)
		}
	}
	for i, p := range first.Phases {
		if known(i, Phase.ClientCPUPerMsg) {
			row("bench CPU us/msg "+p.Name, i, Phase.ClientCPUPerMsg, "%.1f", false)
		}
	}
	for i, p := range first.Phases {
		for op := range numOps {
			calls := func(p Phase) float64 { return float64(p.Ops[op].Calls) }
			if !some(i, calls) {
				continue
			}
			row(fmt.Sprintf("%s %s calls", p.Name, op), i, calls, "%.0f", false)
			if f := func(p Phase) float64 { return float64(p.Ops[op].Retries) }; some(i, f) {
				row(fmt.Sprintf("%s %s retries", p.Name, op), i, f, "%.0f", false)
			}
			if f := func(p Phase) float64 { return float64(p.Ops[op].Empty) }; some(i, f) {
				row(fmt.Sprintf("%s %s empty", p.Name, op), i, f, "%.0f", false)
			}
		}
		if f := func(p Phase) float64 { return float64(p.Duplicates) }; some(i, f) {
			row(p.Name+" duplicates received", i, f, "%.0f", false)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
