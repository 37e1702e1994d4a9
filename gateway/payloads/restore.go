package payloads

import (
	"context"
	"errors"
	"fmt"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

// RestoreBatch returns a stored batch marked Offloaded with the payloads
// of its pointer records at or after from put back: the batch as its
// producer sent it, uncompressed, unmarked, offsets, timestamps and
// producer fields kept. Records before from stay pointers (a consumer
// skips them; their objects may already be gone with the log start).
//
// room bounds the restored size: unless force is set, a batch that would
// be larger is not restored and fits is false, so a fetch stops before it
// instead of reading its objects. A payload that cannot be found, or whose
// object is not the size its record says, stays a pointer record, and is
// logged: the consumer gets the pointer rather than nothing, and one such
// record does not make its partition unreadable. Other errors (reading
// the object) are returned.
func (o *Offloader) RestoreBatch(ctx context.Context, raw []byte, from int64, room int, force bool) (out []byte, fits bool, err error) {
	info, recs, err := recordbatch.Decode(raw)
	if err != nil {
		return nil, false, err
	}
	size := int64(recordbatch.HeaderSize)
	for i := range recs {
		r := &recs[i]
		size += RecordSize(r) + 16 // a record's framing: length, deltas, counts
		if r.Offset < from {
			continue
		}
		if _, n, ok := PointerOf(r); ok {
			size += n - int64(len(r.Value))
		}
	}
	if !force && size > int64(room) {
		return nil, false, nil
	}
	for i := range recs {
		if recs[i].Offset < from {
			continue
		}
		if _, err := o.Restore(ctx, &recs[i]); err != nil {
			if !errors.Is(err, ErrMissing) && !errors.Is(err, ErrMismatch) {
				return nil, false, err
			}
			o.log.Warn("offload: a record's payload is missing or does not match its pointer; the consumer gets its pointer", "offset", recs[i].Offset, "err", err)
		}
	}
	out, err = recordbatch.Encode(make([]byte, 0, size), recs, recordbatch.EncodeOptions{
		LogAppendTime: info.LogAppendTime(),
		Idempotent:    info.ProducerID >= 0,
		ProducerID:    info.ProducerID,
		ProducerEpoch: info.ProducerEpoch,
		BaseSequence:  info.BaseSequence,
		Transactional: info.Transactional(),
	})
	if err != nil {
		return nil, false, fmt.Errorf("payloads: restoring a batch at %d: %w", info.BaseOffset, err)
	}
	recordbatch.SetPartitionLeaderEpoch(out, info.PartitionLeaderEpoch)
	return out, true, nil
}
