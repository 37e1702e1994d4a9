package recordbatch

import (
	"errors"
	"testing"
	"time"
)

// KeepOffsets writes the given base offset and last offset delta whatever
// records remain (a compacted batch), for every codec.
func TestEncodeKeepOffsets(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_000)
	recs := []Record{
		{Offset: 103, Key: []byte("b"), Value: []byte("2"), Timestamp: at},
		{Offset: 107, Key: []byte("c"), Timestamp: at.Add(time.Second)},
	}
	// One record at offset 0 (all offsets zero) is absolute too.
	one, err := Encode(nil, []Record{{Offset: 0, Key: []byte("a")}}, EncodeOptions{KeepOffsets: true, BaseOffset: 0, LastOffsetDelta: 1})
	if info, got, derr := Decode(one); err != nil || derr != nil || info.LastOffsetDelta != 1 || len(got) != 1 || got[0].Offset != 0 {
		t.Fatalf("one record at 0: %+v %v %v %v", info, got, err, derr)
	}
	for _, codec := range []Codec{None, Gzip, Snappy, LZ4, Zstd} {
		raw, err := Encode(nil, recs, EncodeOptions{Codec: codec, KeepOffsets: true, BaseOffset: 100, LastOffsetDelta: 9, Idempotent: true, ProducerID: 5, ProducerEpoch: 1, BaseSequence: 40})
		if err != nil {
			t.Fatal(codec, err)
		}
		if err := VerifyCRC(raw); err != nil {
			t.Fatal(codec, err)
		}
		info, got, err := Decode(raw)
		if err != nil {
			t.Fatal(codec, err)
		}
		if info.BaseOffset != 100 || info.LastOffsetDelta != 9 || info.NumRecords != 2 || info.BaseSequence != 40 || info.MaxTimestamp != at.Add(time.Second).UnixMilli() {
			t.Errorf("%s: header %+v", codec, info)
		}
		if len(got) != 2 || got[0].Offset != 103 || got[1].Offset != 107 || got[1].Value != nil || string(got[0].Value) != "2" {
			t.Errorf("%s: records %+v", codec, got)
		}
	}
	for _, tc := range []struct {
		name      string
		base      int64
		lastDelta int32
	}{
		{"record below the base", 104, 9},
		{"record past the last delta", 100, 6},
		{"negative last delta", 100, -1},
		{"all zero offsets", 0, 9},
	} {
		in := recs
		if tc.name == "all zero offsets" {
			in = []Record{{Key: []byte("a")}, {Key: []byte("b")}}
		}
		if _, err := Encode(nil, in, EncodeOptions{KeepOffsets: true, BaseOffset: tc.base, LastOffsetDelta: tc.lastDelta}); !errors.Is(err, ErrInvalidOffsets) {
			t.Errorf("%s: %v, want ErrInvalidOffsets", tc.name, err)
		}
	}
}
