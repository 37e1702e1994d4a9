package embedded

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// offloadTo puts a payload object under the offload prefix and returns its
// reference as the record at delta.
func offloadTo(t *testing.T, s *Store, bucket string, delta int32, name string) store.ObjectRef {
	t.Helper()
	key := store.OffloadPrefix + name
	putBytes(t, s, bucket, key, []byte("payload of "+name), store.PutOptions{})
	return store.ObjectRef{OffsetDelta: delta, Bucket: bucket, Key: key}
}

// present reports which of keys exist in bucket.
func present(t *testing.T, s *Store, bucket string, keys ...string) []bool {
	t.Helper()
	out := make([]bool, len(keys))
	for i, k := range keys {
		_, err := s.HeadObject(ctx, bucket, store.OffloadPrefix+k)
		switch {
		case err == nil:
			out[i] = true
		case !errors.Is(err, store.ErrObjectNotFound):
			t.Fatal(err)
		}
	}
	return out
}

func kafkaRecords(n int) []recordbatch.Record {
	recs := make([]recordbatch.Record, n)
	for i := range recs {
		recs[i] = recordbatch.Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)}
	}
	return recs
}

func TestOffloadedObjectsFollowTheirRecords(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	mustBucket(t, s, "payloads")
	mustCreate(t, s, "t", 2)
	// Batches of 10 records at offsets 0, 10, 20 of partition 0; records
	// 3, 12 and 25 offloaded. Partition 1 holds one more.
	refs := map[int64]string{3: "a", 12: "b", 25: "c"}
	for base := int64(0); base < 30; base += 10 {
		var opts store.AppendOptions
		for off, name := range refs {
			if off >= base && off < base+10 {
				opts.Objects = append(opts.Objects, offloadTo(t, s, "payloads", int32(off-base), name))
			}
		}
		if _, err := s.AppendBatch(ctx, "t", 0, kafkaBatch(t, 10, "x", 0), opts); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AppendBatch(ctx, "t", 1, kafkaBatch(t, 1, "y", 0), store.AppendOptions{
		Objects: []store.ObjectRef{offloadTo(t, s, "payloads", 0, "d")},
	}); err != nil {
		t.Fatal(err)
	}
	// A payload written by a front end whose append never happened, and a
	// user's object outside the prefix.
	putBytes(t, s, "payloads", store.OffloadPrefix+"orphan", []byte("lost"), store.PutOptions{})
	putBytes(t, s, "payloads", "users-own", []byte("mine"), store.PutOptions{})

	// While running, the sweeper leaves young objects alone.
	if n, err := s.sweepOffloaded(ctx, time.Now().Add(-offloadGrace)); err != nil || n != 0 {
		t.Fatalf("sweep of young objects: %d deleted, %v", n, err)
	}
	// DeleteRecords below 13 takes a and b (the batch at 10 straddles the
	// new start and stays, its record 12 unreadable); c stays.
	if _, err := s.TrimBefore(ctx, "t", 0, 13); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(present(t, s, "payloads", "a", "b", "c", "d", "orphan")); got != "[false false true true true]" {
		t.Fatalf("after TrimBefore(13): a b c d orphan present = %s", got)
	}

	// A restart sweeps the orphan, and only it.
	s.Close()
	s = openStore(t, dir)
	defer s.Close()
	if got := fmt.Sprint(present(t, s, "payloads", "c", "d", "orphan")); got != "[true true false]" {
		t.Fatalf("after reopen: c d orphan present = %s", got)
	}
	if _, err := s.HeadObject(ctx, "payloads", "users-own"); err != nil {
		t.Fatalf("the sweeper touched an object outside the offload prefix: %v", err)
	}
	// References survive the restart: trimming the rest still deletes c.
	if _, err := s.TrimBefore(ctx, "t", 0, -1); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(present(t, s, "payloads", "c", "d")); got != "[false true]" {
		t.Fatalf("after trimming partition 0: c d present = %s", got)
	}
	// Deleting the stream deletes the rest.
	if err := s.DeleteStream(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(present(t, s, "payloads", "d")); got != "[false]" {
		t.Fatalf("after DeleteStream: d present = %s", got)
	}
}

func TestOffloadedObjectsLeaveWithRetention(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	s, err := Open(Options{InMemory: true, Now: func() time.Time { return now }, RetentionInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustBucket(t, s, "payloads")
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "r", ShardCount: 1, Retention: time.Hour}); err != nil {
		t.Fatal(err)
	}
	old := offloadTo(t, s, "payloads", 0, "old")
	if _, err := s.AppendBatch(ctx, "r", 0, kafkaBatch(t, 1, "o", now.UnixMilli()), store.AppendOptions{Objects: []store.ObjectRef{old}}); err != nil {
		t.Fatal(err)
	}
	// Kinesis-style appends reference records by index.
	if _, err := s.AppendToShard(ctx, "r", 0, kafkaRecords(2), store.AppendOptions{
		Objects: []store.ObjectRef{offloadTo(t, s, "payloads", 1, "new")},
	}); err != nil {
		t.Fatal(err)
	}
	// Ninety minutes on, one more record arrives; retention (an hour)
	// takes the first two batches and their payloads.
	now = now.Add(90 * time.Minute)
	if _, err := s.AppendToShard(ctx, "r", 0, kafkaRecords(1), store.AppendOptions{
		Objects: []store.ObjectRef{offloadTo(t, s, "payloads", 0, "newest")},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(present(t, s, "payloads", "old", "new", "newest")); got != "[false false true]" {
		t.Fatalf("after retention: old new newest present = %s", got)
	}
}
