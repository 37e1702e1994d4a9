package payloads

import (
	"context"
	"errors"
	"fmt"

	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/mapping/recordbatch"
)

// RestoreBatch returns a marked batch (Marked) of a stream's partition
// with the payloads of its pointer records at or after from put back: the
// batch as its producer sent it, uncompressed, unmarked, offsets,
// timestamps and producer fields kept, as pieces to write back to back
// (the payloads are pieces of their own, read once from their objects and
// never copied; recordbatch.EncodeVectored), size bytes in all. Records
// before from stay pointers (a consumer skips them; their objects may
// already be gone with the log start), and so do pointers that are not
// Restorable.
//
// room bounds the restored size: unless force is set, a batch that would
// be larger is not restored and fits is false, so a fetch stops before it
// instead of reading its objects. A payload that cannot be found, or whose
// object is not the size its record says, stays a pointer record, and is
// logged: the consumer gets the pointer rather than nothing, and one such
// record does not make its partition unreadable. Other errors (reading
// the object) are returned.
//
// opts says where the payloads' memory comes from.
func (o *Offloader) RestoreBatch(ctx context.Context, stream string, partition int32, raw []byte, from int64, room int, force bool, opts RestoreOptions) (pieces [][]byte, size int, fits bool, err error) {
	info, recs, err := recordbatch.Decode(raw)
	if err != nil {
		return nil, 0, false, err
	}
	estimate := int64(recordbatch.HeaderSize)
	restore := make([]bool, len(recs))
	for i := range recs {
		r := &recs[i]
		estimate += RecordSize(r) + 16 // a record's framing: length, deltas, counts
		if r.Offset < from {
			continue
		}
		if p, n, ok := PointerOf(r); ok && Restorable(info, stream, partition, p) {
			estimate += n - int64(len(r.Value))
			restore[i] = true
		}
	}
	if !force && estimate > int64(room) {
		return nil, 0, false, nil
	}
	for i := range recs {
		if !restore[i] {
			continue
		}
		if _, err := o.restore(ctx, &recs[i], opts); err != nil {
			if !errors.Is(err, ErrMissing) && !errors.Is(err, ErrMismatch) {
				return nil, 0, false, err
			}
			o.log.Warn("offload: a record's payload is missing or does not match its pointer; the consumer gets its pointer", "offset", recs[i].Offset, "err", err)
		}
	}
	pieces, err = recordbatch.EncodeVectored(recs, sameBatch(info), vectorFrom)
	if err != nil {
		return nil, 0, false, fmt.Errorf("payloads: restoring a batch at %d: %w", info.BaseOffset, err)
	}
	recordbatch.SetPartitionLeaderEpoch(pieces[0], info.PartitionLeaderEpoch)
	for _, p := range pieces {
		size += len(p)
	}
	return pieces, size, true, nil
}

// RestoreOptions are RestoreBatch's optional settings.
type RestoreOptions struct {
	// Alloc gives the buffers payloads are read into (n bytes, contents
	// garbage), so a caller can recycle them once the pieces are written;
	// nil allocates them.
	Alloc func(n int) []byte
	// Ahead, when set, is asked first for a payload read ahead
	// (Readahead.Take): a payload it returns is not read again.
	Ahead func(p offload.Pointer, size int64) []byte
}

// vectorFrom is the value size from which a restored batch refers to the
// value rather than copying it.
const vectorFrom = 64 << 10
