package recordbatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kmsgMessage builds one magic 0 or 1 message with franz-go's kmsg types,
// the reference for our encoder and parser.
func kmsgMessage(offset int64, magic, attrs int8, ts int64, key, value []byte) []byte {
	var b []byte
	if magic == 0 {
		m := kmsg.MessageV0{Offset: offset, Magic: 0, Attributes: attrs, Key: key, Value: value}
		b = m.AppendTo(nil)
	} else {
		m := kmsg.MessageV1{Offset: offset, Magic: 1, Attributes: attrs, Timestamp: ts, Key: key, Value: value}
		b = m.AppendTo(nil)
	}
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[12:], crc32.ChecksumIEEE(b[16:]))
	return b
}

// kmsgMessages reads a message set with kmsg, checking every CRC.
func kmsgMessages(t *testing.T, set []byte, magic int8) []kmsg.MessageV1 {
	t.Helper()
	var out []kmsg.MessageV1
	for len(set) > 0 {
		var m kmsg.MessageV1
		if magic == 0 {
			var m0 kmsg.MessageV0
			if err := m0.ReadFrom(set); err != nil {
				t.Fatalf("kmsg.MessageV0: %v", err)
			}
			m = kmsg.MessageV1{Offset: m0.Offset, MessageSize: m0.MessageSize, CRC: m0.CRC, Magic: m0.Magic, Attributes: m0.Attributes, Timestamp: -1, Key: m0.Key, Value: m0.Value}
		} else if err := m.ReadFrom(set); err != nil {
			t.Fatalf("kmsg.MessageV1: %v", err)
		}
		n := 12 + int(m.MessageSize)
		if m.Magic != magic {
			t.Fatalf("magic %d, want %d", m.Magic, magic)
		}
		if got := crc32.ChecksumIEEE(set[16:n]); uint32(m.CRC) != got {
			t.Fatalf("crc %#x, computed %#x", uint32(m.CRC), got)
		}
		out = append(out, m)
		set = set[n:]
	}
	return out
}

func TestXXH32(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
	}{
		{"", 0x02cc5d05},
		{"a", 0x550d7456},
		{"abc", 0x32d153ff},
		{"Nobody inspects the spammish repetition", 0xe2293b2f},
	} {
		if got := xxh32([]byte(tc.in)); got != tc.want {
			t.Errorf("xxh32(%q) = %#08x, want %#08x", tc.in, got, tc.want)
		}
	}
}

// TestMessageSetRoundTrip down-converts batches of every codec to both old
// formats, checks the messages with kmsg, and converts them back.
func TestMessageSetRoundTrip(t *testing.T) {
	sets := recordSets()
	for _, name := range []string{"one", "null key", "null value", "empty key", "empty value", "all null", "headers", "timestamps out of order", "explicit offsets", "large value", "many"} {
		for _, c := range []Codec{None, Gzip, Snappy, LZ4} {
			for _, magic := range []int8{0, 1} {
				t.Run(name+"/"+c.String()+"/magic"+string('0'+rune(magic)), func(t *testing.T) {
					records := sets[name]
					batch, err := Encode(nil, records, EncodeOptions{Codec: c})
					if err != nil {
						t.Fatal(err)
					}
					SetBaseOffset(batch, 1000)
					_, want, err := Decode(bytes.Clone(batch))
					if err != nil {
						t.Fatal(err)
					}
					set, err := AppendMessageSet([]byte("prefix"), batch, magic, 0)
					if err != nil {
						t.Fatal(err)
					}
					if string(set[:6]) != "prefix" {
						t.Fatal("dst not appended to")
					}
					set = set[6:]
					msgs := kmsgMessages(t, set, magic)
					if c != None {
						if len(msgs) != 1 || msgs[0].Attributes&7 != int8(c) || msgs[0].Key != nil || msgs[0].Offset != want[len(want)-1].Offset {
							t.Fatalf("wrapper: %d messages, first %+v", len(msgs), msgs[0])
						}
						inner, err := decompressLegacy(msgs[0].Value, c, magic)
						if err != nil {
							t.Fatal(err)
						}
						msgs = kmsgMessages(t, inner, magic)
					}
					if len(msgs) != len(want) {
						t.Fatalf("%d messages, want %d", len(msgs), len(want))
					}
					for i, m := range msgs {
						w := want[i]
						off := w.Offset
						if c != None && magic == 1 {
							off -= want[0].Offset // relative
						}
						if m.Offset != off || !bytes.Equal(m.Key, w.Key) || (m.Key == nil) != (w.Key == nil) ||
							!bytes.Equal(m.Value, w.Value) || (m.Value == nil) != (w.Value == nil) {
							t.Fatalf("message %d: %+v, want %+v", i, m, w)
						}
						if magic == 1 && m.Timestamp != millis(w.Timestamp) {
							t.Fatalf("message %d: timestamp %d, want %d", i, m.Timestamp, millis(w.Timestamp))
						}
					}

					// And back: one batch, same codec, same records.
					back, err := FromMessageSet(nil, set)
					if err != nil {
						t.Fatal(err)
					}
					info, got, err := Decode(back)
					if err != nil {
						t.Fatal(err)
					}
					if info.Codec() != c || int(info.NumRecords) != len(want) || info.ProducerID != -1 {
						t.Fatalf("back: %+v", info)
					}
					for i, r := range got {
						w := want[i]
						ts := w.Timestamp
						if magic == 0 {
							ts = time.Time{} // magic 0 has no timestamps
						}
						if r.Offset != int64(i) || !bytes.Equal(r.Key, w.Key) || (r.Key == nil) != (w.Key == nil) ||
							!bytes.Equal(r.Value, w.Value) || (r.Value == nil) != (w.Value == nil) ||
							!r.Timestamp.Equal(ts) || len(r.Headers) != 0 {
							t.Fatalf("back %d: %+v, want %+v at %v", i, r, w, ts)
						}
					}
				})
			}
		}
	}
}

func TestAppendMessageSetEdges(t *testing.T) {
	records := []Record{
		{Timestamp: t0, Key: []byte("a"), Value: []byte("1")},
		{Timestamp: t0.Add(time.Second), Key: []byte("b"), Value: []byte("2")},
		{Timestamp: t0.Add(2 * time.Second), Key: []byte("c"), Value: []byte("3")},
	}
	enc := func(opts EncodeOptions) []byte {
		b, err := Encode(nil, records, opts)
		if err != nil {
			t.Fatal(err)
		}
		SetBaseOffset(b, 10)
		return b
	}
	t.Run("uncompressed from the fetch offset", func(t *testing.T) {
		set, err := AppendMessageSet(nil, enc(EncodeOptions{}), 1, 11)
		if err != nil {
			t.Fatal(err)
		}
		msgs := kmsgMessages(t, set, 1)
		if len(msgs) != 2 || msgs[0].Offset != 11 || msgs[1].Offset != 12 {
			t.Fatalf("%+v", msgs)
		}
	})
	t.Run("compressed keeps the whole batch", func(t *testing.T) {
		set, err := AppendMessageSet(nil, enc(EncodeOptions{Codec: Gzip}), 1, 12)
		if err != nil {
			t.Fatal(err)
		}
		msgs := kmsgMessages(t, set, 1)
		if len(msgs) != 1 || msgs[0].Offset != 12 || msgs[0].Timestamp != millis(t0.Add(2*time.Second)) {
			t.Fatalf("%+v", msgs)
		}
	})
	t.Run("log append time", func(t *testing.T) {
		b := enc(EncodeOptions{})
		SetLogAppendTime(b, 777)
		set, err := AppendMessageSet(nil, b, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range kmsgMessages(t, set, 1) {
			if m.Timestamp != 777 || m.Attributes&0x08 == 0 {
				t.Fatalf("%+v", m)
			}
		}
		set, err = AppendMessageSet(nil, b, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range kmsgMessages(t, set, 0) {
			if m.Attributes != 0 {
				t.Fatalf("magic 0 with attributes %+v", m)
			}
		}
	})
	t.Run("control batch gives nothing", func(t *testing.T) {
		b, err := EncodeControl(7, 0, Control{Type: ControlCommit}, t0)
		if err != nil {
			t.Fatal(err)
		}
		set, err := AppendMessageSet(nil, b, 1, 0)
		if err != nil || len(set) != 0 {
			t.Fatalf("%x, %v", set, err)
		}
	})
	t.Run("zstd has no old form", func(t *testing.T) {
		set, err := AppendMessageSet([]byte("x"), enc(EncodeOptions{Codec: Zstd}), 1, 0)
		if !errors.Is(err, ErrUnknownCodec) || string(set) != "x" {
			t.Fatalf("%q, %v", set, err)
		}
	})
	t.Run("magic 2 is not a message set", func(t *testing.T) {
		if _, err := AppendMessageSet(nil, enc(EncodeOptions{}), 2, 0); !errors.Is(err, ErrUnsupportedMagic) {
			t.Fatal(err)
		}
	})
	t.Run("lz4 header checksum per magic", func(t *testing.T) {
		for _, magic := range []int8{0, 1} {
			set, err := AppendMessageSet(nil, enc(EncodeOptions{Codec: LZ4}), magic, 0)
			if err != nil {
				t.Fatal(err)
			}
			frame := kmsgMessages(t, set, magic)[0].Value
			at := lz4HCAt(frame)
			good := byte(xxh32(frame[4:at]) >> 8)
			broken := byte(xxh32(frame[:at]) >> 8)
			if want := map[int8]byte{0: broken, 1: good}[magic]; frame[at] != want {
				t.Fatalf("magic %d: HC %#x, want %#x (good %#x broken %#x)", magic, frame[at], want, good, broken)
			}
		}
	})
}

func TestFromMessageSet(t *testing.T) {
	inner1 := append(kmsgMessage(0, 1, 0, 5000, []byte("k1"), []byte("v1")), kmsgMessage(1, 1, 0, 6000, nil, []byte("v2"))...)
	inner0 := append(kmsgMessage(40, 0, 0, 0, []byte("k1"), []byte("v1")), kmsgMessage(41, 0, 0, 0, nil, []byte("v2"))...)
	lz4Frame := func(magic int8, src []byte) []byte {
		f, err := appendCompressed(nil, src, LZ4)
		if err != nil {
			t.Fatal(err)
		}
		if magic == 0 {
			breakLZ4Header(f)
		}
		return f
	}
	gz, _ := appendCompressed(nil, inner1, Gzip)
	xer, _ := appendCompressed(nil, inner1, Snappy)
	badHC := lz4Frame(1, inner1)
	badHC[lz4HCAt(badHC)] ^= 0x5a

	type want struct {
		codec Codec
		keys  []string // "<nil>" for a null key
		ts    []int64
	}
	for _, tc := range []struct {
		name string
		set  []byte
		want want
		err  error
	}{
		{name: "magic 0 plain", set: inner0, want: want{None, []string{"k1", "<nil>"}, []int64{-1, -1}}},
		{name: "magic 1 plain", set: inner1, want: want{None, []string{"k1", "<nil>"}, []int64{5000, 6000}}},
		{name: "gzip magic 1", set: kmsgMessage(1, 1, int8(Gzip), 6000, nil, gz), want: want{Gzip, []string{"k1", "<nil>"}, []int64{5000, 6000}}},
		{name: "gzip log append time wrapper", set: kmsgMessage(1, 1, int8(Gzip)|0x08, 8000, nil, gz), want: want{Gzip, []string{"k1", "<nil>"}, []int64{8000, 8000}}},
		{name: "snappy xerial", set: kmsgMessage(1, 1, int8(Snappy), 6000, nil, xer), want: want{Snappy, []string{"k1", "<nil>"}, []int64{5000, 6000}}},
		{name: "snappy raw", set: kmsgMessage(1, 1, int8(Snappy), 6000, nil, snappy.Encode(nil, inner1)), want: want{Snappy, []string{"k1", "<nil>"}, []int64{5000, 6000}}},
		{name: "lz4 magic 1", set: kmsgMessage(1, 1, int8(LZ4), 6000, nil, lz4Frame(1, inner1)), want: want{LZ4, []string{"k1", "<nil>"}, []int64{5000, 6000}}},
		{name: "lz4 magic 0 broken checksum", set: kmsgMessage(41, 0, int8(LZ4), 0, nil, lz4Frame(0, inner0)), want: want{LZ4, []string{"k1", "<nil>"}, []int64{-1, -1}}},
		{name: "lz4 magic 0 correct checksum", set: kmsgMessage(41, 0, int8(LZ4), 0, nil, lz4Frame(1, inner0)), want: want{LZ4, []string{"k1", "<nil>"}, []int64{-1, -1}}},
		{name: "mixed magics", set: append(kmsgMessage(0, 0, 0, 0, []byte("a"), nil), kmsgMessage(0, 1, 0, 9, []byte("b"), nil)...), err: ErrInvalidRecord},
		{name: "wrapper and a plain message", set: append(kmsgMessage(1, 1, int8(Gzip), 6000, nil, gz), kmsgMessage(0, 1, 0, 1, []byte("p"), nil)...), err: ErrInvalidRecord},
		{name: "plain message and a wrapper", set: append(kmsgMessage(0, 1, 0, 1, []byte("p"), nil), kmsgMessage(1, 1, int8(Gzip), 6000, nil, gz)...), err: ErrInvalidRecord},
		{name: "two wrappers", set: append(kmsgMessage(1, 1, int8(Gzip), 6000, nil, gz), kmsgMessage(1, 1, int8(Snappy), 6000, nil, xer)...), err: ErrInvalidRecord},

		{name: "bad crc", set: func() []byte { b := bytes.Clone(inner1); b[len(b)-1] ^= 1; return b }(), err: ErrCorruptCRC},
		{name: "truncated", set: inner1[:len(inner1)-1], err: ErrTruncated},
		{name: "header only", set: inner1[:10], err: ErrTruncated},
		{name: "empty", set: nil, err: ErrInvalidRecord},
		{name: "magic 2", set: func() []byte {
			b := kmsgMessage(0, 1, 0, 0, nil, nil)
			b[16] = 2
			binary.BigEndian.PutUint32(b[12:], crc32.ChecksumIEEE(b[16:]))
			return b
		}(), err: ErrUnsupportedMagic},
		{name: "bad key length", set: func() []byte {
			b := kmsgMessage(0, 0, 0, 0, []byte("k"), nil)
			b[21] = 9
			binary.BigEndian.PutUint32(b[12:], crc32.ChecksumIEEE(b[16:]))
			return b
		}(), err: ErrCorrupt},
		{name: "nested compression", set: kmsgMessage(0, 1, int8(Gzip), 0, nil, mustCompress(t, kmsgMessage(0, 1, int8(Gzip), 0, nil, gz), Gzip)), err: ErrCorrupt},
		{name: "inner magic differs", set: kmsgMessage(0, 0, int8(Gzip), 0, nil, gz), err: ErrCorrupt},
		{name: "not gzip", set: kmsgMessage(0, 1, int8(Gzip), 0, nil, []byte("nope")), err: ErrCorrupt},
		{name: "lz4 header checksum neither", set: kmsgMessage(1, 1, int8(LZ4), 6000, nil, badHC), err: ErrCorrupt},
		{name: "zstd in magic 1", set: kmsgMessage(0, 1, int8(Zstd), 0, nil, mustCompress(t, inner1, Zstd)), err: ErrUnknownCodec},
		{name: "codec 6", set: kmsgMessage(0, 1, 6, 0, nil, []byte("x")), err: ErrUnknownCodec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := FromMessageSet([]byte("d"), tc.set)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || string(out) != "d" {
					t.Fatalf("%q, %v; want %v", out, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			info, recs, err := Decode(out[1:])
			if err != nil {
				t.Fatal(err)
			}
			if info.Codec() != tc.want.codec || len(recs) != len(tc.want.keys) {
				t.Fatalf("codec %s, %d records; want %+v", info.Codec(), len(recs), tc.want)
			}
			for i, r := range recs {
				k := "<nil>"
				if r.Key != nil {
					k = string(r.Key)
				}
				if k != tc.want.keys[i] || millis(r.Timestamp) != tc.want.ts[i] || r.Offset != int64(i) {
					t.Fatalf("record %d: %q at %d offset %d; want %+v", i, k, millis(r.Timestamp), r.Offset, tc.want)
				}
			}
		})
	}
}

func mustCompress(t *testing.T, src []byte, c Codec) []byte {
	t.Helper()
	b, err := appendCompressed(nil, src, c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seedMessageSets are message sets of both magics and every old codec.
func seedMessageSets(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, b := range seedBatches(f) {
		for _, magic := range []int8{0, 1} {
			if set, err := AppendMessageSet(nil, b, magic, 0); err == nil && len(set) > 0 {
				seeds = append(seeds, set)
			}
		}
	}
	return seeds
}

func FuzzFromMessageSet(f *testing.F) {
	for _, s := range seedMessageSets(f) {
		f.Add(s)
	}
	f.Add(kmsgMessage(0, 0, int8(Snappy), 0, nil, []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9}))
	f.Fuzz(func(t *testing.T, set []byte) {
		out, err := FromMessageSet(nil, set)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupportedMagic) &&
				!errors.Is(err, ErrUnknownCodec) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("error wrapping no sentinel: %v", err)
			}
			return
		}
		if _, err := CheckProduce(out); err != nil {
			t.Fatalf("converted batch fails CheckProduce: %v", err)
		}
		if _, _, err := Decode(out); err != nil {
			t.Fatalf("converted batch does not decode: %v", err)
		}
	})
}

func FuzzAppendMessageSet(f *testing.F) {
	for _, b := range seedBatches(f) {
		f.Add(b, int8(0), int64(0))
		f.Add(b, int8(1), int64(1))
	}
	f.Fuzz(func(t *testing.T, batch []byte, magic int8, fetchOffset int64) {
		set, err := AppendMessageSet(nil, batch, magic, fetchOffset)
		if err != nil || len(set) == 0 {
			return
		}
		// What we send an old consumer parses as messages of that magic.
		if _, err := FromMessageSet(nil, set); err != nil {
			t.Fatalf("down-converted set does not parse: %v", err)
		}
	})
}

// BenchmarkDownConvert measures what an old consumer costs per batch: the
// 1000-record "many" set, per codec, to magic 1 (b.SetBytes: the v2 batch).
func BenchmarkDownConvert(b *testing.B) {
	for _, c := range []Codec{None, Gzip, Snappy, LZ4} {
		batch, err := Encode(nil, recordSets()["many"], EncodeOptions{Codec: c})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(batch)))
			var out []byte
			for b.Loop() {
				if out, err = AppendMessageSet(out[:0], batch, 1, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFromMessageSet measures the produce side: the same records as a
// magic 1 message set, per codec, to one v2 batch (b.SetBytes: the set).
func BenchmarkFromMessageSet(b *testing.B) {
	for _, c := range []Codec{None, Gzip, Snappy, LZ4} {
		batch, err := Encode(nil, recordSets()["many"], EncodeOptions{Codec: c})
		if err != nil {
			b.Fatal(err)
		}
		set, err := AppendMessageSet(nil, batch, 1, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(set)))
			var out []byte
			for b.Loop() {
				if out, err = FromMessageSet(out[:0], set); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
