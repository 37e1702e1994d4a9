package kinesis

// KPL aggregated records, unpacked on the way in.
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
//	message Tag { required string key = 1; optional string value = 2; }
//
// PutRecord(s) stores a valid aggregate as its user records, each with its
// own partition key and offset, so Kafka consumers see user records, not
// protobuf. Kinesis readers then get plain records; KCL-style
// de-aggregation passes plain records through, so a KCL application sees
// the same user records it would see against AWS (with sequence numbers of
// their own instead of one sequence number and sub-sequence numbers).
//
// The aggregate is routed as one record (by its own partition key or
// explicit hash key, as the KPL intends: it packs records bound for one
// shard) and counts as one record against throughput limits, as in AWS.
// The user records' explicit hash keys and tags are not kept.
//
// An aggregate that does not check out (MD5 mismatch, bad protobuf, an
// index outside its table, an invalid partition key, no user records) is
// stored as the one ordinary record it was sent as: KCL hands such a
// record to the application unchanged too.

import (
	"bytes"
	"crypto/md5"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/streambridge/bridge/mapping"
)

// kplMagic starts every KPL aggregated record.
var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// userRecord is one record packed in an aggregate.
type userRecord struct {
	partitionKey string
	data         []byte
}

// Field numbers of the aggregate's protobuf messages.
const (
	aggPartitionKeyTable    = 1
	aggExplicitHashKeyTable = 2
	aggRecords              = 3

	recPartitionKeyIndex    = 1
	recExplicitHashKeyIndex = 2
	recData                 = 3
	recTags                 = 4
)

// deaggregate returns the user records of a KPL aggregated record, or false
// when data is not a valid one. The records' data alias data.
func deaggregate(data []byte) ([]userRecord, bool) {
	if len(data) < len(kplMagic)+md5.Size || !bytes.HasPrefix(data, kplMagic) {
		return nil, false
	}
	body := data[len(kplMagic) : len(data)-md5.Size]
	sum := md5.Sum(body)
	if !bytes.Equal(sum[:], data[len(data)-md5.Size:]) {
		return nil, false
	}
	var (
		hashKeys int
		keyTable []string
		packed   [][]byte
	)
	for b := body; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		switch {
		case num == aggPartitionKeyTable && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(v) {
				return nil, false
			}
			keyTable = append(keyTable, string(v))
			b = b[n:]
		case num == aggExplicitHashKeyTable && typ == protowire.BytesType:
			_, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, false
			}
			hashKeys++
			b = b[n:]
		case num == aggRecords && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, false
			}
			packed = append(packed, v)
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, false
			}
			b = b[n:]
		}
	}
	if len(packed) == 0 {
		return nil, false
	}
	out := make([]userRecord, 0, len(packed))
	for _, p := range packed {
		r, ok := decodeUserRecord(p, keyTable, hashKeys)
		if !ok {
			return nil, false
		}
		out = append(out, r)
	}
	return out, true
}

// decodeUserRecord decodes one Record message against the aggregate's
// tables.
func decodeUserRecord(b []byte, keyTable []string, hashKeys int) (userRecord, bool) {
	var (
		r                 userRecord
		haveKey, haveData bool
	)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return r, false
		}
		b = b[n:]
		switch {
		case num == recPartitionKeyIndex && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 || v >= uint64(len(keyTable)) {
				return r, false
			}
			r.partitionKey, haveKey = keyTable[v], true
			b = b[n:]
		case num == recExplicitHashKeyIndex && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 || v >= uint64(hashKeys) {
				return r, false
			}
			b = b[n:]
		case num == recData && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return r, false
			}
			r.data, haveData = v, true
			b = b[n:]
		case num == recTags && typ == protowire.BytesType:
			_, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return r, false
			}
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return r, false
			}
			b = b[n:]
		}
	}
	if !haveKey || !haveData || mapping.ValidPartitionKey(r.partitionKey) != nil {
		return r, false
	}
	if r.data == nil {
		r.data = []byte{}
	}
	return r, true
}
