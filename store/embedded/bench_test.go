package embedded

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// The store benchmarks use the workload of the README's figures: 1 KiB
// records in batches of 100, 4 shards, on disk, every append durable.

const (
	benchRecordSize = 1024
	benchBatchSize  = 100
	benchShards     = 4
)

func benchBatch(b testing.TB, seed int) []byte {
	recs := make([]recordbatch.Record, benchBatchSize)
	for i := range recs {
		v := make([]byte, benchRecordSize)
		for j := range v {
			v[j] = byte(seed*31 + i*7 + j*13) // not trivially compressible by pebble
		}
		recs[i] = recordbatch.Record{Key: fmt.Appendf(nil, "key-%d", i), Value: v}
	}
	raw, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

var benchSettings = []struct {
	name    string
	tune    func(*pebble.Options)
	encrypt bool // the stream is encrypted at rest
}{
	{"default", nil, false},
	{"no-value-separation", func(o *pebble.Options) {
		o.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy { return pebble.ValueSeparationPolicy{} }
	}, false},
	{"encrypted", nil, true},
	{"fsync-os", nil, false}, // Options.Fsync = FsyncOS: written, not fsynced, on return
}

// benchStore opens a store for a benchmark with a stream "bench",
// encrypted at rest when encrypt is set.
func benchStore(b *testing.B, opts Options, encrypt bool) *Store {
	opts.Dir = b.TempDir()
	cfg := store.StreamConfig{Name: "bench", ShardCount: benchShards}
	if encrypt {
		opts.Keyring = newTestKeyring("bench")
		cfg.Encryption.KeyID = "bench"
	}
	s, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateStream(ctx, cfg); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkAppendDurable appends from 16 goroutines spread over 4 shards;
// each append returns only once synced.
func BenchmarkAppendDurable(b *testing.B) {
	for _, set := range benchSettings {
		b.Run(set.name, func(b *testing.B) {
			opts := Options{tune: set.tune}
			if set.name == "fsync-os" {
				opts.Fsync = FsyncOS
			}
			s := benchStore(b, opts, set.encrypt)
			defer s.Close()
			size := len(benchBatch(b, 0))
			b.SetBytes(int64(size))
			b.SetParallelism(8)
			var worker atomic.Int32
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := worker.Add(1)
				raw := benchBatch(b, int(w))
				for pb.Next() {
					if _, err := s.AppendBatch(ctx, "bench", w%benchShards, raw, store.AppendOptions{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*benchBatchSize)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkRead reads 1 MiB at a time from 2 goroutines, cycling over 4
// partitions of 32 MiB each, flushed out of the memtable. "tail-cache" is
// the default: the data fits the tail cache (consumers at the tail). "hot"
// turns the tail cache off and has a block cache the data fits in; "cold"
// has an 8 MiB block cache, so every value is read from its file (consumers
// catching up; the OS page cache still holds the file). "-released" hand
// each read's buffer back (ReadResult.Release), as Kinesis GetRecords does.
func BenchmarkRead(b *testing.B) {
	for _, bc := range []struct {
		name     string
		cache    int64
		tail     int64
		encrypt  bool
		released bool
	}{{"tail-cache", 0, 0, false, false}, {"hot", 0, -1, false, false}, {"cold", 8 << 20, -1, false, false},
		{"hot-released", 0, -1, false, true}, {"cold-released", 8 << 20, -1, false, true},
		{"tail-cache-encrypted", 0, 0, true, false}, {"hot-encrypted", 0, -1, true, false}} {
		b.Run(bc.name, func(b *testing.B) {
			s := benchStore(b, Options{CacheSize: bc.cache, TailCacheBytes: bc.tail}, bc.encrypt)
			defer s.Close()
			raw := benchBatch(b, 1)
			perPartition := (32 << 20) / len(raw)
			for p := int32(0); p < benchShards; p++ {
				for i := 0; i < perPartition; i++ {
					if _, err := s.AppendBatch(ctx, "bench", p, raw, store.AppendOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := s.db.Flush(); err != nil {
				b.Fatal(err)
			}
			hw := int64(perPartition * benchBatchSize)
			var total, records atomic.Int64
			var reader atomic.Int32
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				p := reader.Add(1) % benchShards
				var off int64
				for pb.Next() {
					res, err := s.Read(ctx, "bench", p, off, store.ReadLimits{MaxBytes: 1 << 20})
					if err != nil {
						b.Error(err)
						return
					}
					for _, batch := range res.Batches {
						total.Add(int64(len(batch.Raw)))
						records.Add(batch.LastOffset - batch.BaseOffset + 1)
						off = batch.LastOffset + 1
					}
					if bc.released && res.Release != nil {
						res.Release()
					}
					if off >= hw {
						off, p = 0, (p+1)%benchShards
					}
				}
			})
			b.ReportMetric(float64(total.Load())/1e6/b.Elapsed().Seconds(), "MB/s")
			b.ReportMetric(float64(records.Load())/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkObjectPutGet measures object bodies through the store, on disk:
// 16 MiB objects put (MD5 always, plus a checksum when named; each put
// fsyncs its file, its directory and its record) and read back whole.
func BenchmarkObjectPutGet(b *testing.B) {
	const size = 16 << 20
	s, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	mustBucket(b, s, "bench")
	body := objectBody("bench", size)
	for _, algo := range []string{"", "CRC64NVME", "SHA256"} {
		b.Run("put"+strings.TrimSuffix("-"+algo, "-"), func(b *testing.B) {
			var checksums []string
			if algo != "" {
				checksums = []string{algo}
			}
			b.SetBytes(size)
			for i := 0; b.Loop(); i++ {
				_, err := s.PutObject(ctx, "bench", fmt.Sprintf("put/%d", i%4), bytes.NewReader(body),
					store.PutOptions{Size: size, Checksums: checksums})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("get", func(b *testing.B) {
		buf := make([]byte, 256<<10)
		b.SetBytes(size)
		for b.Loop() {
			r, err := s.GetObject(ctx, "bench", "put/0", nil)
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.CopyBuffer(io.Discard, r, buf); err != nil || n != size {
				b.Fatal(n, err)
			}
			r.Close()
		}
	})
}
