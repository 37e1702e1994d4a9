package recordbatch

// Message sets of magic 0 and 1, the message formats before 0.11 (KIP-98
// introduced record batch v2), as Produce v0-2 carries them and Fetch v0-3
// returns them. The bridge stores only v2 batches: FromMessageSet converts
// what an old producer sends into one v2 batch, and AppendMessageSet turns
// a stored v2 batch back into messages for an old consumer, both the way a
// Kafka 3.x broker converts (LogValidator, RecordsUtil.downConvert).
//
// A message (Kafka calls it a "legacy record"):
//
//	offset      int64
//	messageSize int32   bytes after this field
//	crc         uint32  CRC-32 (IEEE) of magic..end
//	magic       int8    0 or 1
//	attributes  int8    bits 0-2 codec, bit 3 LogAppendTime (magic 1)
//	timestamp   int64   magic 1 only
//	key         int32 length + bytes, -1 = null
//	value       int32 length + bytes, -1 = null
//
// A compressed message ("wrapper") has a null key and, as its value, a
// whole inner message set compressed with its codec. Inner offsets are
// absolute for magic 0; for magic 1 they are relative (0, 1, ...) and the
// wrapper carries the absolute offset of the last inner message.

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

const (
	legacyLogOverhead = 12 // offset and messageSize
	legacyHeaderV0    = 4 + 1 + 1 + 4 + 4
	legacyHeaderV1    = legacyHeaderV0 + 8
)

// legacyMessage is one parsed message of a message set.
type legacyMessage struct {
	offset     int64
	magic      int8
	attributes int8
	timestamp  int64 // -1 for magic 0
	key, value []byte
}

func (m *legacyMessage) codec() Codec { return Codec(m.attributes & attrCodecMask) }

// parseLegacyMessage reads the message at the start of b and returns it and
// its total size.
func parseLegacyMessage(b []byte) (legacyMessage, int, error) {
	var m legacyMessage
	if len(b) < legacyLogOverhead {
		return m, 0, fmt.Errorf("%w: %d bytes left, a message header needs %d", ErrTruncated, len(b), legacyLogOverhead)
	}
	be := binary.BigEndian
	m.offset = int64(be.Uint64(b))
	size := int32(be.Uint32(b[8:]))
	if size < legacyHeaderV0 {
		return m, 0, fmt.Errorf("%w: message size %d", ErrCorrupt, size)
	}
	if int64(len(b)-legacyLogOverhead) < int64(size) {
		return m, 0, fmt.Errorf("%w: message of %d bytes, %d left", ErrTruncated, size, len(b)-legacyLogOverhead)
	}
	msg := b[legacyLogOverhead : legacyLogOverhead+int(size)]
	m.magic = int8(msg[4])
	if m.magic != 0 && m.magic != 1 {
		return m, 0, fmt.Errorf("%w: message magic %d in a message set", ErrUnsupportedMagic, m.magic)
	}
	if got, want := crc32.ChecksumIEEE(msg[4:]), be.Uint32(msg); got != want {
		return m, 0, fmt.Errorf("%w: message at offset %d: crc %#08x, computed %#08x", ErrCorruptCRC, m.offset, want, got)
	}
	m.attributes = int8(msg[5])
	p := 6
	m.timestamp = -1
	if m.magic == 1 {
		if len(msg) < legacyHeaderV1 {
			return m, 0, fmt.Errorf("%w: magic 1 message size %d", ErrCorrupt, size)
		}
		m.timestamp = int64(be.Uint64(msg[p:]))
		p += 8
	}
	var ok bool
	if m.key, p, ok = legacyBytes(msg, p); !ok {
		return m, 0, fmt.Errorf("%w: message at offset %d: bad key length", ErrCorrupt, m.offset)
	}
	if m.value, p, ok = legacyBytes(msg, p); !ok {
		return m, 0, fmt.Errorf("%w: message at offset %d: bad value length", ErrCorrupt, m.offset)
	}
	if p != len(msg) {
		return m, 0, fmt.Errorf("%w: message at offset %d: %d bytes after the value", ErrCorrupt, m.offset, len(msg)-p)
	}
	return m, legacyLogOverhead + int(size), nil
}

// legacyBytes reads an int32-length-prefixed byte string (-1 = null).
func legacyBytes(b []byte, p int) ([]byte, int, bool) {
	if len(b)-p < 4 {
		return nil, p, false
	}
	n := int32(binary.BigEndian.Uint32(b[p:]))
	p += 4
	switch {
	case n == -1:
		return nil, p, true
	case n < 0 || int64(n) > int64(len(b)-p):
		return nil, p, false
	}
	return b[p : p+int(n) : p+int(n)], p + int(n), true
}

// FromMessageSet converts a produce request's message set of magic 0 and 1
// messages (Produce v0-2) into one v2 batch appended to dst, as a Kafka
// broker converts on append (LogValidator): offsets are renumbered from 0
// (the broker assigns them anyway); keys, values and null values are kept;
// magic 1 timestamps are kept (a LogAppendTime wrapper's timestamp stands
// for its inner messages) and magic 0 messages, which have none, stay
// without one (-1, which the store indexes by arrival time, as Kafka falls
// back to a segment's mtime). The messages must share one magic, and a
// compressed wrapper must be the only message of the set (Kafka: "Compressed
// outer record has more than one batch"); it is decompressed and the batch
// compressed again with its codec (gzip, snappy raw or xerial, lz4 with
// either LZ4 frame header checksum, see fixLZ4Header), so the store keeps
// it compressed. The batch has no producer id: old producers are not
// idempotent.
//
// Errors wrap ErrTruncated (a message cut short), ErrCorruptCRC, ErrCorrupt
// (bad lengths, an undecompressible or nested-compressed wrapper, inner
// magic unlike the wrapper's), ErrUnsupportedMagic (magic other than 0 and
// 1), ErrUnknownCodec, ErrTooLarge (past MaxDecompressedSize) and
// ErrInvalidRecord (no messages, mixed magics, a wrapper beside other
// messages). On error dst is returned unchanged.
func FromMessageSet(dst, set []byte) ([]byte, error) {
	var (
		records []Record
		codec   = None
		magic   = int8(-1)
	)
	for p := 0; p < len(set); {
		m, n, err := parseLegacyMessage(set[p:])
		if err != nil {
			return dst, err
		}
		p += n
		switch {
		case magic >= 0 && m.magic != magic:
			return dst, fmt.Errorf("%w: magic %d message after magic %d ones", ErrInvalidRecord, m.magic, magic)
		case codec != None || m.codec() != None && len(records) > 0:
			return dst, fmt.Errorf("%w: a compressed message must be the only one of its message set", ErrInvalidRecord)
		}
		magic = m.magic
		c := m.codec()
		if c == None {
			records = append(records, legacyRecord(&m, m.timestamp))
			continue
		}
		codec = c
		inner, err := decompressLegacy(m.value, c, m.magic)
		if err != nil {
			return dst, err
		}
		wrapperTS := int64(-2) // inner messages keep their own
		if m.magic == 1 && m.attributes&attrLogAppendTime != 0 {
			wrapperTS = m.timestamp
		}
		for q := 0; q < len(inner); {
			im, n, err := parseLegacyMessage(inner[q:])
			if err != nil {
				return dst, fmt.Errorf("inside the %s wrapper at offset %d: %w", c, m.offset, err)
			}
			q += n
			if im.codec() != None {
				return dst, fmt.Errorf("%w: the %s wrapper at offset %d holds a compressed message", ErrCorrupt, c, m.offset)
			}
			if im.magic != m.magic {
				return dst, fmt.Errorf("%w: magic %d message inside a magic %d wrapper", ErrCorrupt, im.magic, m.magic)
			}
			ts := im.timestamp
			if wrapperTS != -2 {
				ts = wrapperTS
			}
			records = append(records, legacyRecord(&im, ts))
		}
	}
	if len(records) == 0 {
		return dst, fmt.Errorf("%w: message set without messages", ErrInvalidRecord)
	}
	return Encode(dst, records, EncodeOptions{Codec: codec})
}

// legacyRecord is m as a record with timestamp ts (-1, and always for
// magic 0: none).
func legacyRecord(m *legacyMessage, ts int64) Record {
	r := Record{Key: m.key, Value: m.value}
	if m.magic > 0 && ts != -1 {
		r.Timestamp = fromMillis(ts)
	}
	return r
}

// decompressLegacy decompresses a wrapper's value.
func decompressLegacy(value []byte, c Codec, magic int8) ([]byte, error) {
	if c > Zstd || c == Zstd && magic < 2 {
		// zstd came with v2 batches (KIP-110): Kafka refuses it in
		// older formats.
		return nil, fmt.Errorf("%w: %d in a magic %d message", ErrUnknownCodec, c, magic)
	}
	if c == LZ4 {
		var err error
		if value, err = fixLZ4Header(value); err != nil {
			return nil, err
		}
	}
	return decompress(nil, value, c, MaxDecompressedSize)
}

// AppendMessageSet appends the records of the v2 batch to dst as a message
// set of magic 0 (Fetch v0-1) or 1 (Fetch v2-3), the way a broker
// down-converts: offsets are kept; headers are dropped (the old formats
// have none); magic 1 keeps the timestamps and the timestamp type, magic 0
// has neither; a control batch gives nothing (old consumers know no
// transactions). An uncompressed batch gives one message per record at or
// after fetchOffset; a compressed one gives one wrapper message, with the
// batch's last offset, holding all its records compressed with the same
// codec (lz4 with Kafka's magic 0 frame header checksum for magic 0, see
// fixLZ4Header). A zstd batch cannot be down-converted, as the old formats
// have no zstd (KIP-110: a broker answers UNSUPPORTED_COMPRESSION_TYPE):
// ErrUnknownCodec.
//
// Errors are Decode's and ErrUnknownCodec; on error dst is returned unchanged.
func AppendMessageSet(dst, batch []byte, magic int8, fetchOffset int64) ([]byte, error) {
	if magic != 0 && magic != 1 {
		return dst, fmt.Errorf("%w: cannot down-convert to magic %d", ErrUnsupportedMagic, magic)
	}
	info, err := Parse(batch)
	if err != nil {
		return dst, err
	}
	if info.Control() {
		return dst, nil
	}
	if info.Codec() == Zstd {
		return dst, fmt.Errorf("%w: zstd has no magic %d form", ErrUnknownCodec, magic)
	}
	info, records, err := Decode(batch)
	if err != nil {
		return dst, err
	}
	if len(records) == 0 {
		return dst, nil
	}
	attrs := int8(0)
	logAppend := magic == 1 && info.LogAppendTime()
	if logAppend {
		attrs |= attrLogAppendTime
	}
	ts := func(r *Record) int64 {
		if logAppend {
			return info.MaxTimestamp
		}
		return millis(r.Timestamp)
	}
	codec := info.Codec()
	if codec == None {
		for i := range records {
			r := &records[i]
			if r.Offset < fetchOffset {
				continue
			}
			dst = appendLegacyMessage(dst, r.Offset, magic, attrs, ts(r), r.Key, r.Value)
		}
		return dst, nil
	}
	// One wrapper: the inner set, compressed.
	buf := scratch.Get().(*[]byte)
	inner := (*buf)[:0]
	base := records[0].Offset
	maxTS := int64(-1)
	for i := range records {
		r := &records[i]
		off := r.Offset
		if magic == 1 {
			off -= base
		}
		t := ts(r)
		maxTS = max(maxTS, t)
		inner = appendLegacyMessage(inner, off, magic, 0, t, r.Key, r.Value)
	}
	start := len(dst)
	dst = appendLegacyHead(dst, records[len(records)-1].Offset, magic, attrs|int8(codec), maxTS)
	dst = append(dst, 0xff, 0xff, 0xff, 0xff) // null key
	dst = append(dst, 0, 0, 0, 0)             // value length, below
	valueAt := len(dst)
	dst, err = appendCompressed(dst, inner, codec)
	if cap(inner) <= maxPooledScratch {
		*buf = inner[:0]
		scratch.Put(buf)
	}
	if err != nil {
		return dst[:start], fmt.Errorf("recordbatch: %s compression: %w", codec, err)
	}
	if codec == LZ4 && magic == 0 {
		breakLZ4Header(dst[valueAt:])
	}
	binary.BigEndian.PutUint32(dst[valueAt-4:], uint32(len(dst)-valueAt))
	finishLegacyMessage(dst[start:])
	return dst, nil
}

// appendLegacyMessage appends one whole message.
func appendLegacyMessage(dst []byte, offset int64, magic, attrs int8, ts int64, key, value []byte) []byte {
	start := len(dst)
	dst = appendLegacyHead(dst, offset, magic, attrs, ts)
	dst = appendLegacyBytes(dst, key)
	dst = appendLegacyBytes(dst, value)
	finishLegacyMessage(dst[start:])
	return dst
}

// appendLegacyHead appends a message's fields up to the key, leaving the
// size and CRC for finishLegacyMessage.
func appendLegacyHead(dst []byte, offset int64, magic, attrs int8, ts int64) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(offset))
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, byte(magic), byte(attrs)) // size, crc
	if magic == 1 {
		dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	}
	return dst
}

func appendLegacyBytes(dst, b []byte) []byte {
	if b == nil {
		return append(dst, 0xff, 0xff, 0xff, 0xff)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// finishLegacyMessage fills in the size and CRC of the message m.
func finishLegacyMessage(m []byte) {
	binary.BigEndian.PutUint32(m[8:], uint32(len(m)-legacyLogOverhead))
	binary.BigEndian.PutUint32(m[12:], crc32.ChecksumIEEE(m[16:]))
}
