package mapping

import (
	"math/rand/v2"
	"testing"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestMurmur2KafkaVectors checks the vectors of Kafka's own
// UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils),
// which pin the Java client's Utils.murmur2.
func TestMurmur2KafkaVectors(t *testing.T) {
	tests := []struct {
		key  string
		want int32
	}{
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
	}
	for _, tt := range tests {
		if got := Murmur2([]byte(tt.key)); got != tt.want {
			t.Errorf("Murmur2(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

func TestKafkaPartition(t *testing.T) {
	tests := []struct {
		key  string
		n    int
		want int
	}{
		// murmur2("21") = -973932308; & 0x7fffffff = 1173551340.
		{"21", 1, 0},
		{"21", 10, 0},
		{"21", 7, 1173551340 % 7},
		// murmur2("abc") = 479470107 is already positive.
		{"abc", 12, 479470107 % 12},
		{"abc", 1 << 30, 479470107 % (1 << 30)},
	}
	for _, tt := range tests {
		if got := KafkaPartition([]byte(tt.key), tt.n); got != tt.want {
			t.Errorf("KafkaPartition(%q, %d) = %d, want %d", tt.key, tt.n, got, tt.want)
		}
	}
}

func TestKafkaPartitionPanics(t *testing.T) {
	for _, n := range []int{0, -3} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("KafkaPartition(_, %d) did not panic", n)
				}
			}()
			KafkaPartition([]byte("k"), n)
		}()
	}
}

// randomKey returns a key of 0 to 63 random bytes, so every tail length of
// the 4-byte block loop is exercised many times.
func randomKey(rng *rand.Rand) []byte {
	key := make([]byte, rng.IntN(64))
	for i := range key {
		key[i] = byte(rng.Uint32())
	}
	return key
}

// randomPartitionCount favours small counts (where most topics are) but also
// covers counts up to Kafka's practical maxima.
func randomPartitionCount(rng *rand.Rand) int {
	if rng.IntN(2) == 0 {
		return 1 + rng.IntN(64)
	}
	return 1 + rng.IntN(1<<20)
}

// TestKafkaPartitionMatchesFranzGo compares against franz-go's default keyed
// partitioner, kgo.StickyKeyPartitioner(nil), which is KafkaHasher(murmur2).
func TestKafkaPartitionMatchesFranzGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	part := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for i := 0; i < 20000; i++ {
		key, n := randomKey(rng), randomPartitionCount(rng)
		want := part.Partition(&kgo.Record{Key: key}, n)
		if got := KafkaPartition(key, n); got != want {
			t.Fatalf("KafkaPartition(%x, %d) = %d, franz-go says %d", key, n, got, want)
		}
	}
}

// TestKafkaPartitionMatchesSarama compares against sarama's
// NewMurmur2Partitioner, its Java-compatible partitioner: murmur2 with
// (h & 0x7fffffff) % n. Sarama's other hash partitioners (NewHashPartitioner,
// NewReferenceHashPartitioner) hash with FNV-1a and do not match Java.
func TestKafkaPartitionMatchesSarama(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	part := sarama.NewMurmur2Partitioner("t")
	for i := 0; i < 20000; i++ {
		key, n := randomKey(rng), randomPartitionCount(rng)
		want, err := part.Partition(&sarama.ProducerMessage{Key: sarama.ByteEncoder(key)}, int32(n))
		if err != nil {
			t.Fatal(err)
		}
		if got := KafkaPartition(key, n); got != int(want) {
			t.Fatalf("KafkaPartition(%x, %d) = %d, sarama says %d", key, n, got, want)
		}
	}
}

// TestMurmur2MatchesFranzGoMasked compares the hash itself, not only the
// partition: with 2^31 partitions the partition is the masked hash.
func TestMurmur2MatchesFranzGoMasked(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	part := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for i := 0; i < 5000; i++ {
		key := randomKey(rng)
		want := part.Partition(&kgo.Record{Key: key}, 1<<31)
		if got := int(uint32(Murmur2(key)) & 0x7fffffff); got != want {
			t.Fatalf("masked Murmur2(%x) = %d, franz-go says %d", key, got, want)
		}
	}
}

func TestKinesisPartition(t *testing.T) {
	ranges := EvenSplit(4)
	tests := []struct {
		key []byte
		pk  string
	}{
		{nil, NullKeyPartitionKey},
		{[]byte{}, EmptyKeyPartitionKey},
		{[]byte("user-17"), "user-17"},
		{[]byte{0xff, 0xfe}, HashedKeyPartitionKeyPrefix + "f3b25701fe362ec84616a93a45ce9998"},
	}
	for _, tt := range tests {
		want := ShardForHashKey(ranges, HashPartitionKey(tt.pk))
		if got := KinesisPartition(tt.key, ranges); got != want {
			t.Errorf("KinesisPartition(%q) = %d, want %d", tt.key, got, want)
		}
	}
	// MD5("user-17") decides; check against the hash key's top bits, which
	// pick one of four even ranges directly.
	h := HashPartitionKey("user-17")
	if got, want := KinesisPartition([]byte("user-17"), ranges), int(h.Hi>>62); got != want {
		t.Errorf("KinesisPartition(user-17) = %d, top two bits say %d", got, want)
	}
}
