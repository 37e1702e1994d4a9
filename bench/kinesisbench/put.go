package kinesisbench

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/bench/measure"
)

// shardWritten is what a run put into one shard: the first sequence number
// it got there and how many records.
type shardWritten struct {
	first string
	count int64
}

// seqLess orders sequence numbers, decimal strings of up to 128 bits
// without leading zeros.
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func (w *shardWritten) add(seq string) {
	if w.count == 0 || seqLess(seq, w.first) {
		w.first = seq
	}
	w.count++
}

func mergeWritten(into, from map[string]*shardWritten) {
	for id, f := range from {
		w := into[id]
		if w == nil {
			into[id] = f
			continue
		}
		if seqLess(f.first, w.first) {
			w.first = f.first
		}
		w.count += f.count
	}
}

// batchSize is the records per PutRecords call: cfg.Batch, fewer if that
// many would pass the 5 MiB request limit (partition keys count).
func batchSize(cfg Config, keyLen int) int {
	return max(1, min(cfg.Batch, maxBatchBytes/(cfg.RecordSize+keyLen)))
}

// put runs the put phase and returns, by shard id, what was written.
func put(ctx context.Context, cl *kinesis.Client, cfg Config, prefix string, res *Result) (map[string]*shardWritten, error) {
	values := measure.Payloads(cfg.RecordSize)
	batch := int64(batchSize(cfg, len(prefix)+len(strconv.FormatInt(cfg.Records, 10))))

	var (
		claimed, done             atomic.Int64
		calls, retries, throttled atomic.Int64
		mu                        sync.Mutex
		written                   = map[string]*shardWritten{}
		lats                      []time.Duration
		firstErr                  error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}

	stopProgress := measure.Progress(cfg.Progress, cfg.ProgressEvery, "put", &done, cfg.RecordSize)
	defer stopProgress()
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := map[string]*shardWritten{}
			var myLats []time.Duration
			defer func() {
				mu.Lock()
				mergeWritten(written, mine)
				lats = append(lats, myLats...)
				mu.Unlock()
			}()
			entries := make([]types.PutRecordsRequestEntry, 0, batch)
			for ctx.Err() == nil {
				first := claimed.Add(batch) - batch
				if first >= cfg.Records {
					return
				}
				entries = entries[:0]
				for n := first; n < min(first+batch, cfg.Records); n++ {
					entries = append(entries, types.PutRecordsRequestEntry{
						Data:         values[n%int64(len(values))],
						PartitionKey: aws.String(prefix + strconv.FormatInt(n, 10)),
					})
				}
				pending := entries
				var bo backoff
				lastProgress := time.Now()
				for len(pending) > 0 {
					t0 := time.Now()
					out, err := cl.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(cfg.Stream), Records: pending})
					myLats = append(myLats, time.Since(t0))
					calls.Add(1)
					var refused []types.PutRecordsRequestEntry
					switch {
					case err != nil && retryable(errorCode(err)):
						refused = pending
					case err != nil:
						if ctx.Err() == nil {
							fail(fmt.Errorf("PutRecords: %w", err))
						}
						return
					case len(out.Records) != len(pending):
						fail(fmt.Errorf("PutRecords answered %d results for %d records", len(out.Records), len(pending)))
						return
					default:
						for i, r := range out.Records {
							code := aws.ToString(r.ErrorCode)
							if code == "" {
								if r.ShardId == nil || r.SequenceNumber == nil {
									fail(fmt.Errorf("PutRecords result %d has no error code and no shard id or sequence number", i))
									return
								}
								w := mine[*r.ShardId]
								if w == nil {
									w = &shardWritten{}
									mine[*r.ShardId] = w
								}
								w.add(*r.SequenceNumber)
								continue
							}
							if !retryable(code) {
								fail(fmt.Errorf("PutRecords refused a record: %s: %s", code, aws.ToString(r.ErrorMessage)))
								return
							}
							refused = append(refused, pending[i])
						}
					}
					if ok := len(pending) - len(refused); ok > 0 {
						done.Add(int64(ok))
						lastProgress = time.Now()
						bo.reset()
					}
					if len(refused) == 0 {
						break
					}
					throttled.Add(int64(len(refused)))
					retries.Add(1)
					if time.Since(lastProgress) > cfg.StallTimeout {
						fail(fmt.Errorf("PutRecords: no record accepted for %v of retrying; last answer: %v", cfg.StallTimeout, firstRefusal(err, out)))
						return
					}
					if bo.wait(ctx) != nil {
						return
					}
					pending = refused
				}
			}
		}()
	}
	wg.Wait()
	res.PutTime = time.Since(start)
	res.PutRecords = done.Load()
	res.PutBytes = res.PutRecords * int64(cfg.RecordSize)
	res.PutCalls, res.PutRetries, res.PutThrottled = calls.Load(), retries.Load(), throttled.Load()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slices.Sort(lats)
	res.LatencyP50, res.LatencyP99, res.LatencyMax = measure.Percentile(lats, 0.50), measure.Percentile(lats, 0.99), measure.Percentile(lats, 1)
	var total int64
	for _, w := range written {
		total += w.count
	}
	if total != cfg.Records || res.PutRecords != cfg.Records {
		return nil, fmt.Errorf("put %d records (%d by shard), want %d", res.PutRecords, total, cfg.Records)
	}
	return written, nil
}

// firstRefusal describes why a PutRecords call did not take everything.
func firstRefusal(err error, out *kinesis.PutRecordsOutput) string {
	if err != nil {
		return err.Error()
	}
	for _, r := range out.Records {
		if r.ErrorCode != nil {
			return *r.ErrorCode + ": " + aws.ToString(r.ErrorMessage)
		}
	}
	return "nothing refused"
}
