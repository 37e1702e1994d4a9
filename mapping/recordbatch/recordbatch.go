// Package recordbatch encodes, parses and decodes Kafka record batches
// (message format v2, "magic 2"), the storage unit of StreamBridge: the store
// keeps batches as producers sent them (CRC-checked, compression kept, only
// the base offset rewritten) and Kinesis reads decode them.
//
// Everything here is a pure function over byte slices: no I/O, no goroutines.
//
// # Wire format
//
// A v2 batch is a fixed 61-byte header followed by the records, which are
// compressed as one blob when the codec in the attributes is not None:
//
//	offset  size  field
//	 0       8    baseOffset
//	 8       4    batchLength (bytes after this field)
//	12       4    partitionLeaderEpoch
//	16       1    magic (2)
//	17       4    crc (CRC-32C of bytes 21..end)
//	21       2    attributes
//	23       4    lastOffsetDelta
//	27       8    firstTimestamp (baseTimestamp)
//	35       8    maxTimestamp
//	43       8    producerId
//	51       2    producerEpoch
//	53       4    baseSequence
//	57       4    numRecords
//	61       -    records
//
// The header is read and written at fixed offsets; the records are encoded
// and decoded directly from and into the byte slices the same way franz-go's
// kgo does internally (readRawRecordsDirect), so a Decode costs no per-record
// intermediate structs. kmsg.RecordBatch and kmsg.Record are the reference
// implementation the tests check interoperability against.
//
// # Aliasing
//
// Records returned by Decode alias their input: for an uncompressed batch the
// Key, Value and header values point into the batch itself, for a compressed
// batch into a buffer freshly allocated for that call. Do not modify a batch
// while records decoded from it are in use; copy what must outlive it.
//
// # Limits
//
// Bad input never panics. Every allocation is bounded by the input length,
// except decompression output, which is bounded by MaxDecompressedSize.
package recordbatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"
)

// Header is one record header. A nil Value is a null header value.
type Header struct {
	Key   string
	Value []byte
}

// Record is one Kafka record, also the core model's record (key = Kinesis
// partition key, value = data, nil value = tombstone).
type Record struct {
	Offset    int64     // absolute offset (base offset + delta)
	Timestamp time.Time // ms precision; the zero Time is Kafka's "no timestamp" (-1)
	Key       []byte    // nil = null key
	Value     []byte    // nil = null value (tombstone)
	Headers   []Header
}

// Codec is the compression codec, attribute bits 0-2.
type Codec int8

// The codecs Kafka defines.
const (
	None   Codec = 0
	Gzip   Codec = 1
	Snappy Codec = 2
	LZ4    Codec = 3
	Zstd   Codec = 4
)

// String returns the codec's Kafka name ("none", "gzip", "snappy", "lz4", "zstd").
func (c Codec) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Snappy:
		return "snappy"
	case LZ4:
		return "lz4"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// Attribute bits.
const (
	attrCodecMask     = 0x07
	attrLogAppendTime = 0x08
	attrTransactional = 0x10
	attrControl       = 0x20
	// attrOffloaded and attrClientPointers are the bridge's own: see
	// Offloaded and ClientPointers.
	attrOffloaded      = 0x80
	attrClientPointers = 0x100
)

// HeaderSize is the size of the fixed header of a v2 batch.
const HeaderSize = 61

// Field offsets in the header.
const (
	offBaseOffset      = 0
	offLength          = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offFirstTimestamp  = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offNumRecords      = 57

	// lengthOverhead is the part of the header that batchLength does
	// not count (baseOffset and batchLength itself).
	lengthOverhead = 12
	// minLength is the smallest valid batchLength: a header with no records.
	minLength = HeaderSize - lengthOverhead

	// minRecordSize is the smallest encoded record: length, attributes,
	// timestampDelta, offsetDelta, key length, value length and header
	// count, one byte each.
	minRecordSize = 7
	// minHeaderSize is the smallest encoded header: key and value length.
	minHeaderSize = 2
)

// Errors. Each error returned wraps exactly one of these (errors.Is);
// ErrCorruptCRC also matches ErrCorrupt.
var (
	// ErrTruncated: the input ends before the batch does.
	ErrTruncated = errors.New("recordbatch: truncated batch")
	// ErrUnsupportedMagic: the batch is not message format v2 (magic 0
	// and 1 are the pre-0.11 message sets).
	ErrUnsupportedMagic = errors.New("recordbatch: unsupported magic (message format), want 2")
	// ErrCorrupt: lengths, counts or record encodings that cannot be.
	ErrCorrupt = errors.New("recordbatch: corrupt batch")
	// ErrCorruptCRC: the CRC does not match the bytes.
	ErrCorruptCRC = fmt.Errorf("%w: CRC mismatch", ErrCorrupt)
	// ErrUnknownCodec: attribute codec bits 5-7, or an EncodeOptions.Codec out of range.
	ErrUnknownCodec = errors.New("recordbatch: unknown compression codec")
	// ErrTooLarge: decompressed records exceed MaxDecompressedSize, or an
	// encoded batch would exceed the 2 GiB a batchLength can describe.
	ErrTooLarge = errors.New("recordbatch: batch too large")
	// ErrInvalidRecord: a well-formed batch that a broker refuses from a
	// producer (Kafka's INVALID_RECORD), see CheckProduce.
	ErrInvalidRecord = errors.New("recordbatch: invalid record batch")
	// ErrNoRecords: Encode was given no records.
	ErrNoRecords = errors.New("recordbatch: no records to encode")
	// ErrInvalidOffsets: Encode was given offsets that do not increase
	// strictly from records[0].Offset, or that span more than an int32.
	ErrInvalidOffsets = errors.New("recordbatch: record offsets must increase strictly within an int32 delta")
)

// Info is the fixed 61-byte header of a v2 batch.
type Info struct {
	BaseOffset           int64
	Length               int32 // batchLength field: bytes after it
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	FirstTimestamp       int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Codec returns the compression codec (attribute bits 0-2).
func (i Info) Codec() Codec { return Codec(i.Attributes & attrCodecMask) }

// LogAppendTime reports whether the timestamp type is LogAppendTime (attribute bit 3).
func (i Info) LogAppendTime() bool { return i.Attributes&attrLogAppendTime != 0 }

// Transactional reports whether the batch is part of a transaction (attribute bit 4).
func (i Info) Transactional() bool { return i.Attributes&attrTransactional != 0 }

// Control reports whether the batch holds control records (attribute bit 5).
func (i Info) Control() bool { return i.Attributes&attrControl != 0 }

// Offloaded reports whether the batch is marked as holding records whose
// payloads were offloaded to an object store (attribute bit 7, which Kafka
// leaves unused). The mark is the bridge's, for stored batches only: it
// tells a reader which batches to look into, and never leaves the bridge.
func (i Info) Offloaded() bool { return i.Attributes&attrOffloaded != 0 }

// ClientPointers reports whether the batch is marked as holding pointer
// records that clients sent (attribute bit 8), whose objects the clients
// wrote: the bridge's other mark, never leaving the bridge either.
func (i Info) ClientPointers() bool { return i.Attributes&attrClientPointers != 0 }

// LastOffset is the offset of the last record: BaseOffset + LastOffsetDelta.
func (i Info) LastOffset() int64 { return i.BaseOffset + int64(i.LastOffsetDelta) }

// Size is the total size of the batch in bytes: 12 + Length.
func (i Info) Size() int { return lengthOverhead + int(i.Length) }

// Parse reads the header of the batch at the start of raw. Only the header
// must be present (HeaderSize bytes): Parse does not look at the records,
// so it suits reading a header from disk before the rest. Use Info.Size to
// know how many bytes the whole batch takes, and Split or Decode to check
// that they are there.
//
// Errors: ErrTruncated when raw is shorter than the header (or than the
// magic byte), ErrUnsupportedMagic when the magic is not 2, ErrCorrupt when
// batchLength is shorter than a header, numRecords or lastOffsetDelta is
// negative, or lastOffsetDelta is less than numRecords-1 (offsets inside a
// batch are distinct, so that many records cannot fit).
func Parse(raw []byte) (Info, error) {
	if len(raw) <= offMagic {
		return Info{}, ErrTruncated
	}
	if m := int8(raw[offMagic]); m != 2 {
		return Info{}, fmt.Errorf("%w: magic %d", ErrUnsupportedMagic, m)
	}
	if len(raw) < HeaderSize {
		return Info{}, ErrTruncated
	}
	raw = raw[:HeaderSize]
	be := binary.BigEndian
	i := Info{
		BaseOffset:           int64(be.Uint64(raw[offBaseOffset:])),
		Length:               int32(be.Uint32(raw[offLength:])),
		PartitionLeaderEpoch: int32(be.Uint32(raw[offLeaderEpoch:])),
		Magic:                int8(raw[offMagic]),
		CRC:                  be.Uint32(raw[offCRC:]),
		Attributes:           int16(be.Uint16(raw[offAttributes:])),
		LastOffsetDelta:      int32(be.Uint32(raw[offLastOffsetDelta:])),
		FirstTimestamp:       int64(be.Uint64(raw[offFirstTimestamp:])),
		MaxTimestamp:         int64(be.Uint64(raw[offMaxTimestamp:])),
		ProducerID:           int64(be.Uint64(raw[offProducerID:])),
		ProducerEpoch:        int16(be.Uint16(raw[offProducerEpoch:])),
		BaseSequence:         int32(be.Uint32(raw[offBaseSequence:])),
		NumRecords:           int32(be.Uint32(raw[offNumRecords:])),
	}
	switch {
	case i.Length < minLength || i.Length > math.MaxInt32-lengthOverhead:
		return Info{}, fmt.Errorf("%w: batchLength %d", ErrCorrupt, i.Length)
	case i.NumRecords < 0:
		return Info{}, fmt.Errorf("%w: numRecords %d", ErrCorrupt, i.NumRecords)
	case i.LastOffsetDelta < 0 || i.LastOffsetDelta < i.NumRecords-1:
		return Info{}, fmt.Errorf("%w: lastOffsetDelta %d with %d records", ErrCorrupt, i.LastOffsetDelta, i.NumRecords)
	case i.Codec() == None && int64(i.NumRecords)*minRecordSize > int64(i.Length-minLength):
		return Info{}, fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrCorrupt, i.NumRecords, i.Length-minLength)
	}
	return i, nil
}

// Split cuts a produce request's records bytes (one or more concatenated
// batches) into individual batches, validating each header with Parse. A
// trailing partial batch is ErrTruncated. The returned slices alias records
// (with their capacity cut at their end, so appending to one cannot
// overwrite the next). Empty input returns no batches and no error.
func Split(records []byte) ([][]byte, error) {
	n, err := countBatches(records)
	if err != nil || n == 0 {
		return nil, err
	}
	return SplitAppend(make([][]byte, 0, n), records)
}

// SplitAppend is Split appending to dst, to reuse a slice across calls. On
// error it returns dst unchanged.
func SplitAppend(dst [][]byte, records []byte) ([][]byte, error) {
	orig := len(dst)
	for len(records) > 0 {
		i, err := Parse(records)
		if err != nil {
			return dst[:orig], err
		}
		size := i.Size()
		if len(records) < size {
			return dst[:orig], ErrTruncated
		}
		dst = append(dst, records[:size:size])
		records = records[size:]
	}
	return dst, nil
}

func countBatches(records []byte) (int, error) {
	n := 0
	for len(records) > 0 {
		i, err := Parse(records)
		if err != nil {
			return 0, err
		}
		size := i.Size()
		if len(records) < size {
			return 0, ErrTruncated
		}
		records = records[size:]
		n++
	}
	return n, nil
}

// CheckProduce makes the checks a Kafka broker makes on a batch from a
// producer before appending it, short of decompressing it: batch is exactly
// one complete v2 batch (as Split returns them), its CRC matches, its codec
// is known, it holds at least one record, its offset deltas span exactly
// its records (lastOffsetDelta = numRecords-1), and it is not a control
// batch (only brokers write those). It allocates nothing on success.
//
// Errors: those of Parse and VerifyCRC, ErrCorrupt for bytes after the
// batch, ErrUnknownCodec, and ErrInvalidRecord for the rest. Map ErrCorrupt
// (including ErrCorruptCRC) and ErrTruncated to CORRUPT_MESSAGE,
// ErrUnsupportedMagic to UNSUPPORTED_VERSION (or CORRUPT_MESSAGE), and
// ErrInvalidRecord and ErrUnknownCodec to INVALID_RECORD.
func CheckProduce(batch []byte) (Info, error) {
	i, err := Parse(batch)
	if err != nil {
		return i, err
	}
	switch size := i.Size(); {
	case len(batch) < size:
		return i, ErrTruncated
	case len(batch) > size:
		return i, fmt.Errorf("%w: %d bytes after the batch", ErrCorrupt, len(batch)-size)
	}
	if err := VerifyCRC(batch); err != nil {
		return i, err
	}
	switch {
	case i.Codec() > Zstd:
		return i, fmt.Errorf("%w: %d", ErrUnknownCodec, i.Codec())
	case i.NumRecords == 0:
		return i, fmt.Errorf("%w: no records", ErrInvalidRecord)
	case i.LastOffsetDelta != i.NumRecords-1:
		return i, fmt.Errorf("%w: lastOffsetDelta %d with %d records", ErrInvalidRecord, i.LastOffsetDelta, i.NumRecords)
	case i.Control():
		return i, fmt.Errorf("%w: control batch from a client", ErrInvalidRecord)
	}
	return i, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// VerifyCRC checks the CRC-32C (Castagnoli) over attributes..end of the
// batch at the start of batch (bytes past Info.Size are ignored). It returns
// ErrCorruptCRC on mismatch, or Parse's errors / ErrTruncated when the
// batch is not all there.
func VerifyCRC(batch []byte) error {
	i, err := Parse(batch)
	if err != nil {
		return err
	}
	size := i.Size()
	if len(batch) < size {
		return ErrTruncated
	}
	if got := crc32.Checksum(batch[offAttributes:size], castagnoli); got != i.CRC {
		return fmt.Errorf("%w: header %#08x, computed %#08x", ErrCorruptCRC, i.CRC, got)
	}
	return nil
}

// SetBaseOffset rewrites the base offset in place (the CRC does not cover
// it). A batch shorter than 8 bytes is left alone.
func SetBaseOffset(batch []byte, base int64) {
	if len(batch) < 8 {
		return
	}
	binary.BigEndian.PutUint64(batch[offBaseOffset:], uint64(base))
}

// SetPartitionLeaderEpoch rewrites the partition leader epoch in place (the
// CRC does not cover it), as a broker does on append. A batch shorter than
// the field is left alone.
func SetPartitionLeaderEpoch(batch []byte, epoch int32) {
	if len(batch) < offMagic {
		return
	}
	binary.BigEndian.PutUint32(batch[offLeaderEpoch:], uint32(epoch))
}

// SetLogAppendTime sets the timestamp-type bit and MaxTimestamp to ms (what
// a broker does for message.timestamp.type=LogAppendTime) and recomputes the
// CRC. Readers then see ms as every record's timestamp. A batch that does
// not parse or is not all there is left alone.
func SetLogAppendTime(batch []byte, ms int64) {
	i, err := Parse(batch)
	if err != nil || len(batch) < i.Size() {
		return
	}
	be := binary.BigEndian
	be.PutUint16(batch[offAttributes:], uint16(i.Attributes|attrLogAppendTime))
	be.PutUint64(batch[offMaxTimestamp:], uint64(ms))
	be.PutUint32(batch[offCRC:], crc32.Checksum(batch[offAttributes:i.Size()], castagnoli))
}

// ClearMarks clears the bridge's marks (Offloaded, ClientPointers) and
// recomputes the CRC when one was set. A batch that does not parse or is
// not all there is left alone.
func ClearMarks(batch []byte) {
	i, err := Parse(batch)
	if err != nil || len(batch) < i.Size() || i.Attributes&(attrOffloaded|attrClientPointers) == 0 {
		return
	}
	be := binary.BigEndian
	be.PutUint16(batch[offAttributes:], uint16(i.Attributes&^(attrOffloaded|attrClientPointers)))
	be.PutUint32(batch[offCRC:], crc32.Checksum(batch[offAttributes:i.Size()], castagnoli))
}

// millis converts a time to Kafka milliseconds; the zero Time is -1 ("no timestamp").
func millis(t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return t.UnixMilli()
}

// fromMillis converts Kafka milliseconds to a UTC time; -1 is the zero Time.
func fromMillis(ms int64) time.Time {
	if ms == -1 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
