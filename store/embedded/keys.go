package embedded

import "encoding/binary"

// Key layout. Every key starts with a one-byte tag naming its kind; numbers
// are big-endian so pebble's byte order is numeric order. Streams are keyed
// by a numeric id assigned at creation, never reused, so a stream deleted and
// created again under the same name shares nothing with its predecessor and
// deleting a stream is a range deletion per kind of key.
//
//	'm' "s/" name                              stream metadata (JSON)
//	'm' "n"                                    next stream id
//	'l' id partition                           log start: offset, byte position (2 x uint64)
//	'z' id partition                           byte position of the log's end (uint64)
//	'd' id partition baseOffset                a Kafka v2 record batch
//	't' id partition runningMaxTs baseOffset   time index (empty value)
//	'c' id partition [baseOffset]              cleaner checkpoint, tombstone horizons (compact.go)
//	'k' namespace 0x00 key                     gateway state
//	'm' "b"                                    next bucket id
//	'm' "f"                                    object file id lease: ids below it may be in use
//	'b' name                                   bucket (JSON: bucket id and store.Bucket)
//	'o' bucketID key                           object (JSON: file id and store.ObjectInfo)
//	'u' bucketID uploadID                      multipart upload (JSON: key, start, put options)
//	'p' bucketID uploadID partNumber(uint32)   uploaded part (JSON: file id and store.PartInfo)
//
// Buckets, like streams, are keyed by a numeric id never reused, and object
// bodies live in files named by file ids never reused (buckets.go, objfiles.go),
// not in pebble. Upload ids have a fixed length (uploadIDLen), so an
// upload's parts are exactly the keys under its prefix.
//
// Byte positions count the bytes of every batch ever appended to a
// partition; a partition's size is end minus start. The end is written with
// each append, in the same commit, so size needs no scan at open.
//
// The time index holds, per batch, the largest record timestamp of the
// partition up to and including that batch. It never decreases along the
// partition, so the first entry at or above a timestamp is the first batch
// that can hold a record at or after it (Kafka's time index works the same way).
const (
	tagMeta     = 'm'
	tagLogStart = 'l'
	tagEndPos   = 'z'
	tagData     = 'd'
	tagTime     = 't'
	tagState    = 'k'
	tagBucket   = 'b'
	tagObject   = 'o'
	tagUpload   = 'u'
	tagPart     = 'p'
)

var (
	keyNextID      = []byte{tagMeta, 'n'}
	keyStreamsFrom = []byte{tagMeta, 's', '/'}
	keyStreamsTo   = []byte{tagMeta, 's', '/' + 1}
	keyNextBucket  = []byte{tagMeta, 'b'}
	keyFileLease   = []byte{tagMeta, 'f'}
	keyBucketsFrom = []byte{tagBucket}
)

func streamKey(name string) []byte {
	return append(append([]byte(nil), keyStreamsFrom...), name...)
}

// partitionPrefix is tag, stream id and partition: 13 bytes.
func partitionPrefix(dst []byte, tag byte, id uint64, partition int32) []byte {
	dst = append(dst, tag)
	dst = binary.BigEndian.AppendUint64(dst, id)
	return binary.BigEndian.AppendUint32(dst, uint32(partition))
}

func streamPrefix(tag byte, id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tag}, id)
}

func logStartKey(id uint64, partition int32) []byte {
	return partitionPrefix(make([]byte, 0, 13), tagLogStart, id, partition)
}

func endPosKey(id uint64, partition int32) []byte {
	return partitionPrefix(make([]byte, 0, 13), tagEndPos, id, partition)
}

func dataKey(id uint64, partition int32, base int64) []byte {
	k := partitionPrefix(make([]byte, 0, 21), tagData, id, partition)
	return binary.BigEndian.AppendUint64(k, uint64(base))
}

// dataKeyOffset returns the base offset of a data key.
func dataKeyOffset(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[13:])) }

// timeKey orders timestamps numerically, negative ones (before 1970) too, by
// flipping the sign bit.
func timeKey(id uint64, partition int32, ts, base int64) []byte {
	k := partitionPrefix(make([]byte, 0, 29), tagTime, id, partition)
	k = binary.BigEndian.AppendUint64(k, uint64(ts)^(1<<63))
	return binary.BigEndian.AppendUint64(k, uint64(base))
}

func timeKeyParts(k []byte) (ts, base int64) {
	return int64(binary.BigEndian.Uint64(k[13:]) ^ (1 << 63)), int64(binary.BigEndian.Uint64(k[21:]))
}

// prefixEnd returns the smallest key above every key starting with prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // prefix is all 0xff: no upper bound
}

func stateKey(namespace, key string) []byte {
	k := make([]byte, 0, 2+len(namespace)+len(key))
	k = append(k, tagState)
	k = append(k, namespace...)
	k = append(k, 0)
	return append(k, key...)
}

func bucketKey(name string) []byte {
	return append([]byte{tagBucket}, name...)
}

// bucketPrefix is tag and bucket id: 9 bytes.
func bucketPrefix(tag byte, bucket uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, 64), tag), bucket)
}

func objectKey(bucket uint64, key string) []byte {
	return append(bucketPrefix(tagObject, bucket), key...)
}

func uploadKey(bucket uint64, uploadID string) []byte {
	return append(bucketPrefix(tagUpload, bucket), uploadID...)
}

func partsPrefix(bucket uint64, uploadID string) []byte {
	return append(bucketPrefix(tagPart, bucket), uploadID...)
}

func partKey(bucket uint64, uploadID string, number int) []byte {
	return binary.BigEndian.AppendUint32(partsPrefix(bucket, uploadID), uint32(number))
}
