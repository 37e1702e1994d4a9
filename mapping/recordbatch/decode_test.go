package recordbatch

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// equalRecords compares records field by field, telling nil from empty.
func equalRecords(t testing.TB, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Offset != w.Offset {
			t.Fatalf("record %d: offset %d, want %d", i, g.Offset, w.Offset)
		}
		if !g.Timestamp.Equal(w.Timestamp) || g.Timestamp.IsZero() != w.Timestamp.IsZero() {
			t.Fatalf("record %d: timestamp %v, want %v", i, g.Timestamp, w.Timestamp)
		}
		if !sameBytes(g.Key, w.Key) {
			t.Fatalf("record %d: key %q (nil %v), want %q (nil %v)", i, g.Key, g.Key == nil, w.Key, w.Key == nil)
		}
		if !sameBytes(g.Value, w.Value) {
			t.Fatalf("record %d: value of %d bytes (nil %v), want %d (nil %v)", i, len(g.Value), g.Value == nil, len(w.Value), w.Value == nil)
		}
		if len(g.Headers) != len(w.Headers) || (g.Headers == nil) != (len(w.Headers) == 0) {
			t.Fatalf("record %d: headers %v, want %v", i, g.Headers, w.Headers)
		}
		for j := range w.Headers {
			if g.Headers[j].Key != w.Headers[j].Key || !sameBytes(g.Headers[j].Value, w.Headers[j].Value) {
				t.Fatalf("record %d header %d: %+v, want %+v", i, j, g.Headers[j], w.Headers[j])
			}
		}
	}
}

// expected is what decoding an Encode of records gives back.
func expected(records []Record, logAppend bool) []Record {
	out := make([]Record, len(records))
	offs := wantOffsets(records)
	var maxTS time.Time
	for i, r := range records {
		if i == 0 || msOf(r.Timestamp) > msOf(maxTS) {
			maxTS = r.Timestamp
		}
	}
	for i, r := range records {
		out[i] = r
		out[i].Offset = offs[i]
		if logAppend {
			out[i].Timestamp = maxTS
		}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	for name, records := range recordSets() {
		for _, codec := range allCodecs {
			for _, logAppend := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/logAppend=%v", name, codec, logAppend), func(t *testing.T) {
					batch := mustEncode(t, records, EncodeOptions{Codec: codec, LogAppendTime: logAppend})
					info, got, err := Decode(batch)
					if err != nil {
						t.Fatal(err)
					}
					if info.Codec() != codec || info.LogAppendTime() != logAppend || int(info.NumRecords) != len(records) {
						t.Fatalf("info %+v", info)
					}
					equalRecords(t, got, expected(records, logAppend))
					if codec == None && len(got[0].Value) > 0 && &got[0].Value[0] != &batch[bytes.Index(batch, got[0].Value)] {
						t.Fatal("uncompressed values should alias the batch")
					}
				})
			}
		}
	}
}

func TestDecodeAppend(t *testing.T) {
	a := mustEncode(t, []Record{{Value: []byte("a")}, {Value: []byte("b")}}, EncodeOptions{Codec: Snappy})
	b := mustEncode(t, []Record{{Offset: 10, Value: []byte("c")}}, EncodeOptions{})
	SetBaseOffset(a, 100)
	dst := make([]Record, 0, 8)
	_, dst, err := DecodeAppend(dst, a)
	if err != nil {
		t.Fatal(err)
	}
	_, dst, err = DecodeAppend(dst, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(dst) != 3 || dst[0].Offset != 100 || dst[1].Offset != 101 || dst[2].Offset != 10 || string(dst[2].Value) != "c" {
		t.Fatalf("%+v", dst)
	}
	// Errors leave dst as it was.
	bad := bytes.Clone(b)
	binary.BigEndian.PutUint32(bad[offNumRecords:], 2)
	binary.BigEndian.PutUint32(bad[offLastOffsetDelta:], 1)
	_, out, err := DecodeAppend(dst, bad)
	if !errors.Is(err, ErrCorrupt) || len(out) != 3 {
		t.Fatalf("%v, %d records", err, len(out))
	}
	// Reusing a slice overwrites every field, headers included.
	withHeaders := mustEncode(t, []Record{{Value: []byte("h"), Headers: []Header{{Key: "k"}}}}, EncodeOptions{})
	noHeaders := mustEncode(t, []Record{{Value: []byte("n")}}, EncodeOptions{})
	_, buf, _ := DecodeAppend(nil, withHeaders)
	_, buf, _ = DecodeAppend(buf[:0], noHeaders)
	if buf[0].Headers != nil {
		t.Fatal("stale headers")
	}
	// Bytes after the batch are ignored, so a log can be walked batch by batch.
	log := append(bytes.Clone(a), b...)
	var offsets []int64
	for len(log) > 0 {
		info, recs, err := Decode(log)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			offsets = append(offsets, r.Offset)
		}
		log = log[info.Size():]
	}
	if fmt.Sprint(offsets) != "[100 101 10]" {
		t.Fatal(offsets)
	}
}

func TestDecodeAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	records := make([]Record, 100)
	for i := range records {
		records[i] = Record{Timestamp: t0, Key: []byte("key"), Value: make([]byte, 100),
			Headers: []Header{{Key: "trace-id", Value: []byte("x")}, {Key: "content-type", Value: []byte("y")}}}
	}
	batch := mustEncode(t, records, EncodeOptions{})
	dst := make([]Record, 0, 100)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if _, dst, err = DecodeAppend(dst[:0], batch); err != nil {
			t.Fatal(err)
		}
	})
	// One header slab and the two key strings of the first record.
	if allocs > 3 {
		t.Fatalf("%v allocations per uncompressed decode", allocs)
	}
	if dst[99].Headers[1].Key != "content-type" {
		t.Fatal(dst[99].Headers)
	}
	for _, name := range []string{"Parse", "VerifyCRC", "SetBaseOffset", "SetLogAppendTime"} {
		fn := map[string]func(){
			"Parse":            func() { _, _ = Parse(batch) },
			"VerifyCRC":        func() { _ = VerifyCRC(batch) },
			"SetBaseOffset":    func() { SetBaseOffset(batch, 7) },
			"SetLogAppendTime": func() { SetLogAppendTime(batch, 7) },
		}[name]
		if a := testing.AllocsPerRun(100, fn); a != 0 {
			t.Errorf("%s: %v allocations", name, a)
		}
	}
	enc := make([]byte, 0, 64<<10)
	for _, c := range allCodecs {
		a := testing.AllocsPerRun(50, func() {
			var err error
			if enc, err = Encode(enc[:0], records, EncodeOptions{Codec: c}); err != nil {
				t.Fatal(err)
			}
		})
		if a > 0 {
			t.Errorf("Encode %s into a large enough dst: %v allocations", c, a)
		}
	}
}

func TestDecodeControlBatch(t *testing.T) {
	// A commit marker as a broker writes it: key = version 0, type 1
	// (commit); value = version 0, coordinator epoch.
	marker := []Record{{Offset: 41, Timestamp: t0, Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 5}}}
	batch := mustEncode(t, marker, EncodeOptions{Idempotent: true, ProducerID: 9, Transactional: true, Control: true})
	info, recs, err := Decode(batch)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Control() || !info.Transactional() || info.ProducerID != 9 {
		t.Fatalf("%+v", info)
	}
	equalRecords(t, recs, marker)
}

// kmsgBatch builds a batch with franz-go's kmsg types, compressing the
// records with compress (which may be another implementation than ours).
func kmsgBatch(t testing.TB, codec Codec, records []Record, compress func([]byte) []byte) []byte {
	t.Helper()
	var raw []byte
	first := records[0].Timestamp.UnixMilli()
	maxTS := first
	for i, r := range records {
		ts := r.Timestamp.UnixMilli()
		maxTS = max(maxTS, ts)
		kr := kmsg.Record{TimestampDelta64: ts - first, OffsetDelta: int32(i), Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
		}
		body := kr.AppendTo(nil) // Length 0 encodes as one byte: measure, then set it
		kr.Length = int32(len(body) - 1)
		raw = kr.AppendTo(raw)
	}
	if codec != None {
		raw = compress(raw)
	}
	rb := kmsg.RecordBatch{
		FirstOffset: 0, PartitionLeaderEpoch: -1, Magic: 2, Attributes: int16(codec),
		LastOffsetDelta: int32(len(records) - 1), FirstTimestamp: first, MaxTimestamp: maxTS,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(len(records)), Records: raw,
	}
	rb.Length = int32(49 + len(raw))
	b := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// javaXerial frames snappy the way xerial-snappy-java's SnappyOutputStream
// does (32 KiB blocks), with the golang/snappy encoder.
func javaXerial(blockSize int) func([]byte) []byte {
	return func(src []byte) []byte {
		out := append([]byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}, 0, 0, 0, 1, 0, 0, 0, 1)
		for len(src) > 0 {
			n := min(blockSize, len(src))
			block := snappy.Encode(nil, src[:n])
			out = binary.BigEndian.AppendUint32(out, uint32(len(block)))
			out = append(out, block...)
			src = src[n:]
		}
		return out
	}
}

func stdGzip(src []byte) []byte {
	var buf bytes.Buffer
	w, _ := stdgzip.NewWriterLevel(&buf, stdgzip.BestCompression)
	w.Write(src)
	w.Close()
	return buf.Bytes()
}

func lz4With(opts ...lz4.Option) func([]byte) []byte {
	return func(src []byte) []byte {
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		if err := w.Apply(opts...); err != nil {
			panic(err)
		}
		w.Write(src)
		w.Close()
		return buf.Bytes()
	}
}

// zstdStream compresses the way a streaming encoder (Java's zstd-jni
// ZstdOutputStream) does: no content size in the frame header.
func zstdStream(src []byte) []byte {
	var buf bytes.Buffer
	w, _ := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	w.Write(src)
	w.Close()
	return buf.Bytes()
}

// zstdTwoFrames splits the data over two concatenated frames.
func zstdTwoFrames(src []byte) []byte {
	e, _ := zstd.NewWriter(nil)
	h := len(src) / 2
	return e.EncodeAll(src[h:], e.EncodeAll(src[:h], nil))
}

func TestDecodeForeignBatches(t *testing.T) {
	sets := recordSets()
	for _, tc := range []struct {
		name     string
		codec    Codec
		compress func([]byte) []byte
	}{
		{"uncompressed", None, nil},
		{"stdlib gzip", Gzip, stdGzip},
		{"raw snappy (golang/snappy)", Snappy, func(b []byte) []byte { return snappy.Encode(nil, b) }},
		{"xerial snappy 32k blocks (Java)", Snappy, javaXerial(32 << 10)},
		{"xerial snappy one block", Snappy, javaXerial(1 << 30)},
		{"xerial snappy 1k blocks", Snappy, javaXerial(1 << 10)},
		{"lz4 defaults (4MiB blocks)", LZ4, lz4With()},
		{"lz4 block checksums, no content checksum, content size", LZ4, func(b []byte) []byte {
			return lz4With(lz4.BlockChecksumOption(true), lz4.ChecksumOption(false), lz4.SizeOption(uint64(len(b))))(b)
		}},
		{"lz4 best", LZ4, lz4With(lz4.CompressionLevelOption(lz4.Level9), lz4.BlockSizeOption(lz4.Block256Kb))},
		{"zstd stream", Zstd, zstdStream},
		{"zstd two frames", Zstd, zstdTwoFrames},
	} {
		for _, name := range []string{"one", "null key", "null value", "empty value", "headers", "timestamps out of order", "large value", "many"} {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				records := sets[name]
				batch := kmsgBatch(t, tc.codec, records, tc.compress)
				if err := VerifyCRC(batch); err != nil {
					t.Fatal(err)
				}
				_, got, err := Decode(batch)
				if err != nil {
					t.Fatal(err)
				}
				equalRecords(t, got, expected(records, false))
			})
		}
	}
}

// saramaBatch has sarama encode a produce request carrying records with
// codec and returns the batch bytes it put on the wire, captured by a
// listener on the loopback interface.
func saramaBatch(t *testing.T, codec sarama.CompressionCodec, records []Record) []byte {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	frames := make(chan []byte, 1)
	go func() {
		defer close(frames)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		var size [4]byte
		if _, err := io.ReadFull(c, size[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(c, frame); err != nil {
			return
		}
		frames <- frame
	}()

	conf := sarama.NewConfig()
	conf.ApiVersionsRequest = false
	conf.Version = sarama.V2_1_0_0
	broker := sarama.NewBroker(ln.Addr().String())
	if err := broker.Open(conf); err != nil {
		t.Fatal(err)
	}
	defer broker.Close()

	first := records[0].Timestamp
	rb := &sarama.RecordBatch{
		Version: 2, Codec: codec, PartitionLeaderEpoch: -1, LastOffsetDelta: int32(len(records) - 1),
		FirstTimestamp: first, MaxTimestamp: first, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
	}
	for i, r := range records {
		sr := &sarama.Record{TimestampDelta: r.Timestamp.Sub(first), OffsetDelta: int64(i), Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			sr.Headers = append(sr.Headers, &sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
		}
		if r.Timestamp.After(rb.MaxTimestamp) {
			rb.MaxTimestamp = r.Timestamp
		}
		rb.Records = append(rb.Records, sr)
	}
	req := &sarama.ProduceRequest{RequiredAcks: sarama.NoResponse, Timeout: 1000, Version: 7}
	req.AddBatch("topic", 0, rb)
	if _, err := broker.Produce(req); err != nil {
		t.Fatal(err)
	}
	frame := <-frames
	if frame == nil {
		t.Fatal("no request captured")
	}
	// Request header v1: api key, version, correlation id, client id.
	if key, ver := binary.BigEndian.Uint16(frame), binary.BigEndian.Uint16(frame[2:]); key != 0 || ver != 7 {
		t.Fatalf("captured api key %d version %d", key, ver)
	}
	clientID := int(int16(binary.BigEndian.Uint16(frame[8:])))
	body := frame[10+max(clientID, 0):]
	var pr kmsg.ProduceRequest
	pr.Version = 7
	if err := pr.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	return pr.Topics[0].Partitions[0].Records
}

func TestDecodeSaramaBatches(t *testing.T) {
	sets := recordSets()
	for _, codec := range []sarama.CompressionCodec{sarama.CompressionNone, sarama.CompressionGZIP, sarama.CompressionSnappy, sarama.CompressionLZ4, sarama.CompressionZSTD} {
		for _, name := range []string{"one", "null key", "empty value", "headers", "large value", "many"} {
			t.Run(codec.String()+"/"+name, func(t *testing.T) {
				records := sets[name]
				raw := saramaBatch(t, codec, records)
				batches, err := Split(raw)
				if err != nil || len(batches) != 1 {
					t.Fatalf("split: %d batches, %v", len(batches), err)
				}
				if err := VerifyCRC(batches[0]); err != nil {
					t.Fatal(err)
				}
				info, got, err := Decode(batches[0])
				if err != nil {
					t.Fatal(err)
				}
				if info.Codec() != Codec(codec) {
					t.Fatalf("codec %s", info.Codec())
				}
				equalRecords(t, got, expected(records, false))
				// And the other way: sarama's own decoder would need a
				// broker; kmsg reads ours, see TestEncodeReadByKmsg.
			})
		}
	}
}

// withMaxDecompressed runs f with a smaller decompression bound.
func withMaxDecompressed(t *testing.T, n int, f func()) {
	old := MaxDecompressedSize
	MaxDecompressedSize = n
	defer func() { MaxDecompressedSize = old }()
	f()
}

func TestDecompressionBombs(t *testing.T) {
	zeros := make([]byte, 8<<20)
	// 8 MiB of records whose values are all zeros.
	records := []Record{{Value: zeros[:len(zeros)-100]}}
	for _, c := range []Codec{Gzip, Snappy, LZ4, Zstd} {
		t.Run(c.String(), func(t *testing.T) {
			batch := mustEncode(t, records, EncodeOptions{Codec: c})
			t.Logf("%s: %d MiB of records compress to %d bytes", c, len(zeros)>>20, len(batch))
			withMaxDecompressed(t, 1<<20, func() {
				if _, _, err := Decode(batch); !errors.Is(err, ErrTooLarge) {
					t.Fatalf("want ErrTooLarge, got %v", err)
				}
			})
			if _, got, err := Decode(batch); err != nil || len(got[0].Value) != len(records[0].Value) {
				t.Fatalf("under the default bound: %v", err)
			}
		})
	}
	// Claimed sizes are refused before anything is allocated.
	claims := map[string][]byte{
		"raw snappy claiming 4 GiB":    {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00},
		"raw snappy claiming 1 MiB":    binary.AppendUvarint(nil, 1<<20),
		"xerial block claiming 60 MiB": append(append(javaXerial(1)(nil), 0, 0, 0, 4), binary.AppendUvarint(nil, 60<<20)...),
		"xerial blocks claiming 70 MiB": append(append(append(append(javaXerial(1)(nil),
			0, 0, 0, 4), binary.AppendUvarint(nil, 60<<20)...), 0, 0, 0, 4), binary.AppendUvarint(nil, 10<<20)...),
	}
	for name, payload := range claims {
		t.Run(name, func(t *testing.T) {
			batch := kmsgBatch(t, Snappy, []Record{{Value: []byte("x")}}, func([]byte) []byte { return payload })
			var err error
			allocs := testing.AllocsPerRun(5, func() { _, _, err = Decode(batch) })
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("got %v", err)
			}
			if allocs > 10 && !raceEnabled {
				t.Fatalf("%v allocations", allocs)
			}
		})
	}
	// A zstd frame declaring a 1 GiB content size.
	hdr := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0 /* FCS 8 bytes, single segment */}
	hdr = binary.LittleEndian.AppendUint64(hdr, 1<<30)
	hdr = append(hdr, 0x01, 0x00, 0x00) // last raw block, empty
	batch := kmsgBatch(t, Zstd, []Record{{Value: []byte("x")}}, func([]byte) []byte { return hdr })
	if _, _, err := Decode(batch); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("zstd claim: %v", err)
	}
}

func TestDecodeCorrupt(t *testing.T) {
	good := mustEncode(t, []Record{
		{Key: []byte("k"), Value: []byte("value"), Headers: []Header{{Key: "h", Value: []byte("v")}}},
		{Key: []byte("k2"), Value: []byte("value2")},
	}, EncodeOptions{})
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	setLen := func(b []byte) []byte {
		binary.BigEndian.PutUint32(b[offLength:], uint32(len(b)-12))
		return b
	}
	for _, tc := range []struct {
		name  string
		batch []byte
		want  error
	}{
		{"truncated", good[:len(good)-1], ErrTruncated},
		{"header only", good[:HeaderSize], ErrTruncated},
		{"count too high", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offNumRecords:], 3)
			binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 2)
			return b
		}), ErrCorrupt},
		{"count too low", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[offNumRecords:], 1); return b }), ErrCorrupt},
		{"trailing garbage in batch", mutate(func(b []byte) []byte { return setLen(append(b, 0)) }), ErrCorrupt},
		{"record length too long", mutate(func(b []byte) []byte { b[HeaderSize] += 2; return b }), ErrCorrupt},
		{"record length too short", mutate(func(b []byte) []byte { b[HeaderSize] -= 2; return b }), ErrCorrupt},
		{"negative record length", mutate(func(b []byte) []byte { b[HeaderSize] = 1; return b }), ErrCorrupt},
		{"key length -2", mutate(func(b []byte) []byte { b[HeaderSize+4] = 3; return b }), ErrCorrupt},
		{"key length past record", mutate(func(b []byte) []byte { b[HeaderSize+4] = 100; return b }), ErrCorrupt},
		{"null header key", mutate(func(b []byte) []byte {
			i := bytes.Index(b, []byte{2, 'h'}) // key length 1, "h"
			b[i] = 1
			return b
		}), ErrCorrupt},
		{"header count too high", mutate(func(b []byte) []byte {
			i := bytes.Index(b, []byte("value")) + 5
			b[i] = 40
			return b
		}), ErrCorrupt},
		{"overlong varint", mutate(func(b []byte) []byte {
			copy(b[HeaderSize+2:], bytes.Repeat([]byte{0xff}, 11))
			return b
		}), ErrCorrupt},
		{"codec 5", mutate(func(b []byte) []byte { b[offAttributes+1] |= 5; return b }), ErrUnknownCodec},
		{"codec 7", mutate(func(b []byte) []byte { b[offAttributes+1] |= 7; return b }), ErrUnknownCodec},
		{"gzip flag on plain records", mutate(func(b []byte) []byte { b[offAttributes+1] |= 1; return b }), ErrCorrupt},
		{"snappy flag on plain records", mutate(func(b []byte) []byte { b[offAttributes+1] |= 2; return b }), ErrCorrupt},
		{"lz4 flag on plain records", mutate(func(b []byte) []byte { b[offAttributes+1] |= 3; return b }), ErrCorrupt},
		{"zstd flag on plain records", mutate(func(b []byte) []byte { b[offAttributes+1] |= 4; return b }), ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, recs, err := Decode(tc.batch)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if recs != nil {
				t.Fatalf("records returned with an error: %v", recs)
			}
		})
	}
	// Corrupt compressed payloads: every truncation of the payload fails
	// cleanly (and does not panic).
	for _, c := range []Codec{Gzip, Snappy, LZ4, Zstd} {
		batch := mustEncode(t, recordSets()["many"][:50], EncodeOptions{Codec: c})
		for cut := HeaderSize; cut < len(batch); cut += max(1, (len(batch)-HeaderSize)/200) {
			b := bytes.Clone(batch[:cut])
			setLen(b)
			if _, _, err := Decode(b); err == nil {
				t.Fatalf("%s: payload cut at %d decoded", c, cut)
			}
		}
	}
}

func TestCodecString(t *testing.T) {
	var names []string
	for _, c := range append(allCodecs, 6) {
		names = append(names, c.String())
	}
	if got := strings.Join(names, ","); got != "none,gzip,snappy,lz4,zstd,codec(6)" {
		t.Fatal(got)
	}
}

func TestDecoder(t *testing.T) {
	sets := recordSets()
	var d Decoder
	// The same Decoder across codecs and shapes gives what Decode gives.
	for round := range 2 {
		for _, name := range []string{"headers", "many", "one", "large value", "null value", "many"} {
			for _, c := range allCodecs {
				batch := mustEncode(t, sets[name], EncodeOptions{Codec: c})
				info, got, err := d.Decode(batch)
				if err != nil {
					t.Fatalf("round %d %s/%s: %v", round, name, c, err)
				}
				if info.Codec() != c {
					t.Fatal(info)
				}
				equalRecords(t, got, expected(sets[name], false))
			}
		}
	}
	// Errors return no records and leave the Decoder usable.
	good := mustEncode(t, sets["headers"], EncodeOptions{Codec: Gzip})
	if _, recs, err := d.Decode(good[:len(good)-1]); err == nil || recs != nil {
		t.Fatalf("%v %v", recs, err)
	}
	if _, recs, err := d.Decode(good); err != nil || len(recs) != 1 {
		t.Fatal(err)
	}
	// Once warm, decoding compressed batches allocates nothing.
	records := make([]Record, 100)
	for i := range records {
		records[i] = Record{Timestamp: t0, Key: []byte("key"), Value: bytes.Repeat([]byte("value "), 100),
			Headers: []Header{{Key: "trace-id", Value: []byte("x")}}}
	}
	for _, c := range allCodecs {
		batch := mustEncode(t, records, EncodeOptions{Codec: c})
		var d Decoder
		if _, _, err := d.Decode(batch); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			if _, _, err := d.Decode(batch); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 0 && !raceEnabled {
			t.Errorf("%s: %v allocations per warm Decoder.Decode", c, allocs)
		}
	}
}

func TestCheckProduce(t *testing.T) {
	good := mustEncode(t, []Record{{Value: []byte("a")}, {Value: []byte("b")}}, EncodeOptions{Codec: Snappy})
	if info, err := CheckProduce(good); err != nil || info.NumRecords != 2 {
		t.Fatal(info, err)
	}
	if a := testing.AllocsPerRun(10, func() { _, _ = CheckProduce(good) }); a != 0 && !raceEnabled {
		t.Fatalf("%v allocations", a)
	}
	resum := func(b []byte) []byte {
		binary.BigEndian.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], crc32.MakeTable(crc32.Castagnoli)))
		return b
	}
	mutate := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return resum(b) }
	for _, tc := range []struct {
		name  string
		batch []byte
		want  error
	}{
		{"truncated", good[:len(good)-1], ErrTruncated},
		{"trailing bytes", append(bytes.Clone(good), 0), ErrCorrupt},
		{"two batches", append(bytes.Clone(good), good...), ErrCorrupt},
		{"bad CRC", func() []byte { b := bytes.Clone(good); b[len(b)-1] ^= 1; return b }(), ErrCorruptCRC},
		{"magic 1", func() []byte { b := bytes.Clone(good); b[offMagic] = 1; return b }(), ErrUnsupportedMagic},
		{"codec 6", mutate(func(b []byte) { b[offAttributes+1] |= 6 }), ErrUnknownCodec},
		{"control", mutate(func(b []byte) { b[offAttributes+1] |= attrControl }), ErrInvalidRecord},
		{"gap in offsets", mutate(func(b []byte) { binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 5) }), ErrInvalidRecord},
		{"no records", mutate(func(b []byte) {
			binary.BigEndian.PutUint32(b[offNumRecords:], 0)
			binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 0)
		}), ErrInvalidRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := CheckProduce(tc.batch); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}
