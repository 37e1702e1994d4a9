package mapping

import (
	"strings"
	"testing"
)

// TestHotPathsDoNotAllocate pins the allocation behaviour the benchmarks
// report, so a regression fails a test instead of waiting for someone to read
// benchmark output. Counting allocations is deterministic, unlike timing.
func TestHotPathsDoNotAllocate(t *testing.T) {
	key := []byte("order-0123456789-0123456789-0123456789") // over 32 bytes on purpose
	pk := string(key)
	longPK := strings.Repeat("🔑", MaxPartitionKeyLength)
	ranges := EvenSplit(64)
	seq := SequenceNumber(12, 34)
	buf := make([]byte, 0, 64)
	tests := []struct {
		name string
		f    func()
	}{
		{"HashPartitionKey", func() { sinkHashKey = HashPartitionKey(pk) }},
		{"HashPartitionKey/1024 bytes", func() { sinkHashKey = HashPartitionKey(longPK) }},
		{"Murmur2", func() { sinkInt32 = Murmur2(key) }},
		{"KafkaPartition", func() { sinkInt = KafkaPartition(key, 12) }},
		{"KinesisPartition", func() { sinkInt = KinesisPartition(key, ranges) }},
		{"KinesisPartition/nil key", func() { sinkInt = KinesisPartition(nil, ranges) }},
		{"ShardForHashKey", func() { sinkInt = ShardForHashKey(ranges, MaxHashKey) }},
		{"ParseHashKey", func() { sinkHashKey, _ = ParseHashKey(maxHashKeyDecimal) }},
		{"AppendSequenceNumber", func() { sinkBytes = AppendSequenceNumber(buf[:0], 12, 34) }},
		{"ParseSequenceNumber", func() { sinkInt, _, _ = ParseSequenceNumber(seq) }},
		{"ValidPartitionKey", func() { _ = ValidPartitionKey(longPK) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.f); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", tt.name, n)
		}
	}
}
