package mapping

import (
	"crypto/md5"
	"encoding/binary"
)

// Murmur2 returns the 32-bit MurmurHash2 of data exactly as the Kafka Java
// client computes it (org.apache.kafka.common.utils.Utils.murmur2, seed
// 0x9747b28c, 4-byte blocks read little-endian), as a signed int32 the way
// Java returns it. It is the hash of Kafka's default partitioner, so any key
// hashed here lands where Java, franz-go's default and librdkafka's
// murmur2_random producers put it.
func Murmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	// Java seeds with the int length; keys are far below 2^31 bytes, so the
	// truncation to 32 bits never differs from Java in practice.
	h := seed ^ uint32(len(data))
	for len(data) >= 4 {
		k := binary.LittleEndian.Uint32(data)
		data = data[4:]
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	// The tail bytes are mixed in from the highest down, falling through like
	// the Java switch.
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// KafkaPartition returns the partition the Kafka default partitioner picks
// for a record with this key among numPartitions partitions:
// toPositive(murmur2(key)) % numPartitions, where toPositive clears the sign
// bit (h & 0x7fffffff). Clearing the bit rather than negating a negative
// result is what Java does; Sarama's default hash partitioner negates (and
// hashes with FNV-1a), so it places keys differently. Sarama's
// NewMurmur2Partitioner and franz-go's default StickyKeyPartitioner agree
// with this function.
//
// Kafka hashes only non-null keys; a producer spreads null-key records by
// other means (sticky or round-robin). KafkaPartition treats a nil key like
// an empty one, so a caller that must mirror Kafka checks for nil first.
//
// KafkaPartition panics if numPartitions < 1.
func KafkaPartition(key []byte, numPartitions int) int {
	if numPartitions < 1 {
		panic("mapping: KafkaPartition needs at least one partition")
	}
	return int(uint32(Murmur2(key))&0x7fffffff) % numPartitions
}

// KinesisPartition returns the index in ranges of the shard a Kinesis
// producer would write a record with this Kafka key to: the key is turned
// into a partition key by PartitionKeyForKafkaKey, hashed with MD5 like
// Kinesis does, and looked up with ShardForHashKey.
//
// It is the placement for Go users who want one key to land on the same shard
// whether it is written through the Kafka or the Kinesis front end: a Kafka
// producer that partitions with KinesisPartition over a stream's open shards
// (sorted by hash key) agrees with Kinesis producers using the same key.
// Like ShardForHashKey it returns -1 if no range contains the hash key, which
// cannot happen when ranges tile the hash space.
func KinesisPartition(key []byte, ranges []HashRange) int {
	var h HashKey
	if len(key) > 0 && usableAsPartitionKey(key) {
		// The common case, hashed in place: PartitionKeyForKafkaKey would
		// return the key unchanged, and converting it to a string would
		// allocate on every record.
		h = HashKeyFromBytes(md5.Sum(key))
	} else {
		h = HashPartitionKey(PartitionKeyForKafkaKey(key))
	}
	return ShardForHashKey(ranges, h)
}
