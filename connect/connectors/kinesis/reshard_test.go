package kinesis

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
)

// midHashKey is 2^127, the middle of the hash key space.
const midHashKey = "170141183460469231731687303715884105728"

func split(t *testing.T, tg *target, stream, shard string) { splitAt(t, tg, stream, shard, midHashKey) }

func splitAt(t *testing.T, tg *target, stream, shard, at string) {
	t.Helper()
	if _, err := tg.client.SplitShard(t.Context(), &awskinesis.SplitShardInput{StreamName: aws.String(stream),
		ShardToSplit: aws.String(shard), NewStartingHashKey: aws.String(at)}); err != nil {
		t.Fatal(err)
	}
	tg.waitActive(t, stream)
}

func merge(t *testing.T, tg *target, stream, shard, adjacent string) {
	t.Helper()
	if _, err := tg.client.MergeShards(t.Context(), &awskinesis.MergeShardsInput{StreamName: aws.String(stream),
		ShardToMerge: aws.String(shard), AdjacentShardToMerge: aws.String(adjacent)}); err != nil {
		t.Fatal(err)
	}
	tg.waitActive(t, stream)
}

// TestSourceFollowsResharding splits the stream's shard while the task is
// in the middle of it, then merges the two children while it is in the
// middle of them: every record arrives once, and no record of a child
// before the last record of its parents.
func TestSourceFollowsResharding(t *testing.T) {
	for _, kind := range targetKinds {
		t.Run(kind.name, func(t *testing.T) {
			tg := kind.start(t)
			tg.createStream(t, "rs", 1)
			tg.put(t, "rs", entries("parent", 60, 60))
			run := startSource(t, tg.config(connect.Config{StreamConfig: "rs", TopicConfig: "out", RecordsLimitConfig: "10"}), 2, nil)
			run.pollUntil(20) // in the middle of shard 0

			split(t, tg, "rs", "shardId-000000000000")
			tg.put(t, "rs", entries("child", 100, 100))
			run.pollUntil(100) // in the middle of the children

			merge(t, tg, "rs", "shardId-000000000001", "shardId-000000000002")
			tg.put(t, "rs", entries("merged", 40, 40))
			got := run.pollUntil(200)
			checkOnceParentsFirst(t, tg, "rs", got, 200)
		})
	}
}

// checkOnceParentsFirst checks that recs hold want distinct records, that
// each shard's records came in sequence order and that every record of a
// child came after every record of its parents.
func checkOnceParentsFirst(t *testing.T, tg *target, stream string, recs []connect.Record, want int) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range recs {
		v := string(r.Value.([]byte))
		if seen[v] {
			t.Errorf("record %s delivered twice", v)
		}
		seen[v] = true
	}
	if len(seen) != want {
		t.Errorf("%d distinct records, want %d", len(seen), want)
	}
	shards, err := listShards(t.Context(), tg.client, stream)
	if err != nil {
		t.Fatal(err)
	}
	last, first := map[string]int{}, map[string]int{}
	prevSeq := map[string]string{}
	for i, r := range recs {
		id := r.SourcePartition["shard"].(string)
		if _, ok := first[id]; !ok {
			first[id] = i
		}
		last[id] = i
		seq := connect.OffsetOf(r)["sequence"].(string)
		if p := prevSeq[id]; p != "" && (len(seq) < len(p) || len(seq) == len(p) && seq < p) {
			t.Errorf("shard %s: sequence %s after %s", id, seq, p)
		}
		prevSeq[id] = seq
	}
	for _, s := range shards {
		c, ok := first[s.ID]
		if !ok {
			continue
		}
		for _, p := range s.parents() {
			if l, ok := last[p]; ok && l > c {
				t.Errorf("child %s's first record (#%d) came before parent %s's last (#%d)", s.ID, c, p, l)
			}
		}
	}
	var order []string
	for id, rs := range byShard(recs) {
		order = append(order, fmt.Sprintf("%s:%d", id, len(rs)))
	}
	slices.Sort(order)
	t.Logf("records per shard: %s", strings.Join(order, " "))
}

// TestSourceChildWaitsForParentCommit: the task holds the parent and its
// children; it hands out the parent's records but reads the children only
// once Kafka acknowledged every one of them.
func TestSourceChildWaitsForParentCommit(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "wait", 1)
	tg.put(t, "wait", entries("parent", 10, 10))
	split(t, tg, "wait", "shardId-000000000000")
	tg.put(t, "wait", entries("child", 10, 10))

	run := startSource(t, tg.config(connect.Config{StreamConfig: "wait", TopicConfig: "out"}), 1, nil)
	run.hold = true
	run.pollUntil(10)
	for range 3 {
		if n := run.pollOnce(); n != 0 {
			t.Fatalf("%d child records handed out before the parent's were committed", n)
		}
	}
	// One record still unacknowledged holds the children back.
	run.held = run.held[:len(run.held)-1]
	last := run.got[len(run.got)-1]
	run.commit()
	if n := run.pollOnce(); n != 0 {
		t.Fatalf("%d child records before the parent's last record was committed", n)
	}
	if connect.OffsetOf(last)["closed"] != true {
		t.Errorf("the parent's last record's offset %v does not say closed", connect.OffsetOf(last))
	}
	run.held = []heldRecord{{run.tasks[0], last}}
	run.commit()
	run.hold = false
	got := run.pollUntil(20)
	checkOnceParentsFirst(t, tg, "wait", got, 20)

	// A restart finds the parent closed in its stored offset.
	run.restart()
	if s := run.tasks[0].byID["shardId-000000000000"]; !s.ended {
		t.Error("after a restart the parent is read again despite its closed offset")
	}
}

// TestSourcePositionsAfterResharding: a stream resharded before the
// connector started. LATEST reads neither the closed parent nor what its
// children held, only what is put from then on; AT_TIMESTAMP reads the
// children from the time, not from their start.
func TestSourcePositionsAfterResharding(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "old", 1)
	tg.put(t, "old", entries("parent", 10, 10))
	split(t, tg, "old", "shardId-000000000000")
	tg.put(t, "old", entries("child", 10, 10))
	time.Sleep(5 * time.Millisecond) // the next records arrive in a later millisecond
	tg.put(t, "old", entries("later", 10, 10))

	latest := startSource(t, tg.config(connect.Config{StreamConfig: "old", TopicConfig: "out", PositionConfig: "LATEST"}), 1, nil)
	latest.pollOnce() // takes the iterators
	tg.put(t, "old", entries("new", 6, 6))
	got := latest.pollUntil(6)
	for _, r := range got {
		if v := string(r.Value.([]byte)); !strings.HasPrefix(v, "new-") {
			t.Errorf("LATEST read %s", v)
		}
	}
	if len(got) != 6 {
		t.Errorf("LATEST read %d records, want 6", len(got))
	}

	// The earliest arrival among the "later" records: one PutRecords call
	// appends to each shard in turn, and on a busy machine the shards'
	// appends can fall in different milliseconds.
	var at time.Time
	for _, recs := range tg.readAll(t, "old") {
		for _, r := range recs {
			if arrived := aws.ToTime(r.ApproximateArrivalTimestamp); strings.HasPrefix(string(r.Data), "later-") && (at.IsZero() || arrived.Before(at)) {
				at = arrived
			}
		}
	}
	run := startSource(t, tg.config(connect.Config{StreamConfig: "old", TopicConfig: "out", PositionConfig: "AT_TIMESTAMP",
		PositionTimeConfig: fmt.Sprint(at.UnixMilli())}), 1, nil)
	got = run.pollUntil(16)
	for _, r := range got {
		if v := string(r.Value.([]byte)); !strings.HasPrefix(v, "later-") && !strings.HasPrefix(v, "new-") {
			t.Errorf("AT_TIMESTAMP read %s", v)
		}
	}
	checkOnceParentsFirst(t, tg, "old", got, 16)
}

// TestSourceExpiredParent: a closed parent that Kinesis no longer has
// (past retention between listing and reading) counts as read; its child
// is read. An open shard that is missing fails the task.
func TestSourceExpiredParent(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "gone", 1)
	tg.put(t, "gone", entries("rec", 5, 5))
	shards := []shardInfo{{ID: "shardId-000000000007", Closed: true}, {ID: "shardId-000000000000", Parent: "shardId-000000000007"}}
	cfg := tg.config(connect.Config{StreamConfig: "gone", TopicConfig: "out", shardsConfig: encodeShards(shards)})
	task := &SourceTask{}
	if err := task.Start(t.Context(), &connecttest.SourceContext{}, cfg); err != nil {
		t.Fatal(err)
	}
	defer task.Stop()
	var got []connect.Record
	for len(got) < 5 {
		recs, err := task.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := task.CommitRecord(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		got = append(got, recs...)
	}
	checkSequence(t, got, "rec", 5)

	cfg[shardsConfig] = encodeShards([]shardInfo{{ID: "shardId-000000000007"}})
	open := &SourceTask{}
	if err := open.Start(t.Context(), &connecttest.SourceContext{}, cfg); err != nil {
		t.Fatal(err)
	}
	defer open.Stop()
	if _, err := open.Poll(t.Context()); err == nil || errorCode(err) != codeNotFound {
		t.Fatalf("Poll of a missing open shard: %v", err)
	}
}

// TestSourceReshardingAcrossTasks: two tasks on a two-shard stream; one
// shard splits while both are read. The new lineage goes to one task, the
// untouched shard stays with another, and every record arrives once,
// parents first.
func TestSourceReshardingAcrossTasks(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "two", 2)
	tg.put(t, "two", entries("before", 100, 100))
	run := startSource(t, tg.config(connect.Config{StreamConfig: "two", TopicConfig: "out", RecordsLimitConfig: "10"}), 2, nil)
	if len(run.tasks) != 2 {
		t.Fatalf("%d tasks, want 2", len(run.tasks))
	}
	run.pollUntil(30)
	splitAt(t, tg, "two", "shardId-000000000001", "255211775190703847597530955573826158592") // 3 * 2^126
	tg.put(t, "two", entries("after", 100, 100))
	got := run.pollUntil(200)
	checkOnceParentsFirst(t, tg, "two", got, 200)
	var lineages []string
	for _, task := range run.tasks {
		var ids []string
		for _, s := range task.shards {
			ids = append(ids, s.info.ID[len(s.info.ID)-1:])
		}
		lineages = append(lineages, strings.Join(ids, ""))
	}
	slices.Sort(lineages)
	if want := []string{"0", "123"}; !slices.Equal(lineages, want) {
		t.Errorf("tasks hold shards %v, want %v", lineages, want)
	}
}
