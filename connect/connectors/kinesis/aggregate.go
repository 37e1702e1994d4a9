package kinesis

// KPL aggregated records, unpacked by the source task.
//
// The Kinesis Producer Library packs many user records into one Kinesis
// record: the magic bytes F3 89 9A C2, a protobuf AggregatedRecord, and the
// MD5 of that protobuf:
//
//	message AggregatedRecord {
//	  repeated string partition_key_table     = 1;
//	  repeated string explicit_hash_key_table = 2;
//	  repeated Record records                 = 3;
//	}
//	message Record {
//	  required uint64 partition_key_index     = 1;
//	  optional uint64 explicit_hash_key_index = 2;
//	  required bytes  data                    = 3;
//	  repeated Tag    tags                    = 4;
//	}
//
// A record that starts with the magic but does not check out (short, MD5
// mismatch, bad protobuf, an index outside its table, no user records) is
// handed on as the one ordinary record it is, as KCL does: a producer may
// well send data that happens to start with those four bytes.

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// kplMagic starts every KPL aggregated record.
var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// subRecord is one user record packed in an aggregate. Its data aliases the
// aggregate's.
type subRecord struct {
	PartitionKey    string
	ExplicitHashKey string // empty when the record has none
	Data            []byte
}

// Field numbers of the aggregate's protobuf messages.
const (
	aggPartitionKeyTable    = 1
	aggExplicitHashKeyTable = 2
	aggRecords              = 3

	recPartitionKeyIndex    = 1
	recExplicitHashKeyIndex = 2
	recData                 = 3
)

// errNotAggregate is returned for data without the KPL magic.
var errNotAggregate = errors.New("not a KPL aggregated record")

// isAggregate reports whether data starts like a KPL aggregated record.
func isAggregate(data []byte) bool { return bytes.HasPrefix(data, kplMagic) }

// deaggregate returns the user records of a KPL aggregated record, in their
// order (the sub-sequence number of each is its index), or why data is not
// a valid aggregate.
func deaggregate(data []byte) ([]subRecord, error) {
	if !isAggregate(data) {
		return nil, errNotAggregate
	}
	if len(data) < len(kplMagic)+md5.Size {
		return nil, errors.New("aggregated record shorter than its magic and checksum")
	}
	body := data[len(kplMagic) : len(data)-md5.Size]
	if sum := md5.Sum(body); !bytes.Equal(sum[:], data[len(data)-md5.Size:]) {
		return nil, errors.New("aggregated record checksum mismatch")
	}
	var keys, hashKeys []string
	var packed [][]byte
	for b := body; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("aggregated record: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.BytesType && num >= aggPartitionKeyTable && num <= aggRecords {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, fmt.Errorf("aggregated record: %w", protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case aggPartitionKeyTable:
				keys = append(keys, string(v))
			case aggExplicitHashKeyTable:
				hashKeys = append(hashKeys, string(v))
			default:
				packed = append(packed, v)
			}
			continue
		}
		// Unknown fields are skipped, as protobuf readers do.
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return nil, fmt.Errorf("aggregated record: %w", protowire.ParseError(n))
		}
		b = b[n:]
	}
	if len(packed) == 0 {
		return nil, errors.New("aggregated record holds no user records")
	}
	out := make([]subRecord, 0, len(packed))
	for i, p := range packed {
		r, err := decodeSubRecord(p, keys, hashKeys)
		if err != nil {
			return nil, fmt.Errorf("aggregated record, user record %d: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// decodeSubRecord decodes one Record message against the aggregate's tables.
func decodeSubRecord(b []byte, keys, hashKeys []string) (subRecord, error) {
	var r subRecord
	var haveKey, haveData bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return r, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == recPartitionKeyIndex && typ == protowire.VarintType,
			num == recExplicitHashKeyIndex && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return r, protowire.ParseError(n)
			}
			b = b[n:]
			table := keys
			if num == recExplicitHashKeyIndex {
				table = hashKeys
			}
			if v >= uint64(len(table)) {
				return r, fmt.Errorf("index %d outside its table of %d", v, len(table))
			}
			if num == recPartitionKeyIndex {
				r.PartitionKey, haveKey = table[v], true
			} else {
				r.ExplicitHashKey = table[v]
			}
		case num == recData && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return r, protowire.ParseError(n)
			}
			b = b[n:]
			r.Data, haveData = v, true
		default: // tags and unknown fields
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return r, protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	switch {
	case !haveKey:
		return r, errors.New("no partition key index")
	case !haveData:
		return r, errors.New("no data")
	}
	if r.Data == nil {
		r.Data = []byte{}
	}
	return r, nil
}

// aggregate builds a KPL aggregated record of recs: the inverse of
// deaggregate, used by tests and kept here so the fuzz target can check the
// round trip.
func aggregate(recs []subRecord) []byte {
	keyIndex := map[string]uint64{}
	hashIndex := map[string]uint64{}
	var keys, hashes []string
	var body []byte
	for _, r := range recs {
		if _, ok := keyIndex[r.PartitionKey]; !ok {
			keyIndex[r.PartitionKey] = uint64(len(keys))
			keys = append(keys, r.PartitionKey)
		}
		if r.ExplicitHashKey != "" {
			if _, ok := hashIndex[r.ExplicitHashKey]; !ok {
				hashIndex[r.ExplicitHashKey] = uint64(len(hashes))
				hashes = append(hashes, r.ExplicitHashKey)
			}
		}
	}
	for _, k := range keys {
		body = protowire.AppendTag(body, aggPartitionKeyTable, protowire.BytesType)
		body = protowire.AppendString(body, k)
	}
	for _, h := range hashes {
		body = protowire.AppendTag(body, aggExplicitHashKeyTable, protowire.BytesType)
		body = protowire.AppendString(body, h)
	}
	for _, r := range recs {
		var m []byte
		m = protowire.AppendTag(m, recPartitionKeyIndex, protowire.VarintType)
		m = protowire.AppendVarint(m, keyIndex[r.PartitionKey])
		if r.ExplicitHashKey != "" {
			m = protowire.AppendTag(m, recExplicitHashKeyIndex, protowire.VarintType)
			m = protowire.AppendVarint(m, hashIndex[r.ExplicitHashKey])
		}
		m = protowire.AppendTag(m, recData, protowire.BytesType)
		m = protowire.AppendBytes(m, r.Data)
		body = protowire.AppendTag(body, aggRecords, protowire.BytesType)
		body = protowire.AppendBytes(body, m)
	}
	sum := md5.Sum(body)
	out := append(append([]byte{}, kplMagic...), body...)
	return append(out, sum[:]...)
}
