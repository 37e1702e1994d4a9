package recordbatch

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// seedBatches are valid batches of every codec and shape, plus a few
// damaged ones, for the fuzzers' seed corpora.
func seedBatches(f *testing.F) [][]byte {
	f.Helper()
	var seeds [][]byte
	sets := recordSets()
	for _, name := range []string{"one", "null key", "null value", "empty value", "headers", "timestamps out of order", "explicit offsets"} {
		for _, c := range allCodecs {
			for _, logAppend := range []bool{false, true} {
				b, err := Encode(nil, sets[name], EncodeOptions{Codec: c, LogAppendTime: logAppend, Idempotent: c == Zstd, ProducerID: 5})
				if err != nil {
					f.Fatal(err)
				}
				seeds = append(seeds, b)
			}
		}
	}
	// Foreign framings: raw and small-block xerial snappy, stream zstd.
	small := sets["headers"]
	seeds = append(seeds,
		kmsgBatch(f, Snappy, small, func(b []byte) []byte { return javaXerial(8)(b) }),
		kmsgBatch(f, Zstd, small, zstdStream),
		kmsgBatch(f, Gzip, small, stdGzip),
	)
	one := seeds[0]
	seeds = append(seeds,
		one[:HeaderSize],
		one[:len(one)-1],
		append(bytes.Clone(one), one...),
		func() []byte { b := bytes.Clone(one); b[offMagic] = 1; return b }(),
	)
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, s := range seedBatches(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		info, err := Parse(raw)
		if err != nil {
			if info != (Info{}) {
				t.Fatalf("Info with an error: %+v", info)
			}
			return
		}
		if info.Magic != 2 || info.Size() < HeaderSize || info.NumRecords < 0 || info.LastOffsetDelta < info.NumRecords-1 {
			t.Fatalf("Parse accepted %+v", info)
		}
		// The helpers that take a parsed batch must not panic on it.
		_ = VerifyCRC(raw)
		b := bytes.Clone(raw)
		SetBaseOffset(b, 42)
		SetPartitionLeaderEpoch(b, 7)
		SetLogAppendTime(b, 1)
		if again, err := Parse(b); err != nil || again.BaseOffset != 42 || again.PartitionLeaderEpoch != 7 {
			t.Fatalf("after setters: %+v %v", again, err)
		}
		if len(raw) >= info.Size() {
			if err := VerifyCRC(b); err != nil {
				t.Fatalf("SetLogAppendTime left a bad CRC: %v", err)
			}
		}
	})
}

func FuzzSplit(f *testing.F) {
	for _, s := range seedBatches(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, records []byte) {
		batches, err := Split(records)
		if err != nil {
			if batches != nil {
				t.Fatal("batches with an error")
			}
			return
		}
		var joined []byte
		for _, b := range batches {
			info, err := Parse(b)
			if err != nil || info.Size() != len(b) || cap(b) != len(b) {
				t.Fatalf("split batch: %+v %v", info, err)
			}
			joined = append(joined, b...)
		}
		if !bytes.Equal(joined, records) {
			t.Fatal("batches do not make up the input")
		}
	})
}

// FuzzDecode: no input panics; whatever decodes re-encodes to a batch that
// decodes to the same records.
func FuzzDecode(f *testing.F) {
	for _, s := range seedBatches(f) {
		f.Add(s)
	}
	// Keep bombs cheap while fuzzing.
	old := MaxDecompressedSize
	MaxDecompressedSize = 4 << 20
	f.Cleanup(func() { MaxDecompressedSize = old })
	var d Decoder // shared across inputs, as a server would
	f.Fuzz(func(t *testing.T, batch []byte) {
		_ = VerifyCRC(batch)
		_, _ = CheckProduce(batch)
		info, recs, err := Decode(batch)
		dinfo, drecs, derr := d.Decode(batch)
		if (err == nil) != (derr == nil) || dinfo != info {
			t.Fatalf("Decode: %v; Decoder.Decode: %v", err, derr)
		}
		if err != nil {
			if recs != nil || drecs != nil {
				t.Fatal("records with an error")
			}
			return
		}
		equalRecords(t, drecs, recs)
		if len(recs) != int(info.NumRecords) {
			t.Fatalf("%d records, header says %d", len(recs), info.NumRecords)
		}
		_, again, err := DecodeAppend(make([]Record, 1, 4), batch)
		if err != nil || len(again) != len(recs)+1 {
			t.Fatalf("DecodeAppend: %v", err)
		}
		if len(recs) == 0 {
			return
		}
		// Re-encode, if Encode can express these offsets.
		increasing := true
		for i := 1; i < len(recs); i++ {
			increasing = increasing && recs[i].Offset > recs[i-1].Offset && recs[i].Offset-recs[0].Offset <= 1<<31-1
		}
		if !increasing || (recs[0].Offset == 0 && len(recs) > 1 && allOffsetsZero(recs)) {
			return
		}
		opts := EncodeOptions{Codec: info.Codec(), LogAppendTime: info.LogAppendTime()}
		re, err := Encode(nil, recs, opts)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if err := VerifyCRC(re); err != nil {
			t.Fatal(err)
		}
		_, back, err := Decode(re)
		if err != nil {
			t.Fatalf("decode re-encoded: %v", err)
		}
		equalRecords(t, back, recs)
	})
}

func allOffsetsZero(recs []Record) bool {
	for _, r := range recs {
		if r.Offset != 0 {
			return false
		}
	}
	return true
}

// FuzzRoundTrip builds records from the fuzzer's bytes and checks that
// Encode then Decode gives them back, and that kmsg reads the same.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("k\x00v"), uint8(0), uint16(1), int64(0), int64(1700000000000), uint8(0))
	f.Add([]byte("key\x00value\x00\x00x"), uint8(4), uint16(7), int64(100), int64(-1), uint8(3))
	f.Add(bytes.Repeat([]byte("abc\x00"), 300), uint8(2), uint16(50), int64(1<<40), int64(0), uint8(0xff))
	f.Add([]byte{}, uint8(1), uint16(3), int64(-5), int64(1<<50), uint8(0x2a))
	f.Fuzz(func(t *testing.T, data []byte, codec uint8, n uint16, base int64, ts int64, shape uint8) {
		n = n%200 + 1
		parts := bytes.Split(data, []byte{0})
		records := make([]Record, n)
		for i := range records {
			r := &records[i]
			p := parts[i%len(parts)]
			switch (int(shape) + i) % 4 {
			case 0:
				r.Key, r.Value = p, p
			case 1:
				r.Value = p // null key
			case 2:
				r.Key = p // tombstone
			case 3:
				r.Key, r.Value = []byte{}, []byte{}
			}
			if shape&0x10 != 0 && i%2 == 0 {
				r.Headers = []Header{{Key: string(p), Value: p}, {Key: "null"}}
			}
			// -1 ms is Kafka's "no timestamp", which is the zero Time.
			if ms := ts + int64(i%7) - 3; ms != -1 {
				r.Timestamp = time.UnixMilli(ms).UTC()
			}
			if base != 0 {
				r.Offset = base + int64(i)*int64(shape%3+1)
			}
		}
		opts := EncodeOptions{Codec: Codec(codec % 5), LogAppendTime: shape&0x40 != 0}
		batch, err := Encode(nil, records, opts)
		if err != nil {
			if errors.Is(err, ErrInvalidOffsets) { // base near MaxInt64 overflows
				return
			}
			t.Fatal(err)
		}
		if err := VerifyCRC(batch); err != nil {
			t.Fatal(err)
		}
		if opts.Codec == None {
			// The vectored form, values shared from a few bytes up, is
			// the same batch.
			pieces, err := EncodeVectored(records, opts, 1+int(shape%8))
			if err != nil || !bytes.Equal(bytes.Join(pieces, nil), batch) {
				t.Fatalf("EncodeVectored differs from Encode (err %v)", err)
			}
		}
		_, got, err := Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		equalRecords(t, got, expected(records, opts.LogAppendTime))
		_, krecs := kmsgRead(t, batch)
		for i := range krecs {
			if !sameBytes(krecs[i].Key, got[i].Key) || !sameBytes(krecs[i].Value, got[i].Value) {
				t.Fatalf("kmsg record %d differs", i)
			}
		}
	})
}
