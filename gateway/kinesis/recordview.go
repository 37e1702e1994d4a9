package kinesis

// The Kinesis view of stored records, shared by GetRecords and
// SubscribeToShard.
//
// A shard owns the offsets [StartOffset, EndOffset) of its partition; the
// partition continues in a child after a split or merge, so a read of a
// shard stops at its end even when the partition holds more. Every record
// is shown as Kinesis shows it:
//
//   - SequenceNumber: mapping.SequenceNumber(shard index, offset).
//   - PartitionKey: mapping.PartitionKeyForKafkaKey(key): the partition key a
//     Kinesis producer gave (stored as the key), or a documented substitute
//     for a Kafka key that is not a valid partition key.
//   - Data: the value; a Kafka tombstone (null value) reads as empty data.
//   - ApproximateArrivalTimestamp: the record's timestamp in milliseconds,
//     which for Kinesis-written records is the log-append (arrival) time. A
//     Kafka record without a timestamp shows the stream's creation time.
//   - EncryptionType: KMS while the stream is encrypted, absent otherwise.
//
// Control batches (Kafka transaction markers) are skipped: they carry no
// user data. A read never skips a user record: the position it returns is
// one past the last record it returned, or past batches it passed over
// whole.

import (
	"context"
	"errors"
	"time"

	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// The limits of one GetRecords call; a SubscribeToShard event uses the same.
const (
	maxGetRecordsLimit = 10000
	maxGetRecordsBytes = 10 << 20
)

// kinesisRecord is a record as GetRecords and SubscribeToShard return it.
type kinesisRecord struct {
	SequenceNumber              string     `json:"SequenceNumber"`
	ApproximateArrivalTimestamp *Timestamp `json:"ApproximateArrivalTimestamp,omitempty"`
	Data                        []byte     `json:"Data"`
	PartitionKey                string     `json:"PartitionKey"`
	EncryptionType              string     `json:"EncryptionType,omitempty"`
}

// shardRead is the outcome of reading a shard.
type shardRead struct {
	Records []kinesisRecord
	// Next is the offset to read from next time: one past the last record
	// returned (or past batches skipped whole).
	Next int64
	// Shard is the shard as it stood after the read: it may have closed
	// meanwhile, in which case the read stopped at its end.
	Shard store.Shard
	// Ended: the shard is closed and Next is its end; there will never be
	// more to read from it (GetRecords answers ChildShards then).
	Ended bool
	// HighWatermark is where the read had to stop: the partition's last
	// stable offset seen by the read (its high watermark but for an open
	// Kafka transaction, whose records wait for its end).
	HighWatermark int64
	// LastArrival is the arrival time of the last record returned (zero
	// when none), for MillisBehindLatest.
	LastArrival time.Time
	// release hands the store back the memory of the reads the records
	// are slices of (store.ReadResult.Release): call it once they are
	// encoded.
	release []func()
}

// MillisBehind reports how far the reader is behind the tip of the shard:
// zero once it has read everything there is (or the shard ended), else the
// age of the last record it got.
func (r *shardRead) MillisBehind(now time.Time) int64 {
	if r.Ended || r.Next >= r.HighWatermark || r.LastArrival.IsZero() {
		return 0
	}
	return max(0, now.Sub(r.LastArrival).Milliseconds())
}

// readShard reads up to maxRecords records and about maxBytes bytes of data
// and partition keys (at least one record when there is one) of shard sh of
// stream st, from offset from of the shard's partition to the shard's end.
// It returns the records and the offset to continue from. See
// readShardView for the details callers that need more (ChildShards,
// MillisBehindLatest) use.
func (h *Handler) readShard(ctx context.Context, st store.Stream, sh store.Shard, from int64, maxRecords, maxBytes int) (recs []kinesisRecord, next int64, err error) {
	r, err := h.readShardView(ctx, st, sh, from, maxRecords, maxBytes)
	return r.Records, r.Next, err
}

// readShardView is readShard with everything the read learned. A from below
// the partition's log start (records gone to retention) or below the
// shard's start reads from the first record still there, as TRIM_HORIZON
// would. Errors are store errors (store.ErrStreamNotFound once the stream is
// deleted); translate them with h.storeError.
func (h *Handler) readShardView(ctx context.Context, st store.Stream, sh store.Shard, from int64, maxRecords, maxBytes int) (shardRead, error) {
	if maxRecords <= 0 {
		maxRecords = maxGetRecordsLimit
	}
	if maxBytes <= 0 {
		maxBytes = maxGetRecordsBytes
	}
	// A shard that has closed since the caller looked stops at its end.
	sh, err := h.currentShard(ctx, st.Name, sh)
	if err != nil {
		return shardRead{Next: from, Shard: sh}, err
	}
	v := recordViewer{st: &st, sh: sh}
	pos := max(from, sh.StartOffset)
	out := shardRead{Shard: sh}
	var (
		offsets []int64 // offsets[i] is out.Records[i]'s
		bytes   int
		batch   []recordbatch.Record
		full    bool
	)
	for !full && len(out.Records) < maxRecords && (sh.IsOpen() || pos < sh.EndOffset) {
		// Committed: records of open Kafka transactions wait for their
		// end, and those of aborted ones never show (TxnFilter).
		lim := store.ReadLimits{MaxBytes: max(maxBytes-bytes, 1), MaxRecords: maxRecords - len(out.Records), Committed: true}
		if !sh.IsOpen() {
			lim.EndOffset = sh.EndOffset
		}
		res, err := h.store.Read(ctx, st.Name, sh.Partition, pos, lim)
		out.HighWatermark = res.LastStableOffset
		if errors.Is(err, store.ErrOffsetOutOfRange) {
			if pos < res.LogStartOffset {
				// Retention took the records: go on from the oldest left.
				pos = res.LogStartOffset
				continue
			}
			// Past the high watermark: nothing there yet.
			pos = min(pos, res.HighWatermark)
			break
		}
		if err != nil {
			return shardRead{Next: pos, Shard: sh}, err
		}
		if res.Release != nil {
			out.release = append(out.release, res.Release)
		}
		if len(res.Batches) == 0 {
			break
		}
		start := pos
		txns := store.NewTxnFilter(res.Aborted)
		for _, b := range res.Batches {
			if b.LastOffset < pos {
				continue
			}
			info, recs, err := recordbatch.DecodeAppend(batch[:0], b.Raw)
			if err != nil {
				return shardRead{Next: pos, Shard: sh}, err
			}
			batch = recs
			v.encrypted = b.Encrypted
			if txns.Skip(info) {
				pos = max(pos, b.LastOffset+1)
				continue
			}
			// Only batches marked Offloaded can hold pointer records
			// (offload.go): others cost no look.
			offloaded := payloads.Marked(info) && h.cfg.Offload != nil
			for i := range recs {
				r := &recs[i]
				if r.Offset < pos {
					continue
				}
				if !sh.IsOpen() && r.Offset >= sh.EndOffset {
					full = true
					break
				}
				size := len(r.Value) + len(r.Key)
				var (
					ptr     offload.Pointer
					restore bool
				)
				if offloaded {
					// A restored payload counts at its size: one that
					// does not fit ends the answer, and comes first next
					// time.
					if p, n, ok := h.restorable(info, st.Name, sh.Partition, r); ok {
						ptr, size, restore = p, n, true
					}
				}
				if len(out.Records) >= maxRecords || (len(out.Records) > 0 && bytes+size > maxBytes) {
					full = true
					break
				}
				if restore {
					if size, err = h.restore(ctx, &st, sh.Index, r, ptr, size); err != nil {
						return shardRead{Next: pos, Shard: sh}, err
					}
				}
				out.Records = append(out.Records, v.view(r))
				offsets = append(offsets, r.Offset)
				bytes += size
				pos = r.Offset + 1
			}
			if full {
				break
			}
			// Offsets of the batch past its last record (none in batches
			// we write) belong to no record: step over them.
			pos = max(pos, b.LastOffset+1)
		}
		if pos >= res.LastStableOffset || pos == start {
			break
		}
	}

	// Records appended after the caller's snapshot may belong to a child if
	// the shard closed during the read: check again, now that the read is
	// done, and drop what lies past the end.
	if sh.IsOpen() {
		if sh, err = h.currentShard(ctx, st.Name, sh); err != nil {
			return shardRead{Next: from, Shard: sh}, err
		}
		out.Shard = sh
		if !sh.IsOpen() {
			n := len(offsets)
			for n > 0 && offsets[n-1] >= sh.EndOffset {
				n--
			}
			out.Records = out.Records[:n]
			pos = min(pos, sh.EndOffset)
		}
	}
	out.Next = pos
	out.Ended = !sh.IsOpen() && pos >= sh.EndOffset
	if n := len(out.Records); n > 0 {
		out.LastArrival = out.Records[n-1].ApproximateArrivalTimestamp.Time
	}
	return out, nil
}

// done releases the reads r's records were cut from: r's records must not
// be used after it.
func (r *shardRead) done() {
	for _, f := range r.release {
		f()
	}
	r.release = nil
}

// currentShard returns sh as it stands now: an open shard may have been
// closed by a split or merge since the caller's snapshot. Closed shards
// never change, and an open one is still open exactly when it still routes
// its first hash key, which costs no copy of the layout to find out.
func (h *Handler) currentShard(ctx context.Context, name string, sh store.Shard) (store.Shard, error) {
	if !sh.IsOpen() {
		return sh, nil
	}
	cur, err := h.store.ShardForHashKey(ctx, name, sh.HashRange.Start)
	if err != nil {
		return sh, err
	}
	if cur.Index == sh.Index {
		return sh, nil
	}
	st, err := h.store.DescribeStream(ctx, name)
	if err != nil {
		return sh, err
	}
	fresh, ok := st.Shard(sh.Index)
	if !ok {
		return sh, store.ErrShardNotFound
	}
	return fresh, nil
}

// recordViewer turns stored records of one shard into Kinesis records.
type recordViewer struct {
	st        *store.Stream
	sh        store.Shard
	encrypted bool // the batch at hand is encrypted at rest
}

func (v *recordViewer) view(r *recordbatch.Record) kinesisRecord {
	ts := r.Timestamp
	if ts.IsZero() {
		ts = v.st.Created
	}
	data := r.Value
	if data == nil {
		data = []byte{} // Data is required: a tombstone reads as empty
	}
	out := kinesisRecord{
		SequenceNumber:              mapping.SequenceNumber(v.sh.Index, r.Offset),
		ApproximateArrivalTimestamp: &Timestamp{Time: ts.Truncate(time.Millisecond)},
		Data:                        data,
		PartitionKey:                mapping.PartitionKeyForKafkaKey(r.Key),
	}
	if v.encrypted {
		out.EncryptionType = "KMS"
	}
	return out
}

// childShard is a child of a shard that a reader reached the end of, as
// GetRecords and SubscribeToShardEvent report it.
type childShard struct {
	ShardId      string         `json:"ShardId"`
	ParentShards []string       `json:"ParentShards"`
	HashKeyRange childHashRange `json:"HashKeyRange"`
}

type childHashRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

// childShardsOf returns the shards created from shard parent of st by a
// split (two children) or a merge (one child, with the other parent as
// adjacent parent), in index order: where a reader goes on from parent.
func childShardsOf(st *store.Stream, parent int) []childShard {
	var out []childShard
	for _, sh := range st.Shards {
		if sh.Parent != parent && sh.AdjacentParent != parent {
			continue
		}
		parents := []string{mapping.ShardID(sh.Parent)}
		if sh.AdjacentParent != store.NoShard {
			parents = append(parents, mapping.ShardID(sh.AdjacentParent))
		}
		out = append(out, childShard{
			ShardId:      sh.ID(),
			ParentShards: parents,
			HashKeyRange: childHashRange{StartingHashKey: sh.HashRange.Start.String(), EndingHashKey: sh.HashRange.End.String()},
		})
	}
	return out
}
