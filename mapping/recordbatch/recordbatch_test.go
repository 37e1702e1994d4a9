package recordbatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var allCodecs = []Codec{None, Gzip, Snappy, LZ4, Zstd}

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// recordSets are the record shapes every codec is tried with.
func recordSets() map[string][]Record {
	many := make([]Record, 1000)
	for i := range many {
		many[i] = Record{
			Timestamp: t0.Add(time.Duration(i) * time.Millisecond),
			Key:       []byte(fmt.Sprintf("key-%d", i%17)),
			Value:     bytes.Repeat([]byte{byte(i)}, i%300),
		}
		if i%3 == 0 {
			many[i].Headers = []Header{{Key: "trace", Value: []byte(fmt.Sprint(i))}, {Key: "n", Value: nil}}
		}
	}
	big := make([]byte, 200<<10) // more than a xerial block and an lz4 block
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.IntN(16)) // compressible but not trivially
	}
	return map[string][]Record{
		"one":          {{Timestamp: t0, Key: []byte("k"), Value: []byte("v")}},
		"null key":     {{Timestamp: t0, Key: nil, Value: []byte("v")}},
		"null value":   {{Timestamp: t0, Key: []byte("k"), Value: nil}},
		"empty key":    {{Timestamp: t0, Key: []byte{}, Value: []byte("v")}},
		"empty value":  {{Timestamp: t0, Key: []byte("k"), Value: []byte{}}},
		"all null":     {{Timestamp: t0}},
		"no timestamp": {{Key: []byte("k"), Value: []byte("v")}},
		"headers": {{Timestamp: t0, Key: []byte("k"), Value: []byte("v"), Headers: []Header{
			{Key: "a", Value: []byte("1")},
			{Key: "", Value: []byte("empty key")},
			{Key: "null", Value: nil},
			{Key: "empty", Value: []byte{}},
			{Key: "a", Value: []byte("dup")},
		}}},
		"timestamps out of order": {
			{Timestamp: t0.Add(5 * time.Second), Value: []byte("a")},
			{Timestamp: t0, Value: []byte("b")},
			{Timestamp: t0.Add(time.Hour), Value: []byte("c")},
			{Timestamp: time.UnixMilli(0).UTC(), Value: []byte("epoch")},
			{Timestamp: time.UnixMilli(-5000).UTC(), Value: []byte("before epoch")},
		},
		"explicit offsets": {
			{Offset: 100, Timestamp: t0, Value: []byte("a")},
			{Offset: 101, Timestamp: t0, Value: []byte("b")},
			{Offset: 105, Timestamp: t0, Value: []byte("c")}, // a gap, as after compaction
		},
		"negative-looking varints": {{Timestamp: t0, Key: bytes.Repeat([]byte("k"), 64), Value: bytes.Repeat([]byte("v"), 8191)}},
		"large value":              {{Timestamp: t0, Key: []byte("big"), Value: big}},
		"many":                     many,
	}
}

// kmsgRead decodes a batch with franz-go: kmsg for the batch and the
// records, kgo's decompressor for the payload. It is the reference our
// encoder is checked against.
func kmsgRead(t testing.TB, batch []byte) (kmsg.RecordBatch, []kmsg.Record) {
	t.Helper()
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(batch); err != nil {
		t.Fatalf("kmsg.RecordBatch.ReadFrom: %v", err)
	}
	raw := rb.Records
	if c := rb.Attributes & 7; c != 0 {
		var err error
		raw, err = kgo.DefaultDecompressor().Decompress(raw, kgo.CompressionCodecType(c))
		if err != nil {
			t.Fatalf("kgo decompress: %v", err)
		}
	}
	recs := make([]kmsg.Record, rb.NumRecords)
	for i := range recs {
		l, n := binary.Varint(raw)
		if n <= 0 || int(l) > len(raw)-n {
			t.Fatalf("record %d: bad length", i)
		}
		if err := recs[i].ReadFrom(raw[:n+int(l)]); err != nil {
			t.Fatalf("kmsg.Record.ReadFrom %d: %v", i, err)
		}
		raw = raw[n+int(l):]
	}
	if len(raw) != 0 {
		t.Fatalf("%d bytes after %d records", len(raw), rb.NumRecords)
	}
	return rb, recs
}

// wantOffsets is what Encode is documented to assign.
func wantOffsets(records []Record) []int64 {
	out := make([]int64, len(records))
	allZero := true
	for _, r := range records {
		allZero = allZero && r.Offset == 0
	}
	for i, r := range records {
		if allZero {
			out[i] = int64(i)
		} else {
			out[i] = r.Offset
		}
	}
	return out
}

func msOf(t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return t.UnixMilli()
}

func sameBytes(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

func TestEncodeReadByKmsg(t *testing.T) {
	for name, records := range recordSets() {
		for _, codec := range allCodecs {
			t.Run(name+"/"+codec.String(), func(t *testing.T) {
				batch, err := Encode([]byte("prefix"), records, EncodeOptions{Codec: codec})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(batch, []byte("prefix")) {
					t.Fatal("Encode did not append")
				}
				batch = batch[len("prefix"):]
				if err := VerifyCRC(batch); err != nil {
					t.Fatal(err)
				}
				info, err := Parse(batch)
				if err != nil {
					t.Fatal(err)
				}
				if info.Size() != len(batch) {
					t.Fatalf("Size %d, len %d", info.Size(), len(batch))
				}
				offs := wantOffsets(records)
				var maxTS int64 = -1 << 63
				for _, r := range records {
					maxTS = max(maxTS, msOf(r.Timestamp))
				}
				wantInfo := Info{
					BaseOffset: offs[0], Length: int32(len(batch) - 12), PartitionLeaderEpoch: -1, Magic: 2,
					CRC: info.CRC, Attributes: int16(codec), LastOffsetDelta: int32(offs[len(offs)-1] - offs[0]),
					FirstTimestamp: msOf(records[0].Timestamp), MaxTimestamp: maxTS,
					ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: int32(len(records)),
				}
				if info != wantInfo {
					t.Fatalf("info\n got %+v\nwant %+v", info, wantInfo)
				}
				if info.Codec() != codec || info.LogAppendTime() || info.Transactional() || info.Control() {
					t.Fatalf("attribute accessors wrong: %+v", info)
				}

				rb, recs := kmsgRead(t, batch)
				if rb.CRC != int32(info.CRC) || rb.Length != info.Length || rb.NumRecords != info.NumRecords {
					t.Fatalf("kmsg header %+v differs from %+v", rb, info)
				}
				for i, kr := range recs {
					r := records[i]
					if got := rb.FirstOffset + int64(kr.OffsetDelta); got != offs[i] {
						t.Errorf("record %d: offset %d, want %d", i, got, offs[i])
					}
					if got := rb.FirstTimestamp + kr.TimestampDelta64; got != msOf(r.Timestamp) {
						t.Errorf("record %d: timestamp %d, want %d", i, got, msOf(r.Timestamp))
					}
					if !sameBytes(kr.Key, r.Key) || !sameBytes(kr.Value, r.Value) {
						t.Errorf("record %d: key/value differ", i)
					}
					if len(kr.Headers) != len(r.Headers) {
						t.Fatalf("record %d: %d headers, want %d", i, len(kr.Headers), len(r.Headers))
					}
					for j, h := range kr.Headers {
						if h.Key != r.Headers[j].Key || !sameBytes(h.Value, r.Headers[j].Value) {
							t.Errorf("record %d header %d: %q=%q, want %q=%q", i, j, h.Key, h.Value, r.Headers[j].Key, r.Headers[j].Value)
						}
					}
				}
			})
		}
	}
}

func TestEncodeOptions(t *testing.T) {
	records := []Record{{Timestamp: t0, Value: []byte("a")}, {Timestamp: t0.Add(time.Second), Value: []byte("b")}}
	for _, tc := range []struct {
		name  string
		opts  EncodeOptions
		attrs int16
		pid   int64
		epoch int16
		seq   int32
	}{
		{"zero value", EncodeOptions{}, 0, -1, -1, -1},
		{"producer fields ignored unless idempotent", EncodeOptions{ProducerID: 7, ProducerEpoch: 3, BaseSequence: 9}, 0, -1, -1, -1},
		{"idempotent", EncodeOptions{Idempotent: true, ProducerID: 7, ProducerEpoch: 3, BaseSequence: 9}, 0, 7, 3, 9},
		{"idempotent zero ids", EncodeOptions{Idempotent: true}, 0, 0, 0, 0},
		{"log append time", EncodeOptions{LogAppendTime: true, Codec: Zstd}, 0x08 | 4, -1, -1, -1},
		{"transactional", EncodeOptions{Idempotent: true, ProducerID: 1, Transactional: true}, 0x10, 1, 0, 0},
		{"control", EncodeOptions{Idempotent: true, ProducerID: 1, Transactional: true, Control: true}, 0x30, 1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			batch, err := Encode(nil, records, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			info, err := Parse(batch)
			if err != nil {
				t.Fatal(err)
			}
			if info.Attributes != tc.attrs || info.ProducerID != tc.pid || info.ProducerEpoch != tc.epoch || info.BaseSequence != tc.seq {
				t.Fatalf("got %+v", info)
			}
			if info.LogAppendTime() != tc.opts.LogAppendTime || info.Transactional() != tc.opts.Transactional || info.Control() != tc.opts.Control {
				t.Fatalf("accessors: %+v", info)
			}
			if info.MaxTimestamp != t0.Add(time.Second).UnixMilli() || info.FirstTimestamp != t0.UnixMilli() {
				t.Fatalf("timestamps: %+v", info)
			}
			if err := VerifyCRC(batch); err != nil {
				t.Fatal(err)
			}
			kmsgRead(t, batch)
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	v := []byte("v")
	for _, tc := range []struct {
		name    string
		records []Record
		opts    EncodeOptions
		want    error
	}{
		{"no records", nil, EncodeOptions{}, ErrNoRecords},
		{"codec 5", []Record{{Value: v}}, EncodeOptions{Codec: 5}, ErrUnknownCodec},
		{"codec -1", []Record{{Value: v}}, EncodeOptions{Codec: -1}, ErrUnknownCodec},
		{"duplicate offsets", []Record{{Offset: 5}, {Offset: 5}}, EncodeOptions{}, ErrInvalidOffsets},
		{"decreasing offsets", []Record{{Offset: 5}, {Offset: 4}}, EncodeOptions{}, ErrInvalidOffsets},
		{"zero after base", []Record{{Offset: 1}, {Offset: 0}}, EncodeOptions{}, ErrInvalidOffsets},
		{"delta over int32", []Record{{Offset: 0}, {Offset: 1 << 31}}, EncodeOptions{}, ErrInvalidOffsets},
		{"overflowing delta", []Record{{Offset: -1 << 63}, {Offset: 1<<63 - 1}}, EncodeOptions{}, ErrInvalidOffsets},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := Encode(dst, tc.records, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if string(out) != "keep" {
				t.Fatalf("dst changed: %q", out)
			}
		})
	}
}

func mustEncode(t testing.TB, records []Record, opts EncodeOptions) []byte {
	t.Helper()
	b, err := Encode(nil, records, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseErrors(t *testing.T) {
	good := mustEncode(t, []Record{{Value: []byte("x")}, {Value: []byte("y")}}, EncodeOptions{})
	with := func(off int, v any) []byte {
		b := bytes.Clone(good)
		switch v := v.(type) {
		case int8:
			b[off] = byte(v)
		case int32:
			binary.BigEndian.PutUint32(b[off:], uint32(v))
		}
		return b
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"16 bytes", good[:16], ErrTruncated},
		{"magic only", good[:17], ErrTruncated},
		{"60 bytes", good[:60], ErrTruncated},
		{"magic 0", with(offMagic, int8(0))[:30], ErrUnsupportedMagic},
		{"magic 1", with(offMagic, int8(1)), ErrUnsupportedMagic},
		{"magic 3", with(offMagic, int8(3)), ErrUnsupportedMagic},
		{"length too small", with(offLength, int32(48)), ErrCorrupt},
		{"length negative", with(offLength, int32(-1)), ErrCorrupt},
		{"length overflowing Size", with(offLength, int32(1<<31-1)), ErrCorrupt},
		{"numRecords negative", with(offNumRecords, int32(-1)), ErrCorrupt},
		{"lastOffsetDelta negative", with(offLastOffsetDelta, int32(-1)), ErrCorrupt},
		{"lastOffsetDelta below count", with(offLastOffsetDelta, int32(0)), ErrCorrupt},
		{"count beyond bytes", with(offNumRecords, int32(1000)), ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.raw)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	// Only the header is needed.
	info, err := Parse(good[:HeaderSize])
	if err != nil || info.NumRecords != 2 || info.Size() != len(good) || info.LastOffset() != 1 {
		t.Fatalf("header-only parse: %+v %v", info, err)
	}
	// A compressed batch may claim more records than its compressed bytes could hold.
	comp := mustEncode(t, make([]Record, 100), EncodeOptions{Codec: Zstd})
	if _, err := Parse(comp); err != nil {
		t.Fatal(err)
	}
}

func TestSplit(t *testing.T) {
	var batches [][]byte
	var all []byte
	for i, c := range allCodecs {
		recs := make([]Record, i+1)
		for j := range recs {
			recs[j].Value = []byte(strings.Repeat("v", j*10))
		}
		before := len(all)
		var err error
		all, err = Encode(all, recs, EncodeOptions{Codec: c})
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, all[before:])
	}
	got, err := Split(all)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(batches) {
		t.Fatalf("%d batches, want %d", len(got), len(batches))
	}
	for i := range got {
		if !bytes.Equal(got[i], batches[i]) {
			t.Fatalf("batch %d differs", i)
		}
		if cap(got[i]) != len(got[i]) {
			t.Fatalf("batch %d: capacity runs into the next batch", i)
		}
		if err := VerifyCRC(got[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := Split(nil); got != nil || err != nil {
		t.Fatalf("empty: %v %v", got, err)
	}
	// Every truncation short of a batch boundary fails with ErrTruncated.
	boundaries := map[int]bool{0: true}
	n := 0
	for _, b := range batches {
		n += len(b)
		boundaries[n] = true
	}
	for l := 0; l < len(all); l++ {
		got, err := Split(all[:l])
		if boundaries[l] {
			if err != nil {
				t.Fatalf("len %d (boundary): %v", l, err)
			}
			continue
		}
		if !errors.Is(err, ErrTruncated) || got != nil {
			t.Fatalf("len %d: %v, %d batches; want ErrTruncated", l, err, len(got))
		}
	}
	// A bad header in the middle fails the whole split.
	bad := bytes.Clone(all)
	bad[len(batches[0])+offMagic] = 1
	if _, err := Split(bad); !errors.Is(err, ErrUnsupportedMagic) {
		t.Fatalf("bad magic: %v", err)
	}
	// SplitAppend reuses and keeps dst on error.
	dst := make([][]byte, 1, 10)
	dst, err = SplitAppend(dst, all)
	if err != nil || len(dst) != 1+len(batches) {
		t.Fatalf("SplitAppend: %d %v", len(dst), err)
	}
	dst, err = SplitAppend(dst, all[:len(all)-1])
	if err == nil || len(dst) != 1+len(batches) {
		t.Fatalf("SplitAppend error: %d %v", len(dst), err)
	}
}

func TestVerifyCRC(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			batch := mustEncode(t, recordSets()["headers"], EncodeOptions{Codec: c})
			if err := VerifyCRC(batch); err != nil {
				t.Fatal(err)
			}
			// Bytes past the batch are ignored.
			if err := VerifyCRC(append(bytes.Clone(batch), 1, 2, 3)); err != nil {
				t.Fatal(err)
			}
			// Every flipped bit the CRC covers is caught.
			for i := offAttributes; i < len(batch); i++ {
				for bit := range 8 {
					b := bytes.Clone(batch)
					b[i] ^= 1 << bit
					err := VerifyCRC(b)
					if err == nil {
						t.Fatalf("flip byte %d bit %d: not detected", i, bit)
					}
					if errors.Is(err, ErrCorruptCRC) && !errors.Is(err, ErrCorrupt) {
						t.Fatal("ErrCorruptCRC must match ErrCorrupt")
					}
				}
			}
			// Flipping the CRC itself is caught too.
			b := bytes.Clone(batch)
			b[offCRC] ^= 0x80
			if err := VerifyCRC(b); !errors.Is(err, ErrCorruptCRC) {
				t.Fatalf("CRC flip: %v", err)
			}
			// The CRC does not cover base offset and leader epoch.
			b = bytes.Clone(batch)
			b[3] ^= 0xff
			b[offLeaderEpoch+2] ^= 0xff
			if err := VerifyCRC(b); err != nil {
				t.Fatal(err)
			}
			if err := VerifyCRC(batch[:len(batch)-1]); !errors.Is(err, ErrTruncated) {
				t.Fatalf("truncated: %v", err)
			}
		})
	}
}

func TestSetBaseOffset(t *testing.T) {
	batch := mustEncode(t, []Record{{Value: []byte("a")}, {Value: []byte("b")}, {Value: []byte("c")}}, EncodeOptions{Codec: LZ4})
	for _, base := range []int64{0, 1, 1 << 40, -1, 1<<63 - 1} {
		SetBaseOffset(batch, base)
		info, err := Parse(batch)
		if err != nil || info.BaseOffset != base || info.LastOffset() != base+2 {
			t.Fatalf("base %d: %+v %v", base, info, err)
		}
		if err := VerifyCRC(batch); err != nil {
			t.Fatal(err)
		}
		rb, _ := kmsgRead(t, batch)
		if rb.FirstOffset != base {
			t.Fatalf("kmsg FirstOffset %d", rb.FirstOffset)
		}
	}
	SetBaseOffset(nil, 5) // no panic
	SetBaseOffset(make([]byte, 7), 5)
	SetPartitionLeaderEpoch(batch, 42)
	if info, _ := Parse(batch); info.PartitionLeaderEpoch != 42 {
		t.Fatalf("epoch %d", info.PartitionLeaderEpoch)
	}
	if err := VerifyCRC(batch); err != nil {
		t.Fatal(err)
	}
	SetPartitionLeaderEpoch(batch[:10], 1) // no panic
}

func TestSetLogAppendTime(t *testing.T) {
	for _, c := range allCodecs {
		batch := mustEncode(t, []Record{{Timestamp: t0, Value: []byte("a")}, {Timestamp: t0.Add(time.Minute), Value: []byte("b")}}, EncodeOptions{Codec: c})
		const appendMS = 1_800_000_000_000
		SetLogAppendTime(batch, appendMS)
		info, err := Parse(batch)
		if err != nil {
			t.Fatal(err)
		}
		if !info.LogAppendTime() || info.MaxTimestamp != appendMS || info.FirstTimestamp != t0.UnixMilli() || info.Codec() != c {
			t.Fatalf("%s: %+v", c, info)
		}
		if err := VerifyCRC(batch); err != nil {
			t.Fatal(err)
		}
		// The CRC matches what a plain CRC-32C over the bytes gives.
		if crc32.Checksum(batch[offAttributes:], crc32.MakeTable(crc32.Castagnoli)) != info.CRC {
			t.Fatal("CRC")
		}
		kmsgRead(t, batch)
	}
	SetLogAppendTime(nil, 1)
	SetLogAppendTime(make([]byte, HeaderSize), 1)
	short := mustEncode(t, []Record{{Value: []byte("a")}}, EncodeOptions{})
	short = short[:len(short)-1]
	before := bytes.Clone(short)
	SetLogAppendTime(short, 1)
	if !bytes.Equal(before, short) {
		t.Fatal("truncated batch modified")
	}
}
