package recordbatch

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKgoConsumesOurBatches hands batches we encoded (one per codec, as the
// store would keep them, base offsets rewritten) to kgo's consumer-side
// parser, the code a franz-go consumer runs on a fetch response: it checks
// the CRC, decompresses and returns the records.
func TestKgoConsumesOurBatches(t *testing.T) {
	sets := recordSets()
	for _, name := range []string{"one", "null key", "null value", "empty value", "headers", "timestamps out of order", "large value", "many"} {
		for _, logAppend := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/logAppend=%v", name, logAppend), func(t *testing.T) {
				records := sets[name]
				var (
					log  []byte
					want []Record
					next int64 = 1000
				)
				for _, c := range allCodecs {
					start := len(log)
					var err error
					log, err = Encode(log, records, EncodeOptions{Codec: c, LogAppendTime: logAppend})
					if err != nil {
						t.Fatal(err)
					}
					SetBaseOffset(log[start:], next)
					info, recs, err := Decode(log[start:])
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, recs...)
					next = info.LastOffset() + 1
				}
				fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: "t", Partition: 3},
					&kmsg.FetchResponseTopicPartition{Partition: 3, HighWatermark: next, LastStableOffset: next, RecordBatches: log},
					kgo.DefaultDecompressor(), nil)
				if fp.Err != nil {
					t.Fatal(fp.Err)
				}
				if len(fp.Records) != len(want) {
					t.Fatalf("kgo returned %d records, want %d", len(fp.Records), len(want))
				}
				for i, kr := range fp.Records {
					w := want[i]
					if kr.Offset != w.Offset || !sameBytes(kr.Key, w.Key) || !sameBytes(kr.Value, w.Value) || len(kr.Headers) != len(w.Headers) {
						t.Fatalf("record %d: kgo %+v, ours %+v", i, kr, w)
					}
					wantTS := w.Timestamp
					if wantTS.IsZero() {
						wantTS = time.UnixMilli(-1) // kgo has no "no timestamp"
					}
					if !kr.Timestamp.Equal(wantTS) {
						t.Fatalf("record %d: kgo timestamp %v, ours %v", i, kr.Timestamp, wantTS)
					}
					if kr.Attrs.TimestampType() == 1 != logAppend {
						t.Fatalf("record %d: timestamp type %d", i, kr.Attrs.TimestampType())
					}
					for j, h := range kr.Headers {
						if h.Key != w.Headers[j].Key || !sameBytes(h.Value, w.Headers[j].Value) {
							t.Fatalf("record %d header %d: kgo %+v, ours %+v", i, j, h, w.Headers[j])
						}
					}
				}
			})
		}
	}
}

// TestKgoRejectsWhatVerifyCRCRejects: a flipped payload byte is caught by
// both.
func TestKgoRejectsWhatVerifyCRCRejects(t *testing.T) {
	batch := mustEncode(t, recordSets()["many"], EncodeOptions{Codec: Zstd})
	batch[len(batch)/2] ^= 1
	if err := VerifyCRC(batch); err == nil {
		t.Fatal("VerifyCRC missed it")
	}
	fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{},
		&kmsg.FetchResponseTopicPartition{HighWatermark: 2000, RecordBatches: batch}, kgo.DefaultDecompressor(), nil)
	if fp.Err == nil {
		t.Fatal("kgo missed it")
	}
}
