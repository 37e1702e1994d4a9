package kinesis

import (
	"encoding/binary"
	"slices"
)

// appendCBOR appends the answer as the CBOR codec would encode the struct
// (definite lengths, fields in order, the same omissions), growing b once:
// the codec's reflection costs more than the read for a 10 MiB answer, and
// CBOR is what KCL and the connect Kinesis source read with.
func (o *getRecordsOutput) appendCBOR(b []byte) ([]byte, error) {
	size := 128
	for i := range o.Records {
		r := &o.Records[i]
		size += 128 + len(r.Data) + len(r.PartitionKey) + len(r.SequenceNumber)
	}
	b = slices.Grow(b, size)
	fields := 2 // Records, MillisBehindLatest
	if o.NextShardIterator != nil {
		fields++
	}
	if len(o.ChildShards) > 0 {
		fields++
	}
	b = cborHead(b, cborMap, uint64(fields))
	b = cborText(b, "Records")
	b = cborHead(b, cborArray, uint64(len(o.Records)))
	for i := range o.Records {
		b = appendKinesisRecordCBOR(b, &o.Records[i])
	}
	if o.NextShardIterator != nil {
		b = cborText(b, "NextShardIterator")
		b = cborText(b, *o.NextShardIterator)
	}
	b = cborText(b, "MillisBehindLatest")
	b = cborInt(b, o.MillisBehindLatest)
	if len(o.ChildShards) > 0 {
		children, err := cborCodec{}.Encode(o.ChildShards)
		if err != nil {
			return nil, err
		}
		b = cborText(b, "ChildShards")
		b = append(b, children...)
	}
	return b, nil
}

func appendKinesisRecordCBOR(b []byte, r *kinesisRecord) []byte {
	fields := 3 // SequenceNumber, Data, PartitionKey
	if r.ApproximateArrivalTimestamp != nil {
		fields++
	}
	if r.EncryptionType != "" {
		fields++
	}
	b = cborHead(b, cborMap, uint64(fields))
	b = cborText(b, "SequenceNumber")
	b = cborText(b, r.SequenceNumber)
	if r.ApproximateArrivalTimestamp != nil {
		b = cborText(b, "ApproximateArrivalTimestamp")
		b = cborHead(b, cborTag, 1)
		b = cborInt(b, r.ApproximateArrivalTimestamp.UnixMilli())
	}
	b = cborText(b, "Data")
	if r.Data == nil {
		b = append(b, cborNull)
	} else {
		b = cborHead(b, cborBytes, uint64(len(r.Data)))
		b = append(b, r.Data...)
	}
	b = cborText(b, "PartitionKey")
	b = cborText(b, r.PartitionKey)
	if r.EncryptionType != "" {
		b = cborText(b, "EncryptionType")
		b = cborText(b, r.EncryptionType)
	}
	return b
}

// CBOR's major types (RFC 8949, section 3.1), shifted into place.
const (
	cborUint   = 0 << 5
	cborNeg    = 1 << 5
	cborBytes  = 2 << 5
	cborString = 3 << 5
	cborArray  = 4 << 5
	cborMap    = 5 << 5
	cborTag    = 6 << 5
	cborNull   = 0xf6
)

// cborHead appends a data item's head: its major type and argument, in
// the shortest form.
func cborHead(b []byte, major byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(b, major|byte(n))
	case n <= 0xff:
		return append(b, major|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, major|27), n)
}

func cborText(b []byte, s string) []byte {
	return append(cborHead(b, cborString, uint64(len(s))), s...)
}

func cborInt(b []byte, n int64) []byte {
	if n < 0 {
		return cborHead(b, cborNeg, uint64(-(n + 1)))
	}
	return cborHead(b, cborUint, uint64(n))
}
