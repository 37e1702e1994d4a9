package recordbatch

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"slices"
	"sync"
)

// EncodeOptions control Encode.
type EncodeOptions struct {
	Codec Codec
	// LogAppendTime sets the timestamp type LogAppendTime: readers then
	// see the batch's MaxTimestamp (the latest record timestamp) as every
	// record's timestamp. Give all records the append time.
	LogAppendTime bool
	// ProducerID, ProducerEpoch and BaseSequence are written only when
	// Idempotent is set; otherwise the batch carries producerId -1,
	// producerEpoch -1, baseSequence -1 (no producer), so the zero value
	// means "not idempotent" without ambiguity.
	ProducerID    int64
	Idempotent    bool
	ProducerEpoch int16
	BaseSequence  int32
	// Transactional sets attribute bit 4 (needs Idempotent to mean anything).
	Transactional bool
	// Control sets attribute bit 5; the records must then be control
	// records (key: version and type; value: the marker), built by the caller.
	Control bool
	// Offloaded and ClientPointers set the bridge's marks
	// (Info.Offloaded, Info.ClientPointers).
	Offloaded, ClientPointers bool
	// KeepOffsets writes BaseOffset and LastOffsetDelta as given rather
	// than from the records: a compacted batch keeps both though its first
	// or last records are gone. Record offsets must then lie in
	// [BaseOffset, BaseOffset+LastOffsetDelta].
	KeepOffsets     bool
	BaseOffset      int64
	LastOffsetDelta int32
}

// scratch buffers hold the uncompressed records before compression.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledScratch keeps one giant batch from pinning its buffer in the pool.
const maxPooledScratch = 4 << 20

// Encode appends one v2 batch holding records to dst and returns it.
//
// Offsets: the base offset is records[0].Offset; offset deltas are
// Offset - records[0].Offset, or the record's index when every Offset is 0
// (records fresh from a producer). Deltas must increase strictly and fit in
// an int32 (ErrInvalidOffsets).
//
// Timestamps are written in milliseconds: FirstTimestamp is the first
// record's, deltas are relative to it (and may be negative), MaxTimestamp is
// the largest. A zero Timestamp is written as -1 ("no timestamp").
//
// The batch gets partitionLeaderEpoch -1, the CRC, and records compressed
// with opts.Codec (gzip, xerial-framed snappy as the Java producer writes it,
// LZ4 frame, or zstd). Records with a nil Key or Value are written as null,
// an empty non-nil one as empty. Encode returns ErrNoRecords for no records,
// ErrUnknownCodec for a codec out of range and ErrTooLarge for a batch over
// 2 GiB; on error dst is returned unchanged.
func Encode(dst []byte, records []Record, opts EncodeOptions) ([]byte, error) {
	if len(records) == 0 {
		return dst, ErrNoRecords
	}
	if opts.Codec < None || opts.Codec > Zstd {
		return dst, fmt.Errorf("%w: %d", ErrUnknownCodec, opts.Codec)
	}

	pl, err := planRecords(records)
	if err != nil {
		return dst, err
	}
	if opts.KeepOffsets {
		if pl, err = keepOffsets(records, pl, opts); err != nil {
			return dst, err
		}
	}
	byIndex, firstTS, size := pl.byIndex, pl.firstTS, pl.size

	// Second pass: the header's room, then the records, compressed or not.
	start := len(dst)
	if opts.Codec == None {
		dst = slices.Grow(dst, HeaderSize+size)[:start+HeaderSize]
		dst = appendRecordsFrom(dst, records, byIndex, firstTS, pl.base)
	} else {
		sp := scratch.Get().(*[]byte)
		raw := appendRecordsFrom(slices.Grow((*sp)[:0], size), records, byIndex, firstTS, pl.base)
		dst = slices.Grow(dst, HeaderSize)[:start+HeaderSize]
		var err error
		dst, err = appendCompressed(dst, raw, opts.Codec)
		if cap(raw) <= maxPooledScratch {
			*sp = raw[:0]
			scratch.Put(sp)
		}
		if err != nil {
			return dst[:start], fmt.Errorf("recordbatch: %s compression: %w", opts.Codec, err)
		}
	}
	length := len(dst) - start - lengthOverhead
	if length > math.MaxInt32 {
		return dst[:start], fmt.Errorf("%w: %d bytes", ErrTooLarge, length)
	}

	putHeader(dst[start:start+HeaderSize], uint32(length), opts, pl, len(records))
	be := binary.BigEndian
	be.PutUint32(dst[start+offCRC:], crc32.Checksum(dst[start+offAttributes:], castagnoli))
	return dst, nil
}

// plan is what Encode learns of records before writing them.
type plan struct {
	base           int64 // records[0].Offset
	byIndex        bool  // deltas are indexes: every Offset is 0
	firstTS, maxTS int64
	lastDelta      int64
	size           int // encoded size of the records, uncompressed
}

// planRecords validates the offsets, finds the timestamps and sizes the
// records.
func planRecords(records []Record) (plan, error) {
	if len(records) == 0 {
		return plan{}, ErrNoRecords
	}
	pl := plan{base: records[0].Offset, byIndex: true, firstTS: millis(records[0].Timestamp), lastDelta: -1}
	for i := range records {
		if records[i].Offset != 0 {
			pl.byIndex = false
			break
		}
	}
	pl.maxTS = pl.firstTS
	for i := range records {
		r := &records[i]
		delta := int64(i)
		if !pl.byIndex {
			delta = r.Offset - pl.base // an overflow wraps out of [prev+1, MaxInt32]
			if delta <= pl.lastDelta || delta > math.MaxInt32 {
				return plan{}, fmt.Errorf("%w: record %d has offset %d after base %d", ErrInvalidOffsets, i, r.Offset, pl.base)
			}
		}
		pl.lastDelta = delta
		ts := millis(r.Timestamp)
		pl.maxTS = max(pl.maxTS, ts)
		body := bodySize(r, ts-pl.firstTS, delta)
		pl.size += varintLen(int64(body)) + body
	}
	if pl.size > math.MaxInt32-minLength {
		return plan{}, fmt.Errorf("%w: %d bytes of records", ErrTooLarge, pl.size)
	}
	return pl, nil
}

// putHeader fills in a batch header, all but the CRC.
func putHeader(h []byte, length uint32, opts EncodeOptions, pl plan, n int) {
	attrs := int16(opts.Codec)
	if opts.LogAppendTime {
		attrs |= attrLogAppendTime
	}
	if opts.Transactional {
		attrs |= attrTransactional
	}
	if opts.Control {
		attrs |= attrControl
	}
	if opts.Offloaded {
		attrs |= attrOffloaded
	}
	if opts.ClientPointers {
		attrs |= attrClientPointers
	}
	producerID, producerEpoch, baseSequence := int64(-1), int16(-1), int32(-1)
	if opts.Idempotent {
		producerID, producerEpoch, baseSequence = opts.ProducerID, opts.ProducerEpoch, opts.BaseSequence
	}
	be := binary.BigEndian
	be.PutUint64(h[offBaseOffset:], uint64(pl.base))
	be.PutUint32(h[offLength:], length)
	be.PutUint32(h[offLeaderEpoch:], math.MaxUint32) // -1
	h[offMagic] = 2
	be.PutUint16(h[offAttributes:], uint16(attrs))
	be.PutUint32(h[offLastOffsetDelta:], uint32(pl.lastDelta))
	be.PutUint64(h[offFirstTimestamp:], uint64(pl.firstTS))
	be.PutUint64(h[offMaxTimestamp:], uint64(pl.maxTS))
	be.PutUint64(h[offProducerID:], uint64(producerID))
	be.PutUint16(h[offProducerEpoch:], uint16(producerEpoch))
	be.PutUint32(h[offBaseSequence:], uint32(baseSequence))
	be.PutUint32(h[offNumRecords:], uint32(n))
}

// keepOffsets re-plans records against opts' fixed base offset and last
// offset delta (EncodeOptions.KeepOffsets).
func keepOffsets(records []Record, pl plan, opts EncodeOptions) (plan, error) {
	// Offsets are absolute here, so all zero is one record at offset 0 or
	// a repeat.
	last := records[len(records)-1].Offset
	if pl.byIndex && len(records) > 1 || records[0].Offset < opts.BaseOffset || opts.LastOffsetDelta < 0 || last > opts.BaseOffset+int64(opts.LastOffsetDelta) {
		return plan{}, fmt.Errorf("%w: records %d..%d outside the kept range from %d", ErrInvalidOffsets, records[0].Offset, last, opts.BaseOffset)
	}
	pl.base, pl.lastDelta, pl.size, pl.byIndex = opts.BaseOffset, int64(opts.LastOffsetDelta), 0, false
	for i := range records {
		r := &records[i]
		body := bodySize(r, millis(r.Timestamp)-pl.firstTS, r.Offset-pl.base)
		pl.size += varintLen(int64(body)) + body
	}
	return pl, nil
}

// appendRecordsFrom appends the v2 encoding of each record, offset deltas
// from base.
func appendRecordsFrom(dst []byte, records []Record, byIndex bool, firstTS, base int64) []byte {
	for i := range records {
		r := &records[i]
		delta := int64(i)
		if !byIndex {
			delta = r.Offset - base
		}
		dst = appendRecordHead(dst, r, millis(r.Timestamp)-firstTS, delta)
		dst = appendVarintBytes(dst, r.Value)
		dst = appendHeaders(dst, r.Headers)
	}
	return dst
}

// appendRecordHead appends a record's encoding up to its value.
func appendRecordHead(dst []byte, r *Record, tsDelta, delta int64) []byte {
	dst = binary.AppendVarint(dst, int64(bodySize(r, tsDelta, delta)))
	dst = append(dst, 0) // record attributes: unused
	dst = binary.AppendVarint(dst, tsDelta)
	dst = binary.AppendVarint(dst, delta)
	return appendVarintBytes(dst, r.Key)
}

// appendHeaders appends a record's encoding after its value.
func appendHeaders(dst []byte, headers []Header) []byte {
	dst = binary.AppendVarint(dst, int64(len(headers)))
	for j := range headers {
		h := &headers[j]
		dst = binary.AppendVarint(dst, int64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendVarintBytes(dst, h.Value)
	}
	return dst
}

// bodySize is the encoded size of a record after its length varint.
func bodySize(r *Record, tsDelta, offsetDelta int64) int {
	n := 1 + varintLen(tsDelta) + varintLen(offsetDelta) +
		bytesLen(r.Key) + bytesLen(r.Value) + varintLen(int64(len(r.Headers)))
	for j := range r.Headers {
		h := &r.Headers[j]
		n += varintLen(int64(len(h.Key))) + len(h.Key) + bytesLen(h.Value)
	}
	return n
}

// appendVarintBytes appends a varint length and b; nil is length -1 (null).
func appendVarintBytes(dst, b []byte) []byte {
	if b == nil {
		return append(dst, 1) // zigzag(-1)
	}
	return append(binary.AppendVarint(dst, int64(len(b))), b...)
}

func bytesLen(b []byte) int {
	if b == nil {
		return 1
	}
	return varintLen(int64(len(b))) + len(b)
}

// varintLen is the size of v as a zigzag varint (Kafka's varint and varlong).
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	return (bits.Len64(u|1) + 6) / 7
}
