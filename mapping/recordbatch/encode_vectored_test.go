package recordbatch

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestEncodeVectoredMatchesEncode(t *testing.T) {
	big := bytes.Repeat([]byte("v"), 5000)
	ts := time.UnixMilli(1_700_000_000_000)
	cases := [][]Record{
		{{Value: big}},
		{{Key: []byte("k"), Value: big, Headers: []Header{{Key: "h", Value: []byte("x")}}, Timestamp: ts}},
		{{Value: []byte("small")}, {Value: big, Timestamp: ts}, {Value: nil}, {Key: big, Value: big}, {Value: []byte("tail")}},
		{{Offset: 10, Value: []byte("a")}, {Offset: 12, Value: big}},
		{{Value: []byte("no large value")}},
	}
	opts := EncodeOptions{Idempotent: true, ProducerID: 7, ProducerEpoch: 1, BaseSequence: 3, LogAppendTime: true}
	for i, recs := range cases {
		want, err := Encode(nil, recs, opts)
		if err != nil {
			t.Fatal(err)
		}
		pieces, err := EncodeVectored(recs, opts, 1000)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got := bytes.Join(pieces, nil); !bytes.Equal(got, want) {
			t.Fatalf("case %d: vectored encoding differs from Encode's (%d vs %d bytes)", i, len(got), len(want))
		}
		shared, wantShared := 0, 0
		for _, p := range pieces {
			if len(p) > 0 && &p[0] == &big[0] {
				shared++
			}
		}
		for _, r := range recs {
			if len(r.Value) >= 1000 {
				wantShared++
			}
		}
		if shared != wantShared {
			t.Errorf("case %d: %d values shared, want %d", i, shared, wantShared)
		}
		if err := VerifyCRC(bytes.Join(pieces, nil)); err != nil {
			t.Errorf("case %d: %v", i, err)
		}
	}
	if _, err := EncodeVectored(cases[0], EncodeOptions{Codec: Gzip}, 1); !errors.Is(err, ErrUnknownCodec) {
		t.Errorf("a compressed vectored batch: %v", err)
	}
	if _, err := EncodeVectored(nil, EncodeOptions{}, 1); !errors.Is(err, ErrNoRecords) {
		t.Errorf("no records: %v", err)
	}
}
