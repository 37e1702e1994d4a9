package kinesisbench

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/bench/measure"
)

// get runs the read phase: one reader per shard the run wrote to, from the
// first sequence number the run got there, until it has seen all of the
// run's records in that shard.
func get(ctx context.Context, cl *kinesis.Client, cfg Config, prefix string, written map[string]*shardWritten, res *Result) error {
	var records, bytes, calls, retries atomic.Int64
	stopProgress := measure.Progress(cfg.Progress, cfg.ProgressEvery, "get", &records, cfg.RecordSize)
	defer stopProgress()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	start := time.Now()
	for _, shard := range slices.Sorted(maps.Keys(written)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := shardReader{cl: cl, cfg: cfg, prefix: prefix, shard: shard, want: written[shard], records: &records, bytes: &bytes, calls: &calls, retries: &retries}
			if err := r.read(ctx); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("shard %s: %w", shard, err)
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	res.GetTime = time.Since(start)
	res.GetRecords, res.GetBytes = records.Load(), bytes.Load()
	res.GetCalls, res.GetRetries = calls.Load(), retries.Load()
	if firstErr != nil {
		return firstErr
	}
	if res.GetRecords != res.PutRecords || res.GetBytes != res.PutBytes {
		return fmt.Errorf("read %d records (%d bytes), put %d (%d bytes)", res.GetRecords, res.GetBytes, res.PutRecords, res.PutBytes)
	}
	return nil
}

// shardReader reads one shard with GetRecords.
type shardReader struct {
	cl     *kinesis.Client
	cfg    Config
	prefix string // of the run's partition keys
	shard  string
	want   *shardWritten

	records, bytes, calls, retries *atomic.Int64

	got     int64
	lastSeq string // of the last record read, for a new iterator
}

func (r *shardReader) read(ctx context.Context) error {
	iter, err := r.iterator(ctx)
	if err != nil {
		return err
	}
	var bo backoff
	lastProgress := time.Now()
	for r.got < r.want.count {
		out, err := r.cl.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iter), Limit: aws.Int32(int32(r.cfg.Limit))})
		r.calls.Add(1)
		if err != nil {
			code := errorCode(err)
			switch {
			case code == "ExpiredIteratorException":
				if iter, err = r.iterator(ctx); err != nil {
					return err
				}
				continue
			case !retryable(code):
				return fmt.Errorf("GetRecords: %w", err)
			}
			r.retries.Add(1)
			if time.Since(lastProgress) > r.cfg.StallTimeout {
				return fmt.Errorf("GetRecords: nothing read for %v of retrying: %w", r.cfg.StallTimeout, err)
			}
			if err := bo.wait(ctx); err != nil {
				return err
			}
			continue
		}
		for _, rec := range out.Records {
			if !strings.HasPrefix(aws.ToString(rec.PartitionKey), r.prefix) {
				continue
			}
			r.got++
			r.records.Add(1)
			r.bytes.Add(int64(len(rec.Data)))
			r.lastSeq = aws.ToString(rec.SequenceNumber)
		}
		if r.got > r.want.count {
			return fmt.Errorf("read %d of this run's records, %d were put", r.got, r.want.count)
		}
		if len(out.Records) > 0 {
			lastProgress = time.Now()
			bo.reset()
		} else if r.got < r.want.count {
			// An empty page before the end: Kinesis may answer one while
			// it skips ahead; wait a little before asking again.
			if time.Since(lastProgress) > r.cfg.StallTimeout {
				return fmt.Errorf("read %d of this run's %d records; nothing more for %v", r.got, r.want.count, r.cfg.StallTimeout)
			}
			if err := bo.wait(ctx); err != nil {
				return err
			}
		}
		if out.NextShardIterator == nil {
			if r.got < r.want.count {
				return fmt.Errorf("shard closed after %d of this run's %d records", r.got, r.want.count)
			}
			break
		}
		iter = *out.NextShardIterator
	}
	return nil
}

// iterator returns an iterator at the run's first record in the shard, or
// after the last record read.
func (r *shardReader) iterator(ctx context.Context) (string, error) {
	in := &kinesis.GetShardIteratorInput{
		StreamName:             aws.String(r.cfg.Stream),
		ShardId:                aws.String(r.shard),
		ShardIteratorType:      types.ShardIteratorTypeAtSequenceNumber,
		StartingSequenceNumber: aws.String(r.want.first),
	}
	if r.lastSeq != "" {
		in.ShardIteratorType, in.StartingSequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(r.lastSeq)
	}
	var bo backoff
	start := time.Now()
	for {
		out, err := r.cl.GetShardIterator(ctx, in)
		if err == nil {
			return aws.ToString(out.ShardIterator), nil
		}
		if !retryable(errorCode(err)) || time.Since(start) > r.cfg.StallTimeout {
			return "", fmt.Errorf("GetShardIterator: %w", err)
		}
		r.retries.Add(1)
		if err := bo.wait(ctx); err != nil {
			return "", err
		}
	}
}
