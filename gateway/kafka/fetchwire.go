package kafka

// Fetch responses are encoded around the record batches without joining
// them: the batches stay as store.Read returned them, and the connection
// copies the pieces through a buffer it reuses (conn.writeFetch says why
// that beats a writev of the batches). kmsg would first join every batch
// into one new buffer, as large as the whole response.

import (
	"encoding/binary"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchResponse is a Fetch response whose partitions' records are kept as
// the stored batches, records[topic][partition], instead of in
// RecordBatches. It is a kmsg.Response like any other: AppendTo joins the
// batches (tests and the fuzzer use it); the connection writes it with
// appendSegments instead.
type fetchResponse struct {
	*kmsg.FetchResponse
	records [][][][]byte
	// release hands the store back the reads the records are slices of
	// (store.ReadResult.Release): the connection calls done once it has
	// written the response. A response that is never written (a dead
	// connection, a down-converted legacy fetch) leaves them to the
	// garbage collector.
	release []func()
}

// done releases the reads r's records were cut from; r must not be
// written after it.
func (r *fetchResponse) done() {
	for _, f := range r.release {
		f()
	}
	r.release, r.records = nil, nil
}

// AppendTo encodes the response the kmsg way, records joined.
func (r *fetchResponse) AppendTo(dst []byte) []byte {
	for i := range r.Topics {
		for j := range r.Topics[i].Partitions {
			r.Topics[i].Partitions[j].RecordBatches = joinBatches(r.records[i][j])
		}
	}
	return r.FetchResponse.AppendTo(dst)
}

func joinBatches(batches [][]byte) []byte {
	switch len(batches) {
	case 0:
		return []byte{} // empty, not null: clients treat null as an error
	case 1:
		return batches[0]
	}
	n := 0
	for _, b := range batches {
		n += len(b)
	}
	out := make([]byte, 0, n)
	for _, b := range batches {
		out = append(out, b...)
	}
	return out
}

// piece is a part of an encoded response: a range of the scratch buffer,
// or a stored batch.
type piece struct {
	from, to int
	batch    []byte
}

// appendSegments frames and encodes the response (versions 4-17) for
// correlation id corr: scratch receives everything but the batches, and
// the returned pieces interleave it with the batches in wire order, for
// conn.writeFetch to copy out.
// It encodes what fetch sets and nothing more: aborted transactions (null
// unless read_committed set them), no tagged fields; TestFetchWireMatchesKmsg holds it to kmsg's
// encoding.
func (r *fetchResponse) appendSegments(scratch []byte, corr int32) ([][]byte, []byte, int) {
	v := r.Version
	flexible := v >= 12
	var pieces []piece
	start := len(scratch)
	mark := start // start of the scratch range not yet in pieces
	cut := func() {
		if len(scratch) > mark {
			pieces = append(pieces, piece{from: mark, to: len(scratch)})
		}
		mark = len(scratch)
	}

	scratch = append(scratch, 0, 0, 0, 0) // size, filled in at the end
	scratch = kbin.AppendInt32(scratch, corr)
	if flexible {
		scratch = append(scratch, 0) // response header tags
	}
	scratch = kbin.AppendInt32(scratch, r.ThrottleMillis)
	if v >= 7 {
		scratch = kbin.AppendInt16(scratch, r.ErrorCode)
		scratch = kbin.AppendInt32(scratch, r.SessionID)
	}
	scratch = appendLen(scratch, len(r.Topics), flexible)
	for i := range r.Topics {
		t := &r.Topics[i]
		switch {
		case v >= 13: // topic ids instead of names
			scratch = append(scratch, t.TopicID[:]...)
		case flexible:
			scratch = kbin.AppendCompactString(scratch, t.Topic)
		default:
			scratch = kbin.AppendString(scratch, t.Topic)
		}
		scratch = appendLen(scratch, len(t.Partitions), flexible)
		for j := range t.Partitions {
			p := &t.Partitions[j]
			scratch = kbin.AppendInt32(scratch, p.Partition)
			scratch = kbin.AppendInt16(scratch, p.ErrorCode)
			scratch = kbin.AppendInt64(scratch, p.HighWatermark)
			scratch = kbin.AppendInt64(scratch, p.LastStableOffset)
			if v >= 5 {
				scratch = kbin.AppendInt64(scratch, p.LogStartOffset)
			}
			switch {
			case p.AbortedTransactions == nil && flexible:
				scratch = kbin.AppendUvarint(scratch, 0) // null
			case p.AbortedTransactions == nil:
				scratch = kbin.AppendInt32(scratch, -1)
			default:
				scratch = appendLen(scratch, len(p.AbortedTransactions), flexible)
				for _, a := range p.AbortedTransactions {
					scratch = kbin.AppendInt64(scratch, a.ProducerID)
					scratch = kbin.AppendInt64(scratch, a.FirstOffset)
					if flexible {
						scratch = append(scratch, 0) // tags
					}
				}
			}
			if v >= 11 {
				scratch = kbin.AppendInt32(scratch, p.PreferredReadReplica)
			}
			batches := r.records[i][j]
			n := 0
			for _, b := range batches {
				n += len(b)
			}
			if flexible {
				scratch = kbin.AppendUvarint(scratch, uint32(n)+1)
			} else {
				scratch = kbin.AppendInt32(scratch, int32(n))
			}
			if n > 0 {
				cut()
				for _, b := range batches {
					pieces = append(pieces, piece{batch: b})
				}
			}
			if flexible {
				scratch = append(scratch, 0) // partition tags
			}
		}
		if flexible {
			scratch = append(scratch, 0) // topic tags
		}
	}
	if flexible {
		scratch = append(scratch, 0) // response tags
	}
	cut()

	total := 0
	bufs := make([][]byte, 0, len(pieces))
	for _, pc := range pieces {
		if pc.batch != nil {
			bufs = append(bufs, pc.batch)
			total += len(pc.batch)
		} else {
			bufs = append(bufs, scratch[pc.from:pc.to])
			total += pc.to - pc.from
		}
	}
	binary.BigEndian.PutUint32(scratch[start:], uint32(total-4))
	return bufs, scratch, total
}

func appendLen(dst []byte, n int, flexible bool) []byte {
	if flexible {
		return kbin.AppendCompactArrayLen(dst, n)
	}
	return kbin.AppendArrayLen(dst, n)
}
