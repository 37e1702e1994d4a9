// Package s3bench is an S3 load generator built on aws-sdk-go-v2, for any
// endpoint that speaks S3's REST API (path-style): `bridge bench s3` runs
// it.
//
// A run creates a bucket with a name of its own, puts Objects objects of
// ObjectSize bytes from Concurrency workers (the put phase), reads each
// back whole and checks its length (the get phase), then deletes the
// objects and the bucket, whether the run succeeded or not. Each phase
// reports MB/s, objects/s and the latency of its calls (p50, p99). Puts go
// the way the SDK sends them by default: over plain HTTP that is an
// aws-chunked body with a CRC32 trailer, so the server's chunk decoding
// and checksum are part of what is measured. The SDK's retryer is off:
// every error fails the run.
package s3bench

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/streambridge/bridge/bench/measure"
)

// DefaultRegion is the region requests are signed for unless Config says.
const DefaultRegion = "us-east-1"

// Phase names, in run order.
const (
	PhasePut = "put"
	PhaseGet = "get"
)

// Config is one benchmark run.
type Config struct {
	// Endpoint is the S3 endpoint URL, e.g. http://127.0.0.1:4566.
	Endpoint string
	// Region signs the requests; empty means DefaultRegion. Credentials
	// are dummy ones.
	Region string
	// Bucket is the start of the bucket's name; the run adds "-" and 12
	// random hex digits.
	Bucket string
	// ObjectSize is each object's size in bytes; Objects how many a phase
	// puts or gets; Concurrency the workers doing it.
	ObjectSize  int
	Objects     int
	Concurrency int
	// ServerCPU, if set, reports the CPU seconds the server has used so
	// far: each phase then reports the server's CPU per MB.
	ServerCPU func() (float64, error)
	// Progress, if set, receives a line every 2 s.
	Progress io.Writer
}

// Result is what a run measured.
type Result struct {
	Target string
	Bucket string
	Phases []Phase
}

// Phase is what one phase measured.
type Phase struct {
	Name      string
	Objects   int64
	Bytes     int64
	Time      time.Duration
	P50, P99  time.Duration
	ServerCPU float64 // seconds; negative when unknown
}

// MBps is the phase's throughput in MB (10^6 bytes) per second.
func (p Phase) MBps() float64 { return measure.MBps(p.Bytes, p.Time) }

// ObjectsPerS is the phase's objects per second.
func (p Phase) ObjectsPerS() float64 { return measure.PerSec(p.Objects, p.Time) }

// ServerCPUPerMB is the server's CPU milliseconds per MB, or -1.
func (p Phase) ServerCPUPerMB() float64 {
	if p.ServerCPU < 0 {
		return -1
	}
	return measure.CPUPerMB(p.ServerCPU, p.Bytes)
}

// Run runs the load once.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	if cfg.ObjectSize < 0 || cfg.Objects <= 0 || cfg.Concurrency <= 0 {
		return res, errors.New("s3bench: ObjectSize >= 0, Objects > 0 and Concurrency > 0 are required")
	}
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}
	client := s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBENCH", "bench-secret", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient: &http.Client{Transport: &http.Transport{
			MaxIdleConns: cfg.Concurrency * 2, MaxIdleConnsPerHost: cfg.Concurrency * 2,
		}},
	})
	var suffix [6]byte
	for i := range suffix {
		suffix[i] = byte(rand.IntN(256))
	}
	res.Bucket = strings.ToLower(cfg.Bucket) + "-" + hex.EncodeToString(suffix[:])
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &res.Bucket}); err != nil {
		return res, fmt.Errorf("create bucket %s: %w", res.Bucket, err)
	}
	defer func() {
		if cerr := cleanup(context.WithoutCancel(ctx), client, res.Bucket, cfg.Objects); err == nil && cerr != nil {
			err = cerr
		}
	}()

	payload := make([]byte, cfg.ObjectSize)
	for i := range payload {
		payload[i] = byte(rand.IntN(256)) // not compressible
	}
	key := func(i int) string { return fmt.Sprintf("obj-%06d", i) }
	put := func(ctx context.Context, i int) (int64, error) {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &res.Bucket, Key: aws.String(key(i)), Body: bytes.NewReader(payload),
			ContentLength: aws.Int64(int64(len(payload))),
		})
		return int64(len(payload)), err
	}
	get := func(ctx context.Context, i int) (int64, error) {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &res.Bucket, Key: aws.String(key(i))})
		if err != nil {
			return 0, err
		}
		defer out.Body.Close()
		n, err := io.Copy(io.Discard, out.Body)
		if err == nil && n != int64(len(payload)) {
			err = fmt.Errorf("%s: %d bytes, want %d", key(i), n, len(payload))
		}
		return n, err
	}
	for _, ph := range []struct {
		name string
		op   func(context.Context, int) (int64, error)
	}{{PhasePut, put}, {PhaseGet, get}} {
		p, err := runPhase(ctx, cfg, ph.name, ph.op)
		if err != nil {
			return res, fmt.Errorf("%s phase: %w", ph.name, err)
		}
		res.Phases = append(res.Phases, p)
	}
	return res, nil
}

// runPhase calls op for objects 0..Objects-1 from Concurrency workers.
func runPhase(ctx context.Context, cfg Config, name string, op func(context.Context, int) (int64, error)) (Phase, error) {
	p := Phase{Name: name, ServerCPU: -1}
	var serverCPU func() float64
	if cfg.ServerCPU != nil {
		if err := measure.WaitIdle(ctx, cfg.ServerCPU); err != nil {
			return p, err
		}
		serverCPU = measure.CPUSince(cfg.ServerCPU)
	}
	var (
		next, done atomic.Int64
		bytes      atomic.Int64
		mu         sync.Mutex
		lat        []time.Duration
		firstErr   error
		wg         sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Progress != nil {
		defer measure.Progress(cfg.Progress, 2*time.Second, name, &done, cfg.ObjectSize)()
	}
	start := time.Now()
	for range cfg.Concurrency {
		wg.Go(func() {
			var mine []time.Duration
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Objects || ctx.Err() != nil {
					break
				}
				t := time.Now()
				n, err := op(ctx, i)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					break
				}
				mine = append(mine, time.Since(t))
				bytes.Add(n)
				done.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	p.Time = time.Since(start)
	if firstErr != nil {
		return p, firstErr
	}
	if serverCPU != nil {
		if err := measure.WaitIdle(ctx, cfg.ServerCPU); err == nil {
			p.ServerCPU = serverCPU()
		}
	}
	slices.Sort(lat)
	p.Objects, p.Bytes = done.Load(), bytes.Load()
	p.P50, p.P99 = measure.Percentile(lat, 0.50), measure.Percentile(lat, 0.99)
	return p, nil
}

// cleanup deletes the run's objects and bucket.
func cleanup(ctx context.Context, client *s3.Client, bucket string, objects int) error {
	for first := 0; first < objects; first += 1000 {
		var ids []types.ObjectIdentifier
		for i := first; i < min(first+1000, objects); i++ {
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(fmt.Sprintf("obj-%06d", i))})
		}
		if _, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("delete the bench's objects: %w", err)
		}
	}
	if _, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket}); err != nil {
		return fmt.Errorf("delete bucket %s: %w", bucket, err)
	}
	return nil
}

// Median combines repeated runs against one target: each figure is the
// median over the runs.
func Median(runs []Result) Result {
	if len(runs) == 0 {
		return Result{}
	}
	out := runs[0]
	out.Phases = slices.Clone(out.Phases)
	for i := range out.Phases {
		var ps []Phase
		for _, r := range runs {
			if i < len(r.Phases) {
				ps = append(ps, r.Phases[i])
			}
		}
		med := func(f func(Phase) float64) float64 { return measure.MedianOf(ps, f) }
		ph := &out.Phases[i]
		if rate := med(Phase.MBps); rate > 0 {
			ph.Time = time.Duration(float64(ph.Bytes) / 1e6 / rate * float64(time.Second))
		}
		ph.P50 = time.Duration(med(func(p Phase) float64 { return float64(p.P50) }))
		ph.P99 = time.Duration(med(func(p Phase) float64 { return float64(p.P99) }))
		if cpu := med(Phase.ServerCPUPerMB); cpu >= 0 {
			ph.ServerCPU = cpu / 1e3 * float64(ph.Bytes) / 1e6
		}
	}
	return out
}

// WriteTable prints results side by side and, for each after the first,
// the first over it (rates above 1: the first is faster; latency and CPU
// above 1: the first is slower or costlier).
func WriteTable(w io.Writer, cfg Config, results ...Result) error {
	if len(results) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d objects of %d bytes a phase, %d workers\n\n", cfg.Objects, cfg.ObjectSize, cfg.Concurrency)
	first := results[0]
	fmt.Fprintf(&b, "%-24s", "")
	for _, r := range results {
		fmt.Fprintf(&b, "%14s", r.Target)
	}
	for _, r := range results[1:] {
		fmt.Fprintf(&b, "%20s", first.Target+"/"+r.Target)
	}
	b.WriteString("\n")
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for i, ph := range first.Phases {
		for _, row := range []struct {
			name string
			f    func(Phase) float64
			fmt  string
		}{
			{"MB/s", Phase.MBps, "%.1f"},
			{"objects/s", Phase.ObjectsPerS, "%.1f"},
			{"p50 ms", func(p Phase) float64 { return ms(p.P50) }, "%.2f"},
			{"p99 ms", func(p Phase) float64 { return ms(p.P99) }, "%.2f"},
			{"server CPU ms/MB", Phase.ServerCPUPerMB, "%.2f"},
		} {
			fmt.Fprintf(&b, "%-24s", ph.Name+" "+row.name)
			value := func(r Result) float64 {
				if i >= len(r.Phases) {
					return -1
				}
				return row.f(r.Phases[i])
			}
			for _, r := range results {
				if v := value(r); v >= 0 {
					fmt.Fprintf(&b, "%14s", fmt.Sprintf(row.fmt, v))
				} else {
					fmt.Fprintf(&b, "%14s", "-")
				}
			}
			for _, r := range results[1:] {
				if d := value(r); d > 0 && value(first) >= 0 {
					fmt.Fprintf(&b, "%20.2f", value(first)/d)
				} else {
					fmt.Fprintf(&b, "%20s", "-")
				}
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
