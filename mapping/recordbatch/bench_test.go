package recordbatch

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// benchRecords are 100 records of 1 KiB JSON-ish values (compressible the
// way real payloads are), with short keys and no headers.
func benchRecords() []Record {
	words := []string{"id", "user", "event", "click", "view", "amount", "eu-west-1", "true", "false", "null", "timestamp", "session"}
	rng := rand.New(rand.NewPCG(7, 11))
	records := make([]Record, 100)
	for i := range records {
		v := make([]byte, 0, 1024)
		for len(v) < 1024 {
			v = fmt.Appendf(v, `"%s":%d,`, words[rng.IntN(len(words))], rng.IntN(100000))
		}
		records[i] = Record{Timestamp: t0, Key: fmt.Appendf(nil, "key-%d", i), Value: v[:1024]}
	}
	return records
}

// payloadSize is what the MB/s figures count: the uncompressed batch.
func payloadSize(b *testing.B, records []Record) int64 {
	batch, err := Encode(nil, records, EncodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return int64(len(batch))
}

func BenchmarkEncode(b *testing.B) {
	records := benchRecords()
	size := payloadSize(b, records)
	for _, c := range allCodecs {
		b.Run(c.String(), func(b *testing.B) {
			dst := make([]byte, 0, 2*size)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = Encode(dst[:0], records, EncodeOptions{Codec: c}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(dst)), "batch-bytes")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	records := benchRecords()
	size := payloadSize(b, records)
	for _, c := range allCodecs {
		b.Run(c.String(), func(b *testing.B) {
			batch, err := Encode(nil, records, EncodeOptions{Codec: c})
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]Record, 0, len(records))
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, dst, err = DecodeAppend(dst[:0], batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecoder is BenchmarkDecode with a reused Decoder (records valid
// until the next call), the Kinesis read path.
func BenchmarkDecoder(b *testing.B) {
	records := benchRecords()
	size := payloadSize(b, records)
	for _, c := range allCodecs {
		b.Run(c.String(), func(b *testing.B) {
			batch, err := Encode(nil, records, EncodeOptions{Codec: c})
			if err != nil {
				b.Fatal(err)
			}
			var d Decoder
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := d.Decode(batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeKmsgReference decodes the same batches the way a program
// using only franz-go's building blocks would (kmsg.RecordBatch, kgo's
// decompressor, kmsg.Record per record): the reference to read
// BenchmarkDecode against, as a ratio within one run.
func BenchmarkDecodeKmsgReference(b *testing.B) {
	records := benchRecords()
	size := payloadSize(b, records)
	dec := kgo.DefaultDecompressor()
	for _, c := range allCodecs {
		b.Run(c.String(), func(b *testing.B) {
			batch, err := Encode(nil, records, EncodeOptions{Codec: c})
			if err != nil {
				b.Fatal(err)
			}
			recs := make([]kmsg.Record, len(records))
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(batch); err != nil {
					b.Fatal(err)
				}
				raw := rb.Records
				if c != None {
					if raw, err = dec.Decompress(raw, kgo.CompressionCodecType(c)); err != nil {
						b.Fatal(err)
					}
				}
				for i := range recs {
					l, n := binary.Varint(raw)
					if err := recs[i].ReadFrom(raw[:n+int(l)]); err != nil {
						b.Fatal(err)
					}
					raw = raw[n+int(l):]
				}
			}
		})
	}
}

// BenchmarkAppendPath is what the store does with every produced batch:
// Split the request, Parse and VerifyCRC the batch, SetBaseOffset.
func BenchmarkAppendPath(b *testing.B) {
	records := benchRecords()
	for _, c := range []Codec{None, Zstd} {
		b.Run(c.String(), func(b *testing.B) {
			batch, err := Encode(nil, records, EncodeOptions{Codec: c})
			if err != nil {
				b.Fatal(err)
			}
			split := make([][]byte, 0, 1)
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			var base int64
			for b.Loop() {
				if split, err = SplitAppend(split[:0], batch); err != nil {
					b.Fatal(err)
				}
				info, err := Parse(split[0])
				if err != nil {
					b.Fatal(err)
				}
				if err := VerifyCRC(split[0]); err != nil {
					b.Fatal(err)
				}
				SetBaseOffset(split[0], base)
				base += int64(info.NumRecords)
			}
		})
	}
}
