package mapping

import (
	"strconv"
	"testing"
)

// Benchmarks for the per-record hot paths. Run with -benchmem: HashPartitionKey,
// Murmur2, KafkaPartition and AppendSequenceNumber must not allocate, and
// SequenceNumber and ParseSequenceNumber allocate at most the result string.

var (
	sinkHashKey HashKey
	sinkInt     int
	sinkInt32   int32
	sinkString  string
	sinkBytes   []byte
)

var benchKeySizes = []int{8, 36, 256}

func benchKey(n int) []byte {
	key := make([]byte, n)
	for i := range key {
		key[i] = 'a' + byte(i%26)
	}
	return key
}

func BenchmarkHashPartitionKey(b *testing.B) {
	for _, n := range benchKeySizes {
		pk := string(benchKey(n))
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				sinkHashKey = HashPartitionKey(pk)
			}
		})
	}
}

func BenchmarkMurmur2(b *testing.B) {
	for _, n := range benchKeySizes {
		key := benchKey(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				sinkInt32 = Murmur2(key)
			}
		})
	}
}

func BenchmarkKafkaPartition(b *testing.B) {
	key := benchKey(36)
	b.ReportAllocs()
	for b.Loop() {
		sinkInt = KafkaPartition(key, 12)
	}
}

func BenchmarkKinesisPartition(b *testing.B) {
	key := benchKey(36)
	ranges := EvenSplit(64)
	b.ReportAllocs()
	for b.Loop() {
		sinkInt = KinesisPartition(key, ranges)
	}
}

func BenchmarkSequenceNumber(b *testing.B) {
	b.ReportAllocs()
	offset := int64(1) << 40
	for b.Loop() {
		sinkString = SequenceNumber(123, offset)
		offset++
	}
}

func BenchmarkAppendSequenceNumber(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	offset := int64(1) << 40
	for b.Loop() {
		sinkBytes = AppendSequenceNumber(buf[:0], 123, offset)
		offset++
	}
}

func BenchmarkParseSequenceNumber(b *testing.B) {
	s := SequenceNumber(123, 1<<40)
	b.ReportAllocs()
	for b.Loop() {
		shard, _, err := ParseSequenceNumber(s)
		if err != nil {
			b.Fatal(err)
		}
		sinkInt = shard
	}
}

func BenchmarkHashKeyString(b *testing.B) {
	h := MaxHashKey
	b.ReportAllocs()
	for b.Loop() {
		sinkString = h.String()
	}
}

func BenchmarkParseHashKey(b *testing.B) {
	s := MaxHashKey.String()
	b.ReportAllocs()
	for b.Loop() {
		h, err := ParseHashKey(s)
		if err != nil {
			b.Fatal(err)
		}
		sinkHashKey = h
	}
}

func BenchmarkShardForHashKey(b *testing.B) {
	ranges := EvenSplit(1024)
	h := HashPartitionKey("order-42")
	b.ReportAllocs()
	for b.Loop() {
		sinkInt = ShardForHashKey(ranges, h)
	}
}

func BenchmarkPartitionKeyForKafkaKey(b *testing.B) {
	for _, tc := range []struct {
		name string
		key  []byte
	}{
		{"ascii", benchKey(36)},
		{"long", benchKey(1000)},
		{"binary", []byte{0xff, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkString = PartitionKeyForKafkaKey(tc.key)
			}
		})
	}
}
