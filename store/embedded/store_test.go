package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

var ctx = context.Background()

func openStore(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, InMemory: dir == ""})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// kafkaBatch encodes records as a producer would: keys and values k<i>/v<i>,
// timestamps ts+i ms.
func kafkaBatch(t testing.TB, n int, tag string, ts int64) []byte {
	t.Helper()
	recs := make([]recordbatch.Record, n)
	for i := range recs {
		recs[i] = recordbatch.Record{
			Key:       fmt.Appendf(nil, "k-%s-%d", tag, i),
			Value:     fmt.Appendf(nil, "v-%s-%d", tag, i),
			Timestamp: time.UnixMilli(ts + int64(i)),
			Headers:   []recordbatch.Header{{Key: "h", Value: []byte(tag)}},
		}
	}
	raw, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// readAll decodes every record of a partition from offset to the high watermark.
func readAll(t testing.TB, s *Store, name string, p int32, from int64) []recordbatch.Record {
	t.Helper()
	var out []recordbatch.Record
	for {
		res, err := s.Read(ctx, name, p, from, store.ReadLimits{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Batches) == 0 {
			return out
		}
		for _, b := range res.Batches {
			if err := recordbatch.VerifyCRC(b.Raw); err != nil {
				t.Fatalf("batch at %d: %v", b.BaseOffset, err)
			}
			_, recs, err := recordbatch.Decode(b.Raw)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Offset >= from {
					out = append(out, r)
				}
			}
			from = b.LastOffset + 1
		}
	}
}

func TestStreamLifecycle(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	st, err := s.CreateStream(ctx, store.StreamConfig{Name: "orders", ShardCount: 4, Retention: 24 * time.Hour, Config: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Shards) != 4 || len(st.Partitions) != 4 || st.Config["a"] != "b" {
		t.Fatalf("created %+v", st)
	}
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "orders", ShardCount: 1}); !errors.Is(err, store.ErrStreamExists) {
		t.Fatalf("second create: %v", err)
	}
	for _, bad := range []store.StreamConfig{{Name: "", ShardCount: 1}, {Name: "x", ShardCount: 0}, {Name: "x", ShardCount: 1, Retention: -1}} {
		if _, err := s.CreateStream(ctx, bad); !errors.Is(err, store.ErrInvalidArgument) {
			t.Fatalf("create %+v: %v", bad, err)
		}
	}
	if _, err := s.AppendBatch(ctx, "orders", 1, kafkaBatch(t, 3, "a", 1000), store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListStreams(context.Background()); len(got) != 1 || got[0] != "orders" {
		t.Fatalf("list: %v", got)
	}
	if err := s.DeleteStream(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DescribeStream(context.Background(), "orders"); !errors.Is(err, store.ErrStreamNotFound) {
		t.Fatalf("describe after delete: %v", err)
	}
	if err := s.DeleteStream(ctx, "orders"); !errors.Is(err, store.ErrStreamNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// A stream created again under the same name starts empty.
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "orders", ShardCount: 4}); err != nil {
		t.Fatal(err)
	}
	if _, hw, _ := s.Offsets(context.Background(), "orders", 1); hw != 0 {
		t.Fatalf("recreated stream has high watermark %d", hw)
	}
}

func TestAppendAndRead(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustCreate(t, s, "t", 2)
	for i := 0; i < 5; i++ {
		res, err := s.AppendBatch(ctx, "t", 0, kafkaBatch(t, 10, fmt.Sprint(i), 1000), store.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.BaseOffset != int64(10*i) || res.LastOffset != int64(10*i+9) || res.Shard.Index != 0 {
			t.Fatalf("append %d: %+v", i, res)
		}
	}
	got := readAll(t, s, "t", 0, 0)
	if len(got) != 50 {
		t.Fatalf("read %d records", len(got))
	}
	for i, r := range got {
		if r.Offset != int64(i) || string(r.Key) != fmt.Sprintf("k-%d-%d", i/10, i%10) || string(r.Headers[0].Value) != fmt.Sprint(i/10) {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	// Reading from the middle of a batch returns the whole batch.
	res, err := s.Read(ctx, "t", 0, 15, store.ReadLimits{MaxBytes: 1})
	if err != nil || len(res.Batches) != 1 || res.Batches[0].BaseOffset != 10 || res.HighWatermark != 50 {
		t.Fatalf("read at 15 with 1 byte: %+v %v", res, err)
	}
	res, _ = s.Read(ctx, "t", 0, 0, store.ReadLimits{MaxRecords: 15})
	if len(res.Batches) != 2 {
		t.Fatalf("MaxRecords 15 gave %d batches", len(res.Batches))
	}
	if res.Bytes != nil && !bytes.Equal(res.Bytes, append(bytes.Clone(res.Batches[0].Raw), res.Batches[1].Raw...)) {
		t.Fatal("Bytes is not the batches back to back")
	}
	res, _ = s.Read(ctx, "t", 0, 0, store.ReadLimits{EndOffset: 30})
	if n := len(res.Batches); n != 3 || res.Batches[n-1].LastOffset != 29 {
		t.Fatalf("EndOffset 30 gave %d batches", n)
	}
	if res, err := s.Read(ctx, "t", 0, 50, store.ReadLimits{}); err != nil || len(res.Batches) != 0 {
		t.Fatalf("read at high watermark: %+v %v", res, err)
	}
	for _, off := range []int64{-1, 51} {
		if _, err := s.Read(ctx, "t", 0, off, store.ReadLimits{}); !errors.Is(err, store.ErrOffsetOutOfRange) {
			t.Fatalf("read at %d: %v", off, err)
		}
	}
	if _, err := s.Read(ctx, "t", 2, 0, store.ReadLimits{}); !errors.Is(err, store.ErrPartitionNotFound) {
		t.Fatalf("read of partition 2: %v", err)
	}
	if _, err := s.AppendBatch(ctx, "t", 0, []byte("junk"), store.AppendOptions{}); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("junk batch: %v", err)
	}
}

func TestAppendToShardStampsArrival(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_123)
	s, err := Open(Options{InMemory: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustCreate(t, s, "k", 1)
	recs := []recordbatch.Record{{Key: []byte("pk1"), Value: []byte("a")}, {Key: []byte("pk2"), Value: []byte("b")}}
	res, err := s.AppendToShard(ctx, "k", 0, recs, store.AppendOptions{})
	if err != nil || res.BaseOffset != 0 || res.LastOffset != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	got := readAll(t, s, "k", 0, 0)
	if len(got) != 2 || !got[1].Timestamp.Equal(now) || string(got[1].Key) != "pk2" {
		t.Fatalf("%+v", got)
	}
	if recs[1].Offset != 1 || !recs[1].Timestamp.Equal(now) {
		t.Fatalf("caller's records not updated: %+v", recs[1])
	}
}

func TestWaitWakesOnAppend(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustCreate(t, s, "w", 1)
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, "w", 0, 0) }()
	select {
	case err := <-done:
		t.Fatalf("Wait returned before any record: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	if _, err := s.AppendBatch(ctx, "w", 0, kafkaBatch(t, 1, "x", 0), store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A deadline ends the wait.
	c, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := s.Wait(c, "w", 0, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait past deadline: %v", err)
	}
	// Deleting the stream wakes its readers.
	go func() { done <- s.Wait(ctx, "w", 0, 1) }()
	time.Sleep(10 * time.Millisecond)
	if err := s.DeleteStream(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, store.ErrStreamNotFound) {
		t.Fatalf("wait on deleted stream: %v", err)
	}
}

// A reshard wakes the readers waiting on the stream, so one following a
// shard the reshard closed sees it closed at once.
func TestWaitWakesOnReshard(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustCreate(t, s, "r", 1)
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, "r", 0, 0) }()
	time.Sleep(10 * time.Millisecond)
	if _, err := s.SplitShard(ctx, "r", 0, mapping.MaxHashKey); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("wait across a split: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a split did not wake a waiting reader")
	}
}

func TestCloseWakesWaiters(t *testing.T) {
	s := openStore(t, "")
	mustCreate(t, s, "w", 1)
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, "w", 0, 0) }()
	time.Sleep(10 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, store.ErrClosed) {
		t.Fatalf("wait across close: %v", err)
	}
	if _, err := s.AppendBatch(ctx, "w", 0, kafkaBatch(t, 1, "x", 0), store.AppendOptions{}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
}

// Concurrent appenders to the same and to different partitions get dense,
// unique offsets, and every record reads back in offset order.
func TestConcurrentAppends(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	mustCreate(t, s, "c", 3)
	const writers, each = 6, 40
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := s.AppendBatch(ctx, "c", int32(w%3), kafkaBatch(t, 3, fmt.Sprintf("%d.%d", w, i), 0), store.AppendOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for p := int32(0); p < 3; p++ {
		got := readAll(t, s, "c", p, 0)
		if len(got) != 2*each*3 {
			t.Fatalf("partition %d has %d records", p, len(got))
		}
		seen := map[string]bool{}
		for i, r := range got {
			if r.Offset != int64(i) || seen[string(r.Value)] {
				t.Fatalf("partition %d record %d: offset %d value %s", p, i, r.Offset, r.Value)
			}
			seen[string(r.Value)] = true
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	mustCreate(t, s, "r", 2)
	for i := 0; i < 3; i++ {
		if _, err := s.AppendBatch(ctx, "r", 1, kafkaBatch(t, 4, fmt.Sprint(i), int64(100*i)), store.AppendOptions{
			State: []store.KV{{Namespace: "producer", Key: "p1", Value: fmt.Appendf(nil, "%d", i)}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SplitShard(ctx, "r", 0, mapping.EvenSplit(4)[1].Start); err != nil {
		t.Fatal(err)
	}
	before, _ := s.DescribeStream(context.Background(), "r")
	s.Close()

	s = openStore(t, dir)
	defer s.Close()
	after, err := s.DescribeStream(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("layout changed across reopen:\n%+v\n%+v", before, after)
	}
	if got := readAll(t, s, "r", 1, 0); len(got) != 12 {
		t.Fatalf("%d records after reopen", len(got))
	}
	if v, err := s.Get(context.Background(), "producer", "p1"); err != nil || string(v) != "2" {
		t.Fatalf("state after reopen: %q %v", v, err)
	}
	res, err := s.AppendBatch(ctx, "r", 1, kafkaBatch(t, 1, "late", 0), store.AppendOptions{})
	if err != nil || res.BaseOffset != 12 {
		t.Fatalf("append after reopen: %+v %v", res, err)
	}
}

func TestOffsetForTimestamp(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustCreate(t, s, "ts", 1)
	// Batches at 1000.., 5000.., 3000.. (a producer's clock went back).
	for _, ts := range []int64{1000, 5000, 3000} {
		if _, err := s.AppendBatch(ctx, "ts", 0, kafkaBatch(t, 5, "x", ts), store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		ts, offset int64
		found      bool
	}{
		{0, 0, true}, {1000, 0, true}, {1003, 3, true}, {1005, 5, true}, {4000, 5, true},
		{5004, 9, true}, {5005, 0, false},
	} {
		off, _, found, err := s.OffsetForTimestamp(ctx, "ts", 0, tc.ts)
		if err != nil || found != tc.found || (found && off != tc.offset) {
			t.Errorf("ts %d: offset %d found %v err %v; want %d %v", tc.ts, off, found, err, tc.offset, tc.found)
		}
	}
	off, ts, found, err := s.MaxTimestamp(ctx, "ts", 0)
	if err != nil || !found || off != 9 || ts != 5004 {
		t.Fatalf("max timestamp: %d %d %v %v", off, ts, found, err)
	}
}

func TestRetentionTrims(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, err := Open(Options{InMemory: true, Now: clock, RetentionInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "r", ShardCount: 1, Retention: time.Hour}); err != nil {
		t.Fatal(err)
	}
	base := now.UnixMilli()
	for i := int64(0); i < 4; i++ {
		if _, err := s.AppendBatch(ctx, "r", 0, kafkaBatch(t, 10, "x", base+i*int64(time.Minute/time.Millisecond)), store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	now = now.Add(time.Hour + 90*time.Second) // batches 0 and 1 are past retention
	mu.Unlock()
	if err := s.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	start, hw, _ := s.Offsets(context.Background(), "r", 0)
	if start != 20 || hw != 40 {
		t.Fatalf("after retention: start %d hw %d", start, hw)
	}
	if _, err := s.Read(ctx, "r", 0, 19, store.ReadLimits{}); !errors.Is(err, store.ErrOffsetOutOfRange) {
		t.Fatalf("read below log start: %v", err)
	}
	if got := readAll(t, s, "r", 0, 20); len(got) != 20 || got[0].Offset != 20 {
		t.Fatalf("kept %d records", len(got))
	}
	mu.Lock()
	now = now.Add(24 * time.Hour)
	mu.Unlock()
	if err := s.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if start, hw, _ := s.Offsets(context.Background(), "r", 0); start != 40 || hw != 40 {
		t.Fatalf("after full retention: start %d hw %d", start, hw)
	}
	// Offsets keep going after everything was trimmed.
	if res, err := s.AppendBatch(ctx, "r", 0, kafkaBatch(t, 1, "y", now.UnixMilli()), store.AppendOptions{}); err != nil || res.BaseOffset != 40 {
		t.Fatalf("append after trim: %+v %v", res, err)
	}
}

func TestTrimBefore(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	mustCreate(t, s, "d", 1)
	for i := 0; i < 3; i++ {
		s.AppendBatch(ctx, "d", 0, kafkaBatch(t, 10, "x", 0), store.AppendOptions{})
	}
	if start, err := s.TrimBefore(ctx, "d", 0, 15); err != nil || start != 15 {
		t.Fatalf("trim to 15: %d %v", start, err)
	}
	if _, err := s.TrimBefore(ctx, "d", 0, 31); !errors.Is(err, store.ErrOffsetOutOfRange) {
		t.Fatalf("trim past high watermark: %v", err)
	}
	if got := readAll(t, s, "d", 0, 15); len(got) != 15 || got[0].Offset != 15 {
		t.Fatalf("after trim: %d records", len(got))
	}
	s.Close()
	s = openStore(t, dir)
	defer s.Close()
	if start, hw, _ := s.Offsets(context.Background(), "d", 0); start != 15 || hw != 30 {
		t.Fatalf("after reopen: %d %d", start, hw)
	}
	if start, err := s.TrimBefore(ctx, "d", 0, -1); err != nil || start != 30 {
		t.Fatalf("trim to high watermark: %d %v", start, err)
	}
}

func TestResharding(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	mustCreate(t, s, "rs", 2)
	s.AppendBatch(ctx, "rs", 0, kafkaBatch(t, 5, "a", 0), store.AppendOptions{})
	st, err := s.SplitShard(ctx, "rs", 0, mapping.EvenSplit(4)[1].Start)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Partitions) != 3 {
		t.Fatalf("%d partitions after split", len(st.Partitions))
	}
	// The old shard refuses writes; the partition carries on in the lower child.
	if _, err := s.AppendToShard(ctx, "rs", 0, []recordbatch.Record{{Key: []byte("k")}}, store.AppendOptions{}); !errors.Is(err, store.ErrShardClosed) {
		t.Fatalf("append to split shard: %v", err)
	}
	res, err := s.AppendBatch(ctx, "rs", 0, kafkaBatch(t, 5, "b", 0), store.AppendOptions{})
	if err != nil || res.BaseOffset != 5 || res.Shard.Index != 2 {
		t.Fatalf("partition 0 after split: %+v %v", res, err)
	}
	if res, err := s.AppendToShard(ctx, "rs", 3, []recordbatch.Record{{Key: []byte("k")}}, store.AppendOptions{}); err != nil || res.Shard.Partition != 2 || res.BaseOffset != 0 {
		t.Fatalf("upper child: %+v %v", res, err)
	}
	// Merging shards 3 (partition 2) and 1 (partition 1) keeps partition 1.
	if _, err := s.MergeShards(ctx, "rs", 3, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendBatch(ctx, "rs", 2, kafkaBatch(t, 1, "c", 0), store.AppendOptions{}); !errors.Is(err, store.ErrPartitionRetired) {
		t.Fatalf("append to merged-away partition: %v", err)
	}
	if got := readAll(t, s, "rs", 2, 0); len(got) != 1 {
		t.Fatalf("retired partition reads %d records", len(got))
	}
	st, err = s.UpdateShardCount(ctx, "rs", 5)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.OpenShards()); n != 5 {
		t.Fatalf("%d open shards after scaling to 5", n)
	}
	st, err = s.GrowPartitions(ctx, "rs", len(st.Partitions)+2)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, "rs", 0, 0); len(got) != 10 {
		t.Fatalf("partition 0 lost records across resharding: %d", len(got))
	}
}

func TestStateArea(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	if _, err := s.Get(context.Background(), "g", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	if err := s.Update(ctx, store.KV{Namespace: "g", Key: "a/1", Value: []byte("1")}, store.KV{Namespace: "g", Key: "a/2", Value: []byte("2")},
		store.KV{Namespace: "g", Key: "b", Value: []byte("3")}, store.KV{Namespace: "gg", Key: "a/3", Value: []byte("4")}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var vals [][]byte
	s.Scan(context.Background(), "g", "a/", func(k string, v []byte) error {
		keys = append(keys, k)
		vals = append(vals, bytes.Clone(v))
		return nil
	})
	if fmt.Sprint(keys) != "[a/1 a/2]" || string(vals[1]) != "2" {
		t.Fatalf("scan: %v %q", keys, vals)
	}
	s.Update(ctx, store.KV{Namespace: "g", Key: "a/1"})
	if _, err := s.Get(context.Background(), "g", "a/1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted key: %v", err)
	}
	if err := s.DeletePrefix(ctx, "g", "a/"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "g", "a/2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("key under a deleted prefix: %v", err)
	}
	if v, err := s.Get(context.Background(), "gg", "a/3"); err != nil || string(v) != "4" {
		t.Fatalf("other namespace touched: %q %v", v, err)
	}
}

func mustCreate(t testing.TB, s *Store, name string, shards int) {
	t.Helper()
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: name, ShardCount: shards}); err != nil {
		t.Fatal(err)
	}
}

// Pipelined appends keep call order and may be waited on in any order.
func TestStartAppendBatchKeepsOrder(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	mustCreate(t, s, "pipe", 1)
	var pending []store.Pending
	for i := 0; i < 10; i++ {
		pd, err := s.StartAppendBatch(ctx, "pipe", 0, kafkaBatch(t, 2, fmt.Sprint(i), 0), store.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, pd)
	}
	for i := len(pending) - 1; i >= 0; i-- {
		res, err := pending[i].Wait()
		if err != nil || res.BaseOffset != int64(2*i) {
			t.Fatalf("append %d: %+v %v", i, res, err)
		}
	}
	got := readAll(t, s, "pipe", 0, 0)
	for i, r := range got {
		if string(r.Key) != fmt.Sprintf("k-%d-%d", i/2, i%2) {
			t.Fatalf("record %d: %s", i, r.Key)
		}
	}
}

// Records without timestamps are kept by retention from their arrival.
func TestRetentionKeepsUntimedRecords(t *testing.T) {
	now := time.UnixMilli(50_000_000)
	s, err := Open(Options{InMemory: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "u", ShardCount: 1, Retention: time.Hour}); err != nil {
		t.Fatal(err)
	}
	raw, _ := recordbatch.Encode(nil, []recordbatch.Record{{Value: []byte("no time")}}, recordbatch.EncodeOptions{})
	if _, err := s.AppendBatch(ctx, "u", 0, raw, store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if start, _, _ := s.Offsets(context.Background(), "u", 0); start != 0 {
		t.Fatalf("untimed record trimmed at once: log start %d", start)
	}
}

func TestShardForHashKeyFollowsResharding(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustCreate(t, s, "h", 2)
	upper := mapping.EvenSplit(2)[1].Start
	if sh, err := s.ShardForHashKey(context.Background(), "h", upper); err != nil || sh.Index != 1 {
		t.Fatalf("%+v %v", sh, err)
	}
	if _, err := s.SplitShard(ctx, "h", 1, upper.Next()); err != nil {
		t.Fatal(err)
	}
	if sh, _ := s.ShardForHashKey(context.Background(), "h", upper); sh.Index != 2 {
		t.Fatalf("after split: %s", sh.ID())
	}
	if sh, _ := s.ShardForHashKey(context.Background(), "h", mapping.MaxHashKey); sh.Index != 3 {
		t.Fatalf("after split: %s", sh.ID())
	}
	if _, err := s.ShardForHashKey(context.Background(), "nope", upper); !errors.Is(err, store.ErrStreamNotFound) {
		t.Fatal(err)
	}
}

func TestRetentionBytes(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "b", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	one := len(kafkaBatch(t, 10, "0", 0))
	for i := 0; i < 10; i++ {
		if _, err := s.AppendBatch(ctx, "b", 0, kafkaBatch(t, 10, fmt.Sprint(i), 0), store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if size, _ := s.Size(context.Background(), "b", 0); size != int64(10*one) {
		t.Fatalf("size %d, want %d", size, 10*one)
	}
	// A cap of 3.5 batches keeps the newest 3.
	if _, err := s.UpdateStream(ctx, "b", func(st *store.Stream) error { st.RetentionBytes = int64(3*one + one/2); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	start, hw, _ := s.Offsets(context.Background(), "b", 0)
	size, _ := s.Size(context.Background(), "b", 0)
	if start != 70 || hw != 100 || size != int64(3*one) {
		t.Fatalf("after cap: start %d hw %d size %d", start, hw, size)
	}
	// DeleteRecords inside a batch keeps the batch and its bytes.
	if _, err := s.TrimBefore(ctx, "b", 0, 85); err != nil {
		t.Fatal(err)
	}
	if size, _ := s.Size(context.Background(), "b", 0); size != int64(2*one) {
		t.Fatalf("after trim to 85: size %d, want %d", size, 2*one)
	}
	s.Close()
	s = openStore(t, dir)
	defer s.Close()
	if size, _ := s.Size(context.Background(), "b", 0); size != int64(2*one) {
		t.Fatalf("after reopen: size %d", size)
	}
	if start, _, _ := s.Offsets(context.Background(), "b", 0); start != 85 {
		t.Fatalf("after reopen: start %d", start)
	}
}

// Sequential reads are answered by read-ahead, with the same bytes, and a
// trim or a different ask falls back to reading.
func TestReadAhead(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), TailCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustCreate(t, s, "ra", 1)
	for i := 0; i < 20; i++ {
		if _, err := s.AppendBatch(ctx, "ra", 0, kafkaBatch(t, 5, fmt.Sprint(i), 0), store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var off int64
	for off < 50 {
		res, err := s.Read(ctx, "ra", 0, off, store.ReadLimits{MaxBytes: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, recs, _ := recordbatch.Decode(res.Batches[0].Raw)
		if len(res.Batches) != 1 || recs[0].Offset != off || string(recs[0].Key) != fmt.Sprintf("k-%d-0", off/5) || res.HighWatermark != 100 {
			t.Fatalf("read at %d: %d batches, first %+v, hw %d", off, len(res.Batches), recs[0], res.HighWatermark)
		}
		off = res.Batches[0].LastOffset + 1
	}
	if hits := s.readAheadHits.Load(); hits < 8 {
		t.Fatalf("only %d of 9 sequential reads came from read-ahead", hits)
	}
	// A trim past the prefetched piece: the read must fail, not serve it.
	if _, err := s.TrimBefore(ctx, "ra", 0, 60); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(ctx, "ra", 0, 50, store.ReadLimits{MaxBytes: 1}); !errors.Is(err, store.ErrOffsetOutOfRange) {
		t.Fatalf("read below the trimmed start: %v", err)
	}
	res, err := s.Read(ctx, "ra", 0, 60, store.ReadLimits{})
	if err != nil || res.Batches[0].BaseOffset != 60 || res.Batches[len(res.Batches)-1].LastOffset != 99 {
		t.Fatalf("read after trim: %+v %v", res.Batches, err)
	}
}

// Reads at the tail come from the cache with the bytes pebble holds; past a
// partition's share of the budget the oldest batches are read from pebble.
func TestTailCache(t *testing.T) {
	dir := t.TempDir()
	one := len(kafkaBatch(t, 5, "0", 0))
	s, err := Open(Options{Dir: dir, TailCacheBytes: int64(2 * 4 * one)}) // 4 batches per partition
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "tc", 2)
	for i := 0; i < 10; i++ {
		if _, err := s.AppendBatch(ctx, "tc", 0, kafkaBatch(t, 5, fmt.Sprint(i), 0), store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cached := readAll(t, s, "tc", 0, 30) // batches 6-9
	if s.tailHits.Load() == 0 {
		t.Fatal("no read came from the tail cache")
	}
	hits := s.tailHits.Load()
	old := readAll(t, s, "tc", 0, 0)
	if s.tailHits.Load() == hits {
		t.Log("old batches were served from the cache too: share not enforced?")
	}
	if _, err := s.TrimBefore(ctx, "tc", 0, 40); err != nil {
		t.Fatal(err)
	}
	afterTrim := readAll(t, s, "tc", 0, 40)
	s.Close()

	s, err = Open(Options{Dir: dir, TailCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fromPebble := readAll(t, s, "tc", 0, 40)
	if fmt.Sprint(afterTrim) != fmt.Sprint(fromPebble) || len(fromPebble) != 10 {
		t.Fatalf("cache and pebble disagree after trim: %d vs %d records", len(afterTrim), len(fromPebble))
	}
	if len(cached) != 20 || len(old) != 50 || fmt.Sprint(cached) != fmt.Sprint(old[30:]) {
		t.Fatalf("cached read %d records, full read %d", len(cached), len(old))
	}
}

// Started updates apply in call order, may be waited on in any order, and
// are durable once waited on.
func TestStartUpdateKeepsOrder(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	var pending []store.PendingUpdate
	for i := range 10 {
		pu, err := s.StartUpdate(ctx, store.KV{Namespace: "o", Key: "k", Value: []byte(fmt.Sprint(i))},
			store.KV{Namespace: "o", Key: fmt.Sprint("k", i), Value: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, pu)
	}
	for i := len(pending) - 1; i >= 0; i-- {
		if err := pending[i].Wait(); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	if v, err := s.Get(ctx, "o", "k"); err != nil || string(v) != "9" {
		t.Fatalf("after reopening: %q %v, want the last update's 9", v, err)
	}
	if _, err := s.Get(ctx, "o", "k0"); err != nil {
		t.Fatalf("after reopening: the first update's key: %v", err)
	}
}
