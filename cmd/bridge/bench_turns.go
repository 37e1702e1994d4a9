package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// startCPUProfile starts profiling this process into path; stop ends it
// and reports what writing the profile met. An empty path profiles
// nothing, and stop does nothing.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// keepFirst runs f and keeps its error in *err unless *err already holds
// one: for deferred cleanups whose failure must not hide the first one.
func keepFirst(err *error, f func() error) {
	if ferr := f(); *err == nil {
		*err = ferr
	}
}

// startAWSBenchBridge starts the bridge an AWS bench runs against with
// --embedded, in this process or in a child one, and makes it targets[0];
// every other target gets a loopback server CPU probe.
func startAWSBenchBridge(ctx context.Context, dataDir string, inProcess bool, targets []benchTarget, stderr io.Writer) (benchServer, error) {
	start := startChildBridge
	if inProcess {
		start = startEmbeddedBridge
	}
	srv, err := start(ctx, dataDir, nil, []string{"aws"}, stderr)
	if err != nil {
		return benchServer{}, err
	}
	targets[0].endpoint, targets[0].cpu = "http://"+srv.addr, srv.cpu
	probeServerCPU(targets[1:])
	return srv, nil
}

// probeServerCPU gives each target without one a CPU probe of the loopback
// server behind its endpoint.
func probeServerCPU(targets []benchTarget) {
	for i := range targets {
		if targets[i].cpu == nil {
			targets[i].cpu = loopbackServerCPU(targets[i].endpoint)
		}
	}
}

// benchTurns runs a bench against every target in turn, warmup unmeasured
// rounds and then repeat measured ones, so that the targets share whatever
// the machine does meanwhile, and returns each target's median result. api
// names the bench in progress lines; run does one run against a target,
// named gives a result its target's name, median takes the median of runs.
func benchTurns[R any](ctx context.Context, stdout, stderr io.Writer, api string, targets []benchTarget, warmup, repeat int,
	run func(context.Context, benchTarget) (R, error), named func(*R, string), median func([]R) R) ([]R, error) {
	runs := map[string][]R{}
	for i := range warmup + repeat {
		for _, t := range targets {
			what := fmt.Sprintf("run %d of %d", i-warmup+1, repeat)
			if i < warmup {
				what = fmt.Sprintf("warm-up run %d of %d, not measured", i+1, warmup)
			}
			fmt.Fprintf(stderr, "bench %s: %s at %s (%s)\n", api, t.name, t.endpoint, what)
			res, err := run(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			if i >= warmup {
				named(&res, t.name)
				runs[t.name] = append(runs[t.name], res)
			}
		}
	}
	results := make([]R, len(targets))
	for i, t := range targets {
		results[i] = median(runs[t.name])
	}
	if warmup > 0 {
		fmt.Fprintf(stdout, "after %d unmeasured warm-up run(s) per target\n", warmup)
	}
	if repeat > 1 {
		fmt.Fprintf(stdout, "median of %d runs per target, taking turns\n", repeat)
	}
	return results, nil
}

// awsBench is where an AWS bench runs: against a bridge it starts
// (embedded, with a temporary data dir unless dataDir says, in this
// process when inProcess) or against the endpoints of targets.
type awsBench struct {
	api       string // "kinesis", "sqs", "s3": progress lines
	embedded  bool
	inProcess bool
	dataDir   string
	warmup    int
	repeat    int
}

// runAWSBench starts the bridge when b.embedded (it becomes targets[0]),
// gives the other targets a server CPU probe, runs the load against every
// target in turns (benchTurns), stops the bridge, and returns each target's
// median result. run runs the load once against an endpoint.
func runAWSBench[R any](ctx context.Context, stdout, stderr io.Writer, b awsBench, targets []benchTarget,
	run func(ctx context.Context, endpoint string, serverCPU func() (float64, error)) (R, error),
	named func(*R, string), median func([]R) R) (_ []R, err error) {
	if b.embedded {
		srv, err := startAWSBenchBridge(ctx, b.dataDir, b.inProcess, targets, stderr)
		if err != nil {
			return nil, err
		}
		defer func() {
			if stopErr := srv.stop(); err == nil && stopErr != nil {
				err = fmt.Errorf("stopping the bridge: %w", stopErr)
			}
		}()
	} else {
		probeServerCPU(targets)
	}
	return benchTurns(ctx, stdout, stderr, b.api, targets, b.warmup, b.repeat,
		func(ctx context.Context, t benchTarget) (R, error) { return run(ctx, t.endpoint, t.cpu) },
		named, median)
}
