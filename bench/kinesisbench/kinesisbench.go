// Package kinesisbench is a Kinesis Data Streams load generator built on
// aws-sdk-go-v2, for any Kinesis endpoint: `bridge bench kinesis` runs it.
//
// A run creates the stream if it is missing and waits for it to be ACTIVE,
// puts a number of records with PutRecords from one or more concurrent
// callers, then reads exactly what it put with GetRecords, one reader per
// shard, and reports throughput (MB/s, records/s) for both phases and the
// PutRecords call latency at the 50th and 99th percentiles.
//
// Emulators and provisioned streams throttle: PutRecords calls or records
// refused with ProvisionedThroughputExceededException, LimitExceededException
// or another retryable error are sent again after a backoff, and GetRecords
// calls likewise; the retries are counted and reported, and their waiting is
// part of the measured time. The SDK's own retryer is off, so every retry is
// one this package made and counted.
//
// Records put by a run carry partition keys with a random run prefix; the
// read phase starts each shard at the first sequence number the run got
// there and counts only records with that prefix, so a run on an existing
// stream, or repeated runs on one stream, read back exactly their own
// records.
package kinesisbench

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/bench/measure"
	"github.com/streambridge/bridge/bench/sdkclient"
	"github.com/streambridge/bridge/internal/uuid"
)

// Kinesis's own limits that shape a run.
const (
	maxRecordSize      = 1 << 20 // data of a record, by default
	maxBatchRecords    = 500     // records per PutRecords
	maxBatchBytes      = 5 << 20 // data and partition keys per PutRecords
	MaxGetRecordsLimit = 10000   // GetRecords Limit
)

// DefaultRegion is the region requests are signed for unless Config says.
const DefaultRegion = "us-east-1"

// Config is one benchmark run.
type Config struct {
	// Endpoint is the Kinesis endpoint URL, e.g. http://127.0.0.1:4566.
	Endpoint string
	// Region signs the requests; empty means DefaultRegion. Credentials are
	// dummy ones.
	Region string
	// Stream is created with Shards shards if it does not exist; an
	// existing stream is used as it is.
	Stream string
	Shards int
	// RecordSize is the data size in bytes of each record.
	RecordSize int
	// Records to put in all, over all producers.
	Records int64
	// Producers are concurrent PutRecords callers; each sends Batch records
	// per call (at most 500, and fewer if Batch records would pass 5 MiB).
	Producers int
	Batch     int
	// Limit is GetRecords' Limit; 0 means MaxGetRecordsLimit.
	Limit int
	// KeepStream keeps a stream the run created. By default the run
	// deletes it at the end (and waits until it is gone), so repeated runs
	// each start from an empty stream: emulators that slow down as they
	// hold more records (kinesis-local does, markedly) are then measured
	// alike in every run. A stream that existed before is never deleted.
	KeepStream bool
	// ActiveTimeout bounds the wait for the stream to be ACTIVE (default
	// 2 minutes); StallTimeout bounds how long a producer or shard reader
	// may go without progress, retrying, before the run fails (default 1
	// minute).
	ActiveTimeout time.Duration
	StallTimeout  time.Duration
	// ServerCPU, if set, reports the CPU seconds the server under load has
	// used so far (measure.ProcessCPU of its pid); the result then has
	// the server's CPU time per phase, and the put phase ends when the
	// server is idle again.
	ServerCPU func() (float64, error)
	// ClientCPU, if set, reports the CPU seconds this load generator's
	// process has used so far (measure.ProcessCPU(os.Getpid())), for a
	// server in another process: the result then has the load generator's
	// own cost per phase, which on a small machine bounds what any server
	// can be measured at.
	ClientCPU func() (float64, error)
	// Progress, if set, receives a line every ProgressEvery (default 2s).
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Result is what a run measured.
type Result struct {
	Target string // a name for the table, e.g. "bridge" or "kinesalite"

	PutRecords int64 // records acknowledged
	PutBytes   int64 // their data
	PutTime    time.Duration
	PutCalls   int64 // PutRecords calls, retries included
	// PutRetries counts PutRecords calls sent again, whole or in part,
	// because the call or some of its records were refused with a
	// retryable error; PutThrottled counts the records so refused.
	PutRetries   int64
	PutThrottled int64
	// Latency percentiles of PutRecords calls, retries included.
	LatencyP50, LatencyP99, LatencyMax time.Duration

	GetRecords int64 // records read back (this run's only)
	GetBytes   int64
	GetTime    time.Duration
	GetCalls   int64 // GetRecords calls, retries included
	GetRetries int64 // GetRecords calls repeated after a retryable error
	Shards     int   // shards the run put records into

	// PutServerCPU and GetServerCPU are the CPU seconds the server spent
	// during each phase; negative when unknown (no Config.ServerCPU).
	PutServerCPU, GetServerCPU float64
	// PutClientCPU and GetClientCPU are the load generator's CPU seconds
	// in each phase; negative when unknown (no Config.ClientCPU).
	PutClientCPU, GetClientCPU float64
}

// PutMBps and the others are the derived rates.
func (r Result) PutMBps() float64     { return measure.MBps(r.PutBytes, r.PutTime) }
func (r Result) PutRecsPerS() float64 { return measure.PerSec(r.PutRecords, r.PutTime) }
func (r Result) GetMBps() float64     { return measure.MBps(r.GetBytes, r.GetTime) }
func (r Result) GetRecsPerS() float64 { return measure.PerSec(r.GetRecords, r.GetTime) }

func (c *Config) check() error {
	var errs []error
	if c.Endpoint == "" {
		errs = append(errs, errors.New("no endpoint"))
	} else if !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		errs = append(errs, fmt.Errorf("endpoint %q: want an http:// or https:// URL", c.Endpoint))
	}
	if c.Stream == "" {
		errs = append(errs, errors.New("no stream"))
	}
	if c.Shards < 1 {
		errs = append(errs, fmt.Errorf("shards %d: want at least 1", c.Shards))
	}
	if c.RecordSize < 1 || c.RecordSize > maxRecordSize {
		errs = append(errs, fmt.Errorf("record size %d: want 1 to %d bytes", c.RecordSize, maxRecordSize))
	}
	if c.Records < 1 {
		errs = append(errs, fmt.Errorf("records %d: want at least 1", c.Records))
	}
	if c.Producers < 1 {
		errs = append(errs, fmt.Errorf("producers %d: want at least 1", c.Producers))
	}
	if c.Batch < 1 || c.Batch > maxBatchRecords {
		errs = append(errs, fmt.Errorf("batch %d: want 1 to %d records", c.Batch, maxBatchRecords))
	}
	if c.Limit < 0 || c.Limit > MaxGetRecordsLimit {
		errs = append(errs, fmt.Errorf("limit %d: want 1 to %d records (0 for %d)", c.Limit, MaxGetRecordsLimit, MaxGetRecordsLimit))
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.Limit == 0 {
		c.Limit = MaxGetRecordsLimit
	}
	if c.ActiveTimeout <= 0 {
		c.ActiveTimeout = 2 * time.Minute
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = time.Minute
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 2 * time.Second
	}
}

// newClient returns a Kinesis client for cfg.Endpoint with dummy
// credentials, no SDK retries (this package retries and counts), and a
// connection pool big enough that no caller waits for a connection.
func newClient(cfg Config) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBRIDGEBENCH", "bench-secret", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   sdkclient.New(cfg.Producers + cfg.Shards + 4),
	})
}

// Run runs the benchmark against cfg.Endpoint.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	cfg.setDefaults()
	cl := newClient(cfg)
	created, err := ensureStream(ctx, cl, cfg)
	if err != nil {
		return Result{}, err
	}
	if created && !cfg.KeepStream {
		defer func() {
			if delErr := deleteStream(context.WithoutCancel(ctx), cl, cfg); err == nil {
				err = delErr
			}
		}()
	}
	res.PutServerCPU, res.GetServerCPU, res.PutClientCPU, res.GetClientCPU = -1, -1, -1, -1
	prefix := runPrefix()
	serverSince, clientSince := measure.CPUSince(cfg.ServerCPU), measure.CPUSince(cfg.ClientCPU)
	written, err := put(ctx, cl, cfg, prefix, &res)
	if err != nil {
		return res, err
	}
	res.PutClientCPU = clientSince()
	if err := measure.WaitIdle(ctx, cfg.ServerCPU); err != nil {
		return res, err
	}
	res.PutServerCPU = serverSince()
	res.Shards = len(written)
	serverSince, clientSince = measure.CPUSince(cfg.ServerCPU), measure.CPUSince(cfg.ClientCPU)
	if err := get(ctx, cl, cfg, prefix, written, &res); err != nil {
		return res, err
	}
	res.GetServerCPU, res.GetClientCPU = serverSince(), clientSince()
	return res, nil
}

// ensureStream creates the stream unless it exists and waits until it is
// ACTIVE. It says whether it created the stream.
func ensureStream(ctx context.Context, cl *kinesis.Client, cfg Config) (created bool, err error) {
	_, err = cl.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName: aws.String(cfg.Stream),
		ShardCount: aws.Int32(int32(cfg.Shards)),
	})
	if err != nil && errorCode(err) != "ResourceInUseException" {
		return false, fmt.Errorf("create stream %s: %w", cfg.Stream, err)
	}
	created = err == nil
	deadline := time.Now().Add(cfg.ActiveTimeout)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		status, err := streamStatus(ctx, cl, cfg.Stream)
		// Some emulators create the stream after answering CreateStream.
		if code := errorCode(err); err != nil && !retryable(code) && code != "ResourceNotFoundException" {
			return created, fmt.Errorf("describe stream %s: %w", cfg.Stream, err)
		}
		if status == types.StreamStatusActive {
			return created, nil
		}
		if time.Now().After(deadline) {
			return created, fmt.Errorf("stream %s is %s after %v, not ACTIVE", cfg.Stream, orString(string(status), "missing"), cfg.ActiveTimeout)
		}
		if err := sleep(ctx, wait); err != nil {
			return created, err
		}
	}
}

// deleteStream deletes the stream and waits until it is gone, so that the
// next run can create it again.
func deleteStream(ctx context.Context, cl *kinesis.Client, cfg Config) error {
	_, err := cl.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(cfg.Stream), EnforceConsumerDeletion: aws.Bool(true)})
	if err != nil && errorCode(err) != "ResourceNotFoundException" {
		return fmt.Errorf("delete stream %s: %w", cfg.Stream, err)
	}
	deadline := time.Now().Add(cfg.ActiveTimeout)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		status, err := streamStatus(ctx, cl, cfg.Stream)
		switch code := errorCode(err); {
		case code == "ResourceNotFoundException":
			return nil
		case err != nil && !retryable(code):
			return fmt.Errorf("describe stream %s after deleting it: %w", cfg.Stream, err)
		case time.Now().After(deadline):
			return fmt.Errorf("stream %s is still %s %v after DeleteStream", cfg.Stream, status, cfg.ActiveTimeout)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func orString(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// streamStatus asks DescribeStreamSummary, which every emulator here knows;
// a Limit of 1 keeps a DescribeStream fallback short too.
func streamStatus(ctx context.Context, cl *kinesis.Client, stream string) (types.StreamStatus, error) {
	out, err := cl.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err == nil {
		return out.StreamDescriptionSummary.StreamStatus, nil
	}
	if code := errorCode(err); code != "UnknownOperationException" && code != "InvalidAction" {
		return "", err
	}
	d, err := cl.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream), Limit: aws.Int32(1)})
	if err != nil {
		return "", err
	}
	return d.StreamDescription.StreamStatus, nil
}

// runPrefix returns a partition key prefix unique to one run: 48 random
// bits (a UUID's first six bytes, which hold no version bits), short so
// that keys weigh what they did in earlier figures.
func runPrefix() string {
	u := uuid.New()
	return hex.EncodeToString(u[:6]) + "-"
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is a capped exponential wait with jitter between retries.
type backoff struct{ next time.Duration }

func (b *backoff) wait(ctx context.Context) error {
	if b.next == 0 {
		b.next = 5 * time.Millisecond
	}
	d := b.next/2 + jitter(b.next/2)
	b.next = min(2*b.next, time.Second)
	return sleep(ctx, d)
}

func (b *backoff) reset() { b.next = 0 }
