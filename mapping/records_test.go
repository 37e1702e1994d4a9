package mapping

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestPartitionKeyForKafkaKey(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		want string
	}{
		{"nil", nil, "kafka-null-key"},
		{"empty", []byte{}, "kafka-empty-key"},
		{"ascii", []byte("order-42"), "order-42"},
		{"one byte", []byte("x"), "x"},
		{"nul byte is valid UTF-8", []byte("a\x00b"), "a\x00b"},
		{"multibyte", []byte("ключ-🔑"), "ключ-🔑"},
		{"256 ascii", []byte(strings.Repeat("k", 256)), strings.Repeat("k", 256)},
		{"256 four-byte chars", []byte(strings.Repeat("🔑", 256)), strings.Repeat("🔑", 256)},
		{"257 ascii", []byte(strings.Repeat("x", 300)[:257]), "kafka-key-md5-" + md5Hex(strings.Repeat("x", 257))},
		{"300 ascii", []byte(strings.Repeat("x", 300)), "kafka-key-md5-8a4876ea55d998a5d91ed59db796af28"},
		{"257 two-byte chars", []byte(strings.Repeat("é", 257)), "kafka-key-md5-" + md5Hex(strings.Repeat("é", 257))},
		{"invalid byte", []byte{0xff}, "kafka-key-md5-00594fd4f42ba43fc1ca0427a0576295"},
		{"invalid sequence", []byte{0xc3, 0x28}, "kafka-key-md5-0999cc4fa36693c7d5ab8482d6bdc367"},
		{"encoded surrogate", []byte{0xed, 0xa0, 0x80}, "kafka-key-md5-" + md5Hex("\xed\xa0\x80")},
		{"substitute text maps to itself", []byte("kafka-null-key"), "kafka-null-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PartitionKeyForKafkaKey(tt.key)
			if got != tt.want {
				t.Errorf("PartitionKeyForKafkaKey(%q) = %q, want %q", tt.key, got, tt.want)
			}
			if err := ValidPartitionKey(got); err != nil {
				t.Errorf("result is not a valid partition key: %v", err)
			}
		})
	}
}

func TestKafkaKeyForPartitionKey(t *testing.T) {
	for _, pk := range []string{"a", "order-42", "ключ", strings.Repeat("🔑", 256)} {
		got := KafkaKeyForPartitionKey(pk)
		if string(got) != pk {
			t.Errorf("KafkaKeyForPartitionKey(%q) = %q", pk, got)
		}
		// A valid partition key survives the trip Kinesis -> Kafka -> Kinesis.
		if back := PartitionKeyForKafkaKey(got); back != pk {
			t.Errorf("PartitionKeyForKafkaKey(KafkaKeyForPartitionKey(%q)) = %q", pk, back)
		}
	}
}

func TestValidPartitionKey(t *testing.T) {
	tests := []struct {
		name  string
		pk    string
		valid bool
	}{
		{"one char", "a", true},
		{"256 ascii", strings.Repeat("a", 256), true},
		{"256 four-byte chars", strings.Repeat("🔑", 256), true},
		{"empty", "", false},
		{"257 ascii", strings.Repeat("a", 257), false},
		{"257 three-byte chars", strings.Repeat("€", 257), false},
		{"over 1024 bytes", strings.Repeat("a", 5000), false},
		{"invalid UTF-8", "a\xffb", false},
		{"truncated sequence", "\xe2\x82", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidPartitionKey(tt.pk)
			if tt.valid && err != nil {
				t.Errorf("ValidPartitionKey: unexpected error %v", err)
			}
			if !tt.valid {
				if err == nil {
					t.Errorf("ValidPartitionKey: want error")
				} else if !errors.Is(err, ErrInvalidPartitionKey) {
					t.Errorf("error %v does not wrap ErrInvalidPartitionKey", err)
				}
			}
		})
	}
}

func TestValidPartitionKeyErrorIsBounded(t *testing.T) {
	err := ValidPartitionKey(strings.Repeat("a", 1<<20))
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error for a 1 MiB key should be short, got %d bytes", len(err.Error()))
	}
}

func TestTimestamps(t *testing.T) {
	tests := []struct {
		millis int64
		want   time.Time
	}{
		{0, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{1700000000123, time.Date(2023, 11, 14, 22, 13, 20, 123e6, time.UTC)},
		{-1, time.Date(1969, 12, 31, 23, 59, 59, 999e6, time.UTC)},
	}
	for _, tt := range tests {
		got := ArrivalTimestamp(tt.millis)
		if !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ArrivalTimestamp(%d) = %v, want %v", tt.millis, got, tt.want)
		}
		if back := KafkaTimestamp(got); back != tt.millis {
			t.Errorf("KafkaTimestamp(%v) = %d, want %d", got, back, tt.millis)
		}
	}
}

func TestKafkaTimestamp(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want int64
	}{
		{"zero time is unknown", time.Time{}, NoKafkaTimestamp},
		{"sub-millisecond rounds down", time.Date(2024, 1, 2, 3, 4, 5, 678999999, time.UTC), 1704164645678},
		{"before epoch rounds down", time.Unix(0, -1), -1},
		{"time zone does not matter", time.Date(2024, 1, 2, 4, 4, 5, 678e6, time.FixedZone("CET", 3600)), 1704164645678},
		{"max", time.UnixMilli(math.MaxInt64), math.MaxInt64},
	}
	for _, tt := range tests {
		if got := KafkaTimestamp(tt.t); got != tt.want {
			t.Errorf("%s: KafkaTimestamp(%v) = %d, want %d", tt.name, tt.t, got, tt.want)
		}
	}
}
