package mapping

import (
	"crypto/md5"
	"encoding/hex"
	"time"
	"unicode/utf8"
)

// MaxPartitionKeyLength is the longest Kinesis partition key, in Unicode
// characters (code points).
const MaxPartitionKeyLength = 256

// Substitute partition keys for Kafka keys that are not valid Kinesis
// partition keys. They are part of the wire contract: Kinesis readers see
// them and route by their MD5, so they must never change.
const (
	// NullKeyPartitionKey stands for a null Kafka key.
	NullKeyPartitionKey = "kafka-null-key"
	// EmptyKeyPartitionKey stands for an empty (zero-length, non-null) Kafka key.
	EmptyKeyPartitionKey = "kafka-empty-key"
	// HashedKeyPartitionKeyPrefix starts the substitute for a Kafka key that
	// is not valid UTF-8 or is longer than MaxPartitionKeyLength characters;
	// 32 lowercase hex digits of the key's MD5 follow.
	HashedKeyPartitionKeyPrefix = "kafka-key-md5-"
)

// PartitionKeyForKafkaKey returns the Kinesis partition key under which a
// Kinesis reader sees a record written by a Kafka producer with this key.
//
// A key that is valid UTF-8 and 1 to 256 Unicode characters long is used as
// is. Any other key gets a deterministic substitute:
//
//	nil key                          -> "kafka-null-key"
//	empty key                        -> "kafka-empty-key"
//	not UTF-8, or over 256 chars     -> "kafka-key-md5-" + lowercase hex MD5 of the key bytes
//
// so equal Kafka keys always get equal partition keys and keep landing on the
// same shard. The mapping is not injective: a Kafka key whose text is itself
// a substitute (say the string "kafka-null-key") maps to the same partition
// key as the key it stands for. Kinesis partition keys cannot carry the
// difference, and the record's Kafka key is stored unchanged, so only the
// Kinesis view is affected.
//
// The result always satisfies ValidPartitionKey.
func PartitionKeyForKafkaKey(key []byte) string {
	switch {
	case key == nil:
		return NullKeyPartitionKey
	case len(key) == 0:
		return EmptyKeyPartitionKey
	case usableAsPartitionKey(key):
		return string(key)
	}
	sum := md5.Sum(key)
	var buf [len(HashedKeyPartitionKeyPrefix) + 2*md5.Size]byte
	n := copy(buf[:], HashedKeyPartitionKeyPrefix)
	hex.Encode(buf[n:], sum[:])
	return string(buf[:])
}

// usableAsPartitionKey reports whether a non-empty Kafka key is a valid
// partition key as it is: valid UTF-8 of at most MaxPartitionKeyLength
// characters.
func usableAsPartitionKey(key []byte) bool {
	return len(key) <= utf8.UTFMax*MaxPartitionKeyLength && utf8.Valid(key) &&
		// At most 256 bytes cannot be more than 256 characters; only
		// longer keys need counting.
		(len(key) <= MaxPartitionKeyLength || utf8.RuneCount(key) <= MaxPartitionKeyLength)
}

// KafkaKeyForPartitionKey returns the Kafka key under which a Kafka reader
// sees a record written by a Kinesis producer with partition key pk: its
// UTF-8 bytes. It does not undo PartitionKeyForKafkaKey's substitutes (those
// records keep their original Kafka key in the store).
func KafkaKeyForPartitionKey(pk string) []byte {
	return []byte(pk)
}

// ValidPartitionKey reports whether pk is a valid Kinesis partition key:
// valid UTF-8, 1 to MaxPartitionKeyLength Unicode characters. The error
// wraps ErrInvalidPartitionKey and is suitable for an
// InvalidArgumentException message.
func ValidPartitionKey(pk string) error {
	switch {
	case pk == "":
		return parseError(ErrInvalidPartitionKey, pk, "must be at least 1 character")
	case len(pk) > utf8.UTFMax*MaxPartitionKeyLength:
		// Cheap reject before counting: even 4-byte characters exceed the limit.
		return parseError(ErrInvalidPartitionKey, pk, "longer than 256 characters")
	case !utf8.ValidString(pk):
		return parseError(ErrInvalidPartitionKey, pk, "not valid UTF-8")
	case len(pk) > MaxPartitionKeyLength && utf8.RuneCountInString(pk) > MaxPartitionKeyLength:
		return parseError(ErrInvalidPartitionKey, pk, "longer than 256 characters")
	}
	return nil
}

// NoKafkaTimestamp is the Kafka timestamp that means "none" (-1 on the wire).
const NoKafkaTimestamp int64 = -1

// ArrivalTimestamp converts a Kafka timestamp (milliseconds since the Unix
// epoch) to the time a Kinesis reader sees as ApproximateArrivalTimestamp,
// in UTC. It is a pure conversion: a caller holding NoKafkaTimestamp decides
// itself what to show instead.
func ArrivalTimestamp(kafkaMillis int64) time.Time {
	return time.UnixMilli(kafkaMillis).UTC()
}

// KafkaTimestamp converts a time to a Kafka timestamp in milliseconds since
// the Unix epoch, rounding down to the millisecond (Kafka's precision). The
// zero time.Time means "unknown" and maps to NoKafkaTimestamp.
//
// KafkaTimestamp(ArrivalTimestamp(ms)) == ms for every ms except the one
// that falls on the zero time.Time (January 1, year 1), far outside any
// timestamp a Kafka producer sends.
func KafkaTimestamp(t time.Time) int64 {
	if t.IsZero() {
		return NoKafkaTimestamp
	}
	return t.UnixMilli()
}
