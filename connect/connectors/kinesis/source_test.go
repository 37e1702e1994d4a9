package kinesis

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/connect"
	gwkinesis "github.com/streambridge/bridge/gateway/kinesis"
)

// TestSourceCopiesEveryRecord reads a 4-shard stream with two tasks and
// compares the Connect records with what GetRecords returns, record for
// record per shard, on the bridge and on kinesalite.
//
// The source reads in CBOR by default and in JSON with kinesis.cbor=false;
// the records are compared with what the SDK reads in JSON.
func TestSourceCopiesEveryRecord(t *testing.T) {
	for _, kind := range targetKinds {
		for _, cbor := range []string{"true", "false"} {
			t.Run(kind.name+"/cbor="+cbor, func(t *testing.T) { testSourceCopiesEveryRecord(t, kind, cbor) })
		}
	}
}

func testSourceCopiesEveryRecord(t *testing.T, kind targetKind, cbor string) {
	tg := kind.start(t)
	tg.createStream(t, "src", 4)
	tg.put(t, "src", entries("rec", 300, 37))
	want := tg.readAll(t, "src")

	run := startSource(t, tg.config(connect.Config{StreamConfig: "src", TopicConfig: "out", CBORConfig: cbor,
		RecordsLimitConfig: "25", HeadersConfig: "true", KafkaPartitionConfig: "preserve"}), 2, nil)
	if len(run.tasks) != 2 {
		t.Fatalf("%d tasks, want 2", len(run.tasks))
	}
	got := byShard(run.pollUntil(300))
	if len(run.got) != 300 {
		t.Fatalf("%d records, want 300", len(run.got))
	}
	checkShards(t, got, want)
}

// checkShards compares the source records of every shard, in order, with
// the Kinesis records they copy.
func checkShards(t *testing.T, got map[string][]connect.Record, want map[string][]types.Record) {
	t.Helper()
	for _, id := range keysOf(want) {
		w, g := want[id], got[id]
		if len(w) != len(g) {
			t.Fatalf("shard %s: %d records, want %d", id, len(g), len(w))
		}
		for i := range w {
			checkRecord(t, g[i], w[i], id)
		}
	}
}

// checkRecord compares a source record with the Kinesis record it copies.
func checkRecord(t *testing.T, g connect.Record, w types.Record, shard string) {
	t.Helper()
	seq := aws.ToString(w.SequenceNumber)
	idx, _ := shardIndex(shard)
	switch {
	case g.Key != aws.ToString(w.PartitionKey) || !bytes.Equal(g.Value.([]byte), w.Data):
		t.Errorf("shard %s seq %s: got %v=%q, want %s=%q", shard, seq, g.Key, g.Value, aws.ToString(w.PartitionKey), w.Data)
	case g.SourceOffset != nil:
		t.Errorf("shard %s seq %s: an offset map per record (%v), not a connect.LazyOffset handle", shard, seq, g.SourceOffset)
	case connect.OffsetOf(g)["sequence"] != seq:
		t.Errorf("shard %s: offset %v, want sequence %s", shard, connect.OffsetOf(g), seq)
	case !g.Timestamp.Equal(aws.ToTime(w.ApproximateArrivalTimestamp)):
		t.Errorf("shard %s seq %s: timestamp %v, want %v", shard, seq, g.Timestamp, w.ApproximateArrivalTimestamp)
	case g.Topic != "out" || g.Partition != idx || g.Offset != -1:
		t.Errorf("shard %s seq %s: topic %s partition %d offset %d", shard, seq, g.Topic, g.Partition, g.Offset)
	case g.KeySchema.Type != connect.TypeString || g.ValueSchema.Type != connect.TypeBytes || !g.ValueSchema.Optional:
		t.Errorf("schemas %+v %+v", g.KeySchema, g.ValueSchema)
	}
	if h, _ := g.Header("kinesis.sequence"); string(h) != seq {
		t.Errorf("kinesis.sequence header %q, want %s", h, seq)
	}
	if h, _ := g.Header("kinesis.shard"); string(h) != shard {
		t.Errorf("kinesis.shard header %q, want %s", h, shard)
	}
	if g.SourcePartition["stream"] != "src" || g.SourcePartition["shard"] != shard {
		t.Errorf("source partition %v", g.SourcePartition)
	}
}

// TestSourceSameOnBothEndpoints puts the same records to the bridge and to
// kinesalite and compares what the source makes of them.
func TestSourceSameOnBothEndpoints(t *testing.T) {
	var runs [][]connect.Record
	for _, kind := range targetKinds {
		tg := kind.start(t)
		tg.createStream(t, "same", 3)
		tg.put(t, "same", entries("same", 200, 50))
		run := startSource(t, tg.config(connect.Config{StreamConfig: "same", TopicConfig: "out"}), 1, nil)
		runs = append(runs, run.pollUntil(200))
	}
	a, b := byShard(runs[0]), byShard(runs[1])
	for _, id := range keysOf(a) {
		if len(a[id]) != len(b[id]) {
			t.Fatalf("shard %s: bridge %d records, kinesalite %d", id, len(a[id]), len(b[id]))
		}
		for i := range a[id] {
			x, y := a[id][i], b[id][i]
			if x.Key != y.Key || !bytes.Equal(x.Value.([]byte), y.Value.([]byte)) || x.Partition != y.Partition {
				t.Errorf("shard %s record %d: bridge %v=%q, kinesalite %v=%q", id, i, x.Key, x.Value, y.Key, y.Value)
			}
		}
	}
}

// TestSourceRestartMidShard stops the task after part of a shard was
// committed and more was handed out but not committed: the new task
// resumes after the last committed record, so only the uncommitted ones
// come again.
func TestSourceRestartMidShard(t *testing.T) {
	for _, kind := range targetKinds {
		t.Run(kind.name, func(t *testing.T) {
			tg := kind.start(t)
			tg.createStream(t, "restart", 1)
			tg.put(t, "restart", entries("r", 100, 7))
			cfg := tg.config(connect.Config{StreamConfig: "restart", TopicConfig: "out", RecordsLimitConfig: "30"})
			run := startSource(t, cfg, 1, nil)
			run.pollUntil(30) // 30 committed
			run.hold = true
			run.pollUntil(60) // 30 more handed out, not committed
			run.held = nil    // lost in the crash
			run.hold = false
			run.restart()
			run.got = run.got[:30]
			got := run.pollUntil(100)
			if len(got) != 100 {
				t.Fatalf("%d records after the restart, want 100", len(got))
			}
			for i, r := range got {
				if want := fmt.Sprintf("r-%05d", i); string(r.Value.([]byte)) != want {
					t.Fatalf("record %d is %q, want %q", i, r.Value, want)
				}
			}
		})
	}
}

// TestSourcePositions: LATEST skips what was there, AT_TIMESTAMP starts
// at the first record at or after the time.
func TestSourcePositions(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "pos", 1)
	tg.put(t, "pos", entries("old", 10, 3))
	time.Sleep(5 * time.Millisecond) // the next records arrive in a later millisecond
	tg.put(t, "pos", entries("mid", 5, 3))
	mid := tg.readAll(t, "pos")["shardId-000000000000"][10]

	latest := startSource(t, tg.config(connect.Config{StreamConfig: "pos", TopicConfig: "out", PositionConfig: "LATEST"}), 1, nil)
	latest.pollOnce() // takes its iterator at the end
	tg.put(t, "pos", entries("new", 5, 3))
	got := latest.pollUntil(5)
	if len(got) != 5 || string(got[0].Value.([]byte)) != "new-00000" {
		t.Fatalf("LATEST read %d records, first %q", len(got), got[0].Value)
	}

	at := aws.ToTime(mid.ApproximateArrivalTimestamp)
	for _, ts := range []string{fmt.Sprint(at.UnixMilli()), at.UTC().Format(time.RFC3339Nano)} {
		run := startSource(t, tg.config(connect.Config{StreamConfig: "pos", TopicConfig: "out", PositionConfig: "AT_TIMESTAMP",
			PositionTimeConfig: ts}), 1, nil)
		got = run.pollUntil(10)
		if len(got) != 10 || string(got[0].Value.([]byte)) != "mid-00000" {
			t.Fatalf("AT_TIMESTAMP %s: %d records from %q, want 10 from mid-00000", ts, len(got), got[0].Value)
		}
	}
}

// TestSourceRenewsExpiredIterator moves the bridge's clock past the
// iterator's five minutes in the middle of a shard: the task takes a new
// iterator after its last record and goes on without a gap or a repeat.
func TestSourceRenewsExpiredIterator(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "expire", 1)
	tg.put(t, "expire", entries("e", 20, 4))
	tg.clock.freeze()
	run := startSource(t, tg.config(connect.Config{StreamConfig: "expire", TopicConfig: "out", RecordsLimitConfig: "5"}), 1, nil)
	run.pollUntil(5)
	tg.clock.add(6 * time.Minute)
	checkSequence(t, run.pollUntil(20), "e", 20)
}

// TestSourceBacksOffWhenThrottled reads with the bridge's throughput
// emulation on a frozen clock: after five GetRecords calls the shard
// answers ProvisionedThroughputExceededException until the clock moves.
// The task backs off instead of failing, then reads on.
func TestSourceBacksOffWhenThrottled(t *testing.T) {
	tg := startBridge(t, func(c *gwkinesis.Config) { c.EnforceLimits = true })
	tg.createStream(t, "slow", 1)
	tg.put(t, "slow", entries("s", 10, 4))
	tg.clock.freeze()
	run := startSource(t, tg.config(connect.Config{StreamConfig: "slow", TopicConfig: "out", RecordsLimitConfig: "1", PollIntervalConfig: "0"}), 1, nil)
	run.pollUntil(5)
	// The sixth call is refused (after the SDK's own retries, which can
	// outlast a Poll): no record comes, and the shard backs off.
	for polls := 1; run.tasks[0].shards[0].backoff == 0; polls++ {
		if n := run.pollOnce(); n != 0 {
			t.Fatalf("%d records read past the shard's five calls a second", n)
		}
		if polls == 10 {
			t.Fatal("the throttled shard is not backing off")
		}
	}
	tg.clock.add(time2s)
	checkSequence(t, run.pollUntil(10), "s", 10)
}

// checkSequence checks that recs are prefix-00000 ... in order, n of them.
func checkSequence(t *testing.T, recs []connect.Record, prefix string, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		if want := fmt.Sprintf("%s-%05d", prefix, i); string(r.Value.([]byte)) != want {
			t.Fatalf("record %d is %q, want %q", i, r.Value, want)
		}
	}
}
