package recordbatch

import (
	"errors"
	"testing"
	"time"
)

func TestControlRoundTrip(t *testing.T) {
	for _, marker := range []Control{{ControlCommit, 7}, {ControlAbort, 0}} {
		batch, err := EncodeControl(42, 3, marker, time.UnixMilli(1700000000000))
		if err != nil {
			t.Fatal(err)
		}
		info, err := Parse(batch)
		if err != nil {
			t.Fatal(err)
		}
		if !info.Control() || !info.Transactional() || info.ProducerID != 42 || info.ProducerEpoch != 3 || info.BaseSequence != -1 {
			t.Fatalf("header %+v", info)
		}
		got, err := ParseControl(batch)
		if err != nil || got != marker {
			t.Fatalf("ParseControl = %v, %v; want %v", got, err, marker)
		}
	}
}

func TestControlOfMalformed(t *testing.T) {
	for _, key := range [][]byte{nil, {0}, {0, 1, 0, 1}} {
		if _, err := ControlOf(Record{Key: key}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("key %x: err %v, want ErrCorrupt", key, err)
		}
	}
}
