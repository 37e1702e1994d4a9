package embedded

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// testClock is a store clock tests move by hand.
type testClock struct{ ms atomic.Int64 }

func (c *testClock) now() time.Time        { return time.UnixMilli(c.ms.Load()) }
func (c *testClock) add(d time.Duration)   { c.ms.Add(d.Milliseconds()) }
func newTestClock(at time.Time) *testClock { c := &testClock{}; c.ms.Store(at.UnixMilli()); return c }

// openCompacting opens a store whose cleaner runs only when the test calls
// Compact, unpaced.
func openCompacting(t testing.TB, dir string, clock *testClock, buffer int64) *Store {
	t.Helper()
	s, err := Open(Options{
		Dir: dir, InMemory: dir == "", Now: clock.now,
		CompactionInterval: time.Hour, CompactionBufferBytes: buffer, CompactionBytesPerSecond: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func createCompacted(t testing.TB, s *Store, name string, c store.Compaction) {
	t.Helper()
	c.Enabled = true
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: name, ShardCount: 1, Compaction: c}); err != nil {
		t.Fatal(err)
	}
}

// kv is a key and a value; a nil value is a tombstone.
type kvRec struct{ key, value string }

func keyedBatch(t testing.TB, codec recordbatch.Codec, ts time.Time, recs ...kvRec) []byte {
	t.Helper()
	out := make([]recordbatch.Record, len(recs))
	for i, r := range recs {
		out[i] = recordbatch.Record{Key: []byte(r.key), Timestamp: ts}
		if r.value != "" {
			out[i].Value = []byte(r.value)
		}
	}
	raw, err := recordbatch.Encode(nil, out, recordbatch.EncodeOptions{Codec: codec, Idempotent: true, ProducerID: 7, ProducerEpoch: 1, BaseSequence: 3})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func appendKeyed(t testing.TB, s *Store, name string, codec recordbatch.Codec, ts time.Time, recs ...kvRec) store.AppendResult {
	t.Helper()
	res, err := s.AppendBatch(ctx, name, 0, keyedBatch(t, codec, ts, recs...), store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// survivors is what a compaction of every record below end must leave:
// each key's latest record, every record from end on.
func survivors(all []recordbatch.Record, end int64) map[int64]bool {
	latest := map[string]int64{}
	for _, r := range all {
		if r.Offset < end {
			latest[string(r.Key)] = r.Offset
		}
	}
	keep := map[int64]bool{}
	for _, r := range all {
		if r.Offset >= end || latest[string(r.Key)] == r.Offset {
			keep[r.Offset] = true
		}
	}
	return keep
}

func checkRecords(t *testing.T, got, all []recordbatch.Record, keep map[int64]bool) {
	t.Helper()
	byOffset := map[int64]recordbatch.Record{}
	for _, r := range all {
		byOffset[r.Offset] = r
	}
	if len(got) != len(keep) {
		t.Fatalf("%d records left, want %d", len(got), len(keep))
	}
	for i, r := range got {
		want, ok := byOffset[r.Offset]
		if !ok || !keep[r.Offset] {
			t.Fatalf("record %d at offset %d should be gone", i, r.Offset)
		}
		if string(r.Key) != string(want.Key) || string(r.Value) != string(want.Value) || (r.Value == nil) != (want.Value == nil) {
			t.Fatalf("offset %d: %q=%q, want %q=%q", r.Offset, r.Key, r.Value, want.Key, want.Value)
		}
		if i > 0 && r.Offset <= got[i-1].Offset {
			t.Fatalf("offsets out of order: %d after %d", r.Offset, got[i-1].Offset)
		}
	}
}

// storedBytes sums the stored batches' sizes by reading them back.
func storedBytes(t *testing.T, s *Store, name string) int64 {
	t.Helper()
	var n int64
	p := (*s.streams[name].parts.Load())[0]
	err := s.scan(partitionPrefix(nil, tagData, p.id, 0), prefixEnd(partitionPrefix(nil, tagData, p.id, 0)), func(_, v []byte) error {
		n += int64(len(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The latest record of each key survives at its offset, with every codec
// and encrypted at rest; the newest batch is never cleaned; sizes follow.
func TestCompactionKeepsLatestPerKey(t *testing.T) {
	for _, tc := range []struct {
		name      string
		codec     recordbatch.Codec
		encrypted bool
	}{
		{"none", recordbatch.None, false},
		{"gzip", recordbatch.Gzip, false},
		{"zstd", recordbatch.Zstd, false},
		{"lz4-encrypted", recordbatch.LZ4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock(time.Unix(1_700_000_000, 0))
			opts := Options{InMemory: true, Now: clock.now, CompactionInterval: time.Hour, CompactionBytesPerSecond: -1, Registerer: prometheus.NewRegistry()}
			if tc.encrypted {
				opts.Keyring = newTestKeyring("a")
			}
			s, err := Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			cfg := store.StreamConfig{Name: "c", ShardCount: 1, Compaction: store.Compaction{Enabled: true, MinDirtyRatio: 0.5, DeleteRetention: time.Hour}}
			if tc.encrypted {
				cfg.Encryption = store.Encryption{KeyID: "a"}
			}
			if _, err := s.CreateStream(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			for round := range 6 {
				var recs []kvRec
				for k := range 10 {
					if (k+round)%3 == 0 { // each batch rewrites some keys only
						recs = append(recs, kvRec{fmt.Sprintf("key-%d", k), fmt.Sprintf("v%d-%d", k, round)})
					}
				}
				appendKeyed(t, s, "c", tc.codec, clock.now(), recs...)
			}
			last := appendKeyed(t, s, "c", tc.codec, clock.now(), kvRec{"key-1", "newest"})
			all := readAll(t, s, "c", 0, 0)
			before, _ := s.Size(ctx, "c", 0)

			if err := s.Compact(ctx); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, s, "c", 0, 0)
			checkRecords(t, got, all, survivors(all, last.BaseOffset))
			after, _ := s.Size(ctx, "c", 0)
			if after >= before || after != storedBytes(t, s, "c") {
				t.Fatalf("size %d -> %d, stored %d", before, after, storedBytes(t, s, "c"))
			}
			c := &s.cleaner
			if p, r, b := counterOf(c.passes), counterOf(c.removed), counterOf(c.saved); p != 1 || int(r) != len(all)-len(got) || int64(b) != before-after {
				t.Fatalf("metrics: %v passes, %v removed, %v bytes saved; want 1, %d, %d", p, r, b, len(all)-len(got), before-after)
			}
			logStart, hw, _ := s.Offsets(ctx, "c", 0)
			if logStart != 0 || hw != last.LastOffset+1 {
				t.Fatalf("offsets [%d, %d), want [0, %d)", logStart, hw, last.LastOffset+1)
			}
			// A read at a removed offset starts at the next record.
			res, err := s.Read(ctx, "c", 0, 1, store.ReadLimits{})
			if err != nil || len(res.Batches) == 0 {
				t.Fatal(res, err)
			}
			// Rewritten batches keep their producer fields and base offsets.
			for _, b := range res.Batches {
				info, err := recordbatch.Parse(b.Raw)
				if err != nil || info.ProducerID != 7 || info.ProducerEpoch != 1 || info.BaseOffset != b.BaseOffset || info.Codec() != tc.codec {
					t.Fatalf("batch at %d: %+v %v", b.BaseOffset, info, err)
				}
			}
			// Appends go on at the same offsets.
			if res := appendKeyed(t, s, "c", tc.codec, clock.now(), kvRec{"key-2", "after"}); res.BaseOffset != hw {
				t.Fatalf("next append at %d, want %d", res.BaseOffset, hw)
			}
		})
	}
}

// Tombstones stay until delete.retention.ms after the pass that first kept
// them, then go on a later pass.
func TestCompactionTombstones(t *testing.T) {
	clock := newTestClock(time.Unix(1_700_000_000, 0))
	s := openCompacting(t, "", clock, 0)
	defer s.Close()
	createCompacted(t, s, "c", store.Compaction{MinDirtyRatio: 0, DeleteRetention: time.Hour})
	appendKeyed(t, s, "c", recordbatch.None, clock.now(), kvRec{"a", "1"}, kvRec{"b", "1"})
	appendKeyed(t, s, "c", recordbatch.None, clock.now(), kvRec{"a", ""}) // tombstone at 2
	appendKeyed(t, s, "c", recordbatch.None, clock.now(), kvRec{"c", "1"})
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	keys := func() (out []string) {
		for _, r := range readAll(t, s, "c", 0, 0) {
			v := string(r.Value)
			if r.Value == nil {
				v = "<nil>"
			}
			out = append(out, fmt.Sprintf("%d:%s=%s", r.Offset, r.Key, v))
		}
		return out
	}
	if got := fmt.Sprint(keys()); got != "[1:b=1 2:a=<nil> 3:c=1]" {
		t.Fatalf("after the first pass: %s", got)
	}
	// Younger than delete.retention.ms: kept on the next pass.
	clock.add(30 * time.Minute)
	appendKeyed(t, s, "c", recordbatch.None, clock.now(), kvRec{"d", "1"})
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(keys()); got != "[1:b=1 2:a=<nil> 3:c=1 4:d=1]" {
		t.Fatalf("before the horizon: %s", got)
	}
	clock.add(31 * time.Minute)
	appendKeyed(t, s, "c", recordbatch.None, clock.now(), kvRec{"e", "1"})
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(keys()); got != "[1:b=1 3:c=1 4:d=1 5:e=1]" {
		t.Fatalf("past the horizon: %s", got)
	}
	// The emptied batch's horizon went with it.
	p := (*s.streams["c"].parts.Load())[0]
	if v, _ := s.getCopy(horizonKey(p.id, 0, 2)); v != nil {
		t.Fatal("horizon of a removed batch left behind")
	}
}

// min.compaction.lag.ms keeps young batches out of the pass;
// min.cleanable.dirty.ratio holds a pass back until enough is dirty.
func TestCompactionLagAndDirtyRatio(t *testing.T) {
	clock := newTestClock(time.Unix(1_700_000_000, 0))
	s := openCompacting(t, "", clock, 0)
	defer s.Close()
	createCompacted(t, s, "c", store.Compaction{MinDirtyRatio: 0.5, MinLag: time.Minute})
	old := clock.now().Add(-10 * time.Minute)
	for i := range 4 {
		appendKeyed(t, s, "c", recordbatch.None, old, kvRec{"k", fmt.Sprint("old", i)})
	}
	young := appendKeyed(t, s, "c", recordbatch.None, clock.now(), kvRec{"k", "young"})
	appendKeyed(t, s, "c", recordbatch.None, clock.now(), kvRec{"k", "newest"})
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range readAll(t, s, "c", 0, 0) {
		got = append(got, r.Offset)
	}
	// Offsets 0-3 are old: 3 is k's latest among them. 4 is young.
	if fmt.Sprint(got) != "[3 4 5]" {
		t.Fatalf("offsets after the pass: %v (young batch at %d)", got, young.BaseOffset)
	}
	p := (*s.streams["c"].parts.Load())[0]
	cp, _, _ := s.loadCheckpoint(p)
	if cp.firstDirty != young.BaseOffset {
		t.Fatalf("checkpoint at %d, want %d", cp.firstDirty, young.BaseOffset)
	}
	// Little dirt on a large clean part: not due. (The young batch is
	// all there is dirty; pad the clean part first.)
	s2 := openCompacting(t, "", clock, 0)
	defer s2.Close()
	createCompacted(t, s2, "r", store.Compaction{MinDirtyRatio: 0.9})
	for i := range 20 {
		appendKeyed(t, s2, "r", recordbatch.None, old, kvRec{fmt.Sprint("k", i), "v"})
	}
	appendKeyed(t, s2, "r", recordbatch.None, old, kvRec{"end", "v"})
	if err := s2.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	p2 := (*s2.streams["r"].parts.Load())[0]
	cp1, _, _ := s2.loadCheckpoint(p2)
	appendKeyed(t, s2, "r", recordbatch.None, old, kvRec{"k0", "w"})
	appendKeyed(t, s2, "r", recordbatch.None, old, kvRec{"end2", "v"})
	if err := s2.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if cp2, _, _ := s2.loadCheckpoint(p2); cp2 != cp1 {
		t.Fatalf("a pass ran below the dirty ratio: %+v -> %+v", cp1, cp2)
	}
	if n := len(readAll(t, s2, "r", 0, 0)); n != 23 {
		t.Fatalf("%d records, want all 23", n)
	}
	// max.compaction.lag.ms makes it due anyway.
	if _, err := s2.UpdateStream(ctx, "r", func(st *store.Stream) error { st.Compaction.MaxLag = time.Minute; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s2.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, s2, "r", 0, 0)); n != 22 {
		t.Fatalf("%d records after max lag, want 22", n)
	}
}

// More keys than the map holds: each pass cleans as far as its map got,
// and passes go on until the whole log is clean.
func TestCompactionBoundedMemory(t *testing.T) {
	clock := newTestClock(time.Unix(1_700_000_000, 0))
	s := openCompacting(t, "", clock, 64*slotBytes) // 57 keys a pass
	defer s.Close()
	createCompacted(t, s, "c", store.Compaction{MinDirtyRatio: 0})
	const keys, rounds = 200, 3
	for round := range rounds {
		for k := 0; k < keys; k += 10 {
			var recs []kvRec
			for j := k; j < k+10; j++ {
				recs = append(recs, kvRec{fmt.Sprint("key-", j), fmt.Sprint(round)})
			}
			appendKeyed(t, s, "c", recordbatch.None, clock.now(), recs...)
		}
	}
	last := appendKeyed(t, s, "c", recordbatch.None, clock.now(), kvRec{"end", "x"})
	all := readAll(t, s, "c", 0, 0)
	p := (*s.streams["c"].parts.Load())[0]
	passes := 0
	for {
		before, _, _ := s.loadCheckpoint(p)
		if err := s.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		after, _, _ := s.loadCheckpoint(p)
		if after == before {
			break
		}
		if after.firstDirty-before.firstDirty > 60 {
			t.Fatalf("a pass mapped %d offsets with room for 57 keys", after.firstDirty-before.firstDirty)
		}
		passes++
	}
	if passes < keys*rounds/60 {
		t.Fatalf("%d passes", passes)
	}
	checkRecords(t, readAll(t, s, "c", 0, 0), all, survivors(all, last.BaseOffset))
	if n := len(s.cleaner.m.slots); n != 64 {
		t.Fatalf("the map grew to %d slots", n)
	}
}

// Appends and reads go on while the cleaner runs; every read sees records
// in offset order with the values appended at them.
func TestCompactionConcurrentWithAppendAndRead(t *testing.T) {
	clock := newTestClock(time.Unix(1_700_000_000, 0))
	s := openCompacting(t, t.TempDir(), clock, 0)
	defer s.Close()
	createCompacted(t, s, "c", store.Compaction{MinDirtyRatio: 0})
	var (
		wg      sync.WaitGroup
		stop    atomic.Bool
		written sync.Map // offset -> value
		lastVal sync.Map // key -> value
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		defer stop.Store(true)
		for i := range 400 {
			key, val := fmt.Sprint("k", i%17), fmt.Sprint("v", i)
			res, err := s.AppendBatch(ctx, "c", 0, keyedBatch(t, recordbatch.Snappy, clock.now(), kvRec{key, val}), store.AppendOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			written.Store(res.BaseOffset, val)
			lastVal.Store(key, val)
		}
	}()
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if err := s.Compact(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for !stop.Load() {
			prev := int64(-1)
			for _, r := range readAll(t, s, "c", 0, 0) {
				if r.Offset <= prev {
					t.Errorf("offset %d after %d", r.Offset, prev)
					return
				}
				prev = r.Offset
				if v, ok := written.Load(r.Offset); ok && v.(string) != string(r.Value) {
					t.Errorf("offset %d holds %q, appended %q", r.Offset, r.Value, v)
					return
				}
			}
		}
	}()
	wg.Wait()
	appendKeyed(t, s, "c", recordbatch.None, clock.now(), kvRec{"end", "x"})
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	n := 0
	for _, r := range readAll(t, s, "c", 0, 0) {
		got[string(r.Key)] = string(r.Value)
		n++
	}
	lastVal.Range(func(k, v any) bool {
		if got[k.(string)] != v.(string) {
			t.Errorf("key %s: %q, want %q", k, got[k.(string)], v)
		}
		return true
	})
	if n != 18 {
		t.Fatalf("%d records left, want 17 keys and the end", n)
	}
	if size, _ := s.Size(ctx, "c", 0); size != storedBytes(t, s, "c") {
		t.Fatalf("size %d, stored %d", size, storedBytes(t, s, "c"))
	}
}

// Removed offloaded records release their objects; a compacted log reopens
// with the same records and size.
func TestCompactionReleasesObjectsAndReopens(t *testing.T) {
	dir := t.TempDir()
	clock := newTestClock(time.Unix(1_700_000_000, 0))
	s := openCompacting(t, dir, clock, 0)
	mustBucket(t, s, "payloads")
	createCompacted(t, s, "c", store.Compaction{MinDirtyRatio: 0})
	for i, name := range []string{"a", "b"} {
		recs := []recordbatch.Record{{Key: []byte("k"), Value: []byte("ptr-" + name), Timestamp: clock.now()}}
		raw, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{Offloaded: true})
		if err != nil {
			t.Fatal(err)
		}
		opts := store.AppendOptions{Objects: []store.ObjectRef{offloadTo(t, s, "payloads", 0, name)}}
		if _, err := s.AppendBatch(ctx, "c", 0, raw, opts); err != nil {
			t.Fatal(i, err)
		}
	}
	appendKeyed(t, s, "c", recordbatch.None, clock.now(), kvRec{"end", "x"})
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if got := present(t, s, "payloads", "a", "b"); got[0] || !got[1] {
		t.Fatalf("objects present: %v, want only b's", got)
	}
	before := readAll(t, s, "c", 0, 0)
	size, _ := s.Size(ctx, "c", 0)
	if len(before) != 2 || before[0].Offset != 1 {
		t.Fatalf("records: %+v", before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openCompacting(t, dir, clock, 0)
	defer s.Close()
	after := readAll(t, s, "c", 0, 0)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("after reopen: %+v, before %+v", after, before)
	}
	if n, _ := s.Size(ctx, "c", 0); n != size {
		t.Fatalf("size %d after reopen, %d before", n, size)
	}
	if res := appendKeyed(t, s, "c", recordbatch.None, clock.now(), kvRec{"k", "y"}); res.BaseOffset != 3 {
		t.Fatalf("next offset %d after reopen, want 3", res.BaseOffset)
	}
}

func counterOf(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// ListOffsets by timestamp across removed records finds the next record
// kept (the time index keeps working with gaps).
func TestCompactionOffsetForTimestamp(t *testing.T) {
	clock := newTestClock(time.Unix(1_700_000_000, 0))
	s := openCompacting(t, "", clock, 0)
	defer s.Close()
	createCompacted(t, s, "c", store.Compaction{})
	t0 := clock.now()
	appendKeyed(t, s, "c", recordbatch.None, t0, kvRec{"a", "1"})                                   // 0, removed
	appendKeyed(t, s, "c", recordbatch.None, t0.Add(time.Second), kvRec{"b", "1"}, kvRec{"a", "2"}) // 1, 2
	appendKeyed(t, s, "c", recordbatch.None, t0.Add(2*time.Second), kvRec{"b", "2"})                // 3
	appendKeyed(t, s, "c", recordbatch.None, t0.Add(3*time.Second), kvRec{"z", "1"})                // 4, newest
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want int64
	}{
		{t0, 2}, // 0 and 1 are gone: a=2 at 2 is the first kept at or after t0
		{t0.Add(time.Second), 2},
		{t0.Add(2 * time.Second), 3},
		{t0.Add(3 * time.Second), 4},
	} {
		off, _, found, err := s.OffsetForTimestamp(ctx, "c", 0, tc.at.UnixMilli())
		if err != nil || !found || off != tc.want {
			t.Errorf("at %v: %d %v %v, want %d", tc.at.Sub(t0), off, found, err, tc.want)
		}
	}
}

// FuzzCompaction checks the cleaner against a model: batches of keyed
// records (up to 32 keys, some tombstones, any codec) leave exactly each
// key's latest record below the newest batch, at its offset, and everything
// from the newest batch on, whether one pass does it or, with a map of 14
// keys, several. Each input byte is a record: key b&31, tombstone when
// b&0x80, a new batch before it when b&0x40 or after 8 records; the first
// byte picks the codec and (bit 0x80) the small map.
func FuzzCompaction(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0x42, 0x01, 0x80, 0x41, 0x03})
	f.Add([]byte{0x04, 0x44, 0x44, 0x44, 0xc4, 0x44})
	f.Add([]byte{0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x50, 0x51, 0x92, 0x53})
	f.Add([]byte{0x80, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 0x80, 0x41, 2, 0x1f})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 2 || len(in) > 200 {
			return
		}
		clock := newTestClock(time.Unix(1_700_000_000, 0))
		var buffer int64
		if in[0]&0x80 != 0 {
			buffer = 16 * slotBytes
		}
		s := openCompacting(t, "", clock, buffer)
		defer s.Close()
		createCompacted(t, s, "c", store.Compaction{DeleteRetention: time.Hour})
		codec := recordbatch.Codec(in[0] & 0x7f % 5)
		var batch []kvRec
		flush := func() {
			if len(batch) > 0 {
				appendKeyed(t, s, "c", codec, clock.now(), batch...)
				batch = nil
			}
		}
		for i, b := range in[1:] {
			if b&0x40 != 0 || len(batch) == 8 {
				flush()
			}
			r := kvRec{key: fmt.Sprint("k", b&31), value: fmt.Sprint("v", i)}
			if b&0x80 != 0 {
				r.value = ""
			}
			batch = append(batch, r)
		}
		flush()
		last := appendKeyed(t, s, "c", codec, clock.now(), kvRec{"end", "x"})
		all := readAll(t, s, "c", 0, 0)
		p := (*s.streams["c"].parts.Load())[0]
		for range 100 {
			before, _, _ := s.loadCheckpoint(p)
			if err := s.Compact(ctx); err != nil {
				t.Fatal(err)
			}
			if after, _, _ := s.loadCheckpoint(p); after == before {
				break
			}
		}
		checkRecords(t, readAll(t, s, "c", 0, 0), all, survivors(all, last.BaseOffset))
		if size, _ := s.Size(ctx, "c", 0); size != storedBytes(t, s, "c") {
			t.Fatalf("size %d, stored %d", size, storedBytes(t, s, "c"))
		}
	})
}
