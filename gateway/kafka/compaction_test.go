package kafka

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/store/embedded"
)

// The proof, driven by franz-go as a config or offset store uses a
// compacted topic (Kafka Connect's config and offset topics, Schema
// Registry's _schemas): many keys rewritten over and over, some deleted by
// tombstones, and a reader that rebuilds the map from the start. The
// partition shrinks to about one record per live key, offsets stay as
// written (with gaps), and the reader's map is exactly the writer's.
func TestCompactedTopicAsConfigStore(t *testing.T) {
	// The passes are the test's own (st.Compact): a background pass
	// during the writes would shrink the "written" size it compares with.
	st, err := embedded.Open(embedded.Options{InMemory: true, CompactionInterval: time.Hour, CompactionBytesPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServerOn(t, st)
	ctx := testContext(t)
	cl := ts.client(t, kgo.DefaultProduceTopic("configs"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	str := func(s string) *string { return &s }
	if r, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{
		"cleanup.policy":            str("compact"),
		"min.cleanable.dirty.ratio": str("0.01"),
		"delete.retention.ms":       str("0"),
	}, "configs"); err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "configs")
	if err != nil {
		t.Fatal(err)
	}
	cs := map[string]kadm.Config{}
	rc, _ := rcs.On("configs", nil)
	for _, c := range rc.Configs {
		cs[c.Key] = c
	}
	wantConfig(t, cs, "cleanup.policy", "compact", srcTopic)
	wantConfig(t, cs, "delete.retention.ms", "0", srcTopic)
	wantConfig(t, cs, "min.cleanable.dirty.ratio", "0.01", srcTopic)
	wantConfig(t, cs, "min.compaction.lag.ms", "0", srcDefault)
	wantConfig(t, cs, "max.compaction.lag.ms", "9223372036854775807", srcDefault)

	// A record without a key is refused, as Kafka refuses it.
	err = cl.ProduceSync(ctx, &kgo.Record{Value: []byte("no key")}).FirstErr()
	if !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("keyless record: %v, want INVALID_RECORD", err)
	}

	const keys, rounds = 50, 20
	want := map[string]string{}
	atOffset := map[int64]string{}
	produce := func(recs ...*kgo.Record) {
		t.Helper()
		res := cl.ProduceSync(ctx, recs...)
		if err := res.FirstErr(); err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			atOffset[r.Record.Offset] = string(r.Record.Value)
			if r.Record.Value == nil {
				delete(want, string(r.Record.Key))
			} else {
				want[string(r.Record.Key)] = string(r.Record.Value)
			}
		}
	}
	for round := range rounds {
		recs := make([]*kgo.Record, keys)
		for k := range recs {
			recs[k] = &kgo.Record{Key: fmt.Appendf(nil, "connector-%d", k), Value: fmt.Appendf(nil, `{"round":%d}`, round)}
		}
		produce(recs...)
	}
	var tombstones []*kgo.Record
	for k := range 5 {
		tombstones = append(tombstones, &kgo.Record{Key: fmt.Appendf(nil, "connector-%d", k)})
	}
	produce(tombstones...)
	full, _ := st.Size(ctx, "configs", 0)
	// Two more writes: the first pass after each keeps the tombstones
	// (and starts their delete.retention.ms of 0), the next drops them.
	for i := range 2 {
		if err := st.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		produce(&kgo.Record{Key: []byte("status"), Value: fmt.Appendf(nil, "%d", i)})
	}
	if err := st.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	compacted, _ := st.Size(ctx, "configs", 0)
	t.Logf("partition size: %d bytes written, %d after compaction", full, compacted)
	if compacted*5 > full {
		t.Errorf("partition holds %d bytes after compaction, of %d", compacted, full)
	}

	// Offsets stay as written: the log still starts at 0 and ends where
	// the writes did.
	starts, err := adm.ListStartOffsets(ctx, "configs")
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, "configs")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := starts.Lookup("configs", 0); s.Offset != 0 {
		t.Errorf("log start %d, want 0", s.Offset)
	}
	if e, _ := ends.Lookup("configs", 0); e.Offset != int64(len(atOffset)) {
		t.Errorf("log end %d, want %d", e.Offset, len(atOffset))
	}

	// A reader from the start rebuilds the map; every record is the one
	// written at its offset.
	reader := ts.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"configs": {0: kgo.NewOffset().AtStart()}}))
	got := map[string]string{}
	n, prev := 0, int64(-1)
	end := int64(len(atOffset))
	for prev < end-1 {
		fs := reader.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read up to offset %d of %d", prev, end)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
		for _, r := range fs.Records() {
			if r.Offset <= prev || atOffset[r.Offset] != string(r.Value) {
				t.Fatalf("offset %d (after %d): %q, written %q", r.Offset, prev, r.Value, atOffset[r.Offset])
			}
			prev = r.Offset
			n++
			if r.Value == nil {
				delete(got, string(r.Key))
			} else {
				got[string(r.Key)] = string(r.Value)
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rebuilt map:\n%v\nwant\n%v", got, want)
	}
	// The live keys, and "status" twice (the newest batch is never cleaned).
	if n != keys-5+2 {
		t.Errorf("read %d records, want %d", n, keys-5+2)
	}

	// A fetch at a removed offset starts at the next record.
	mid := ts.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"configs": {0: kgo.NewOffset().At(1)}}))
	fs := mid.PollFetches(ctx)
	fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
	if recs := fs.Records(); len(recs) == 0 || recs[0].Offset <= 1 {
		t.Errorf("fetch at a removed offset: %d records, first %v", len(recs), recs)
	}

	// Records of a topic compacted without delete are not deleted by offset.
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "configs", Partition: 0, At: 10})
	drs, err := adm.DeleteRecords(ctx, os)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := drs.Lookup("configs", 0); r.Err != kerr.PolicyViolation {
		t.Errorf("DeleteRecords on a compacted topic: %v, want POLICY_VIOLATION", r.Err)
	}

	// Back to delete: compaction stops, DeleteRecords works.
	if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "cleanup.policy", Value: str("compact,delete")}}, "configs"); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.DescribeStream(ctx, "configs"); !d.Compaction.Enabled || !d.Compaction.Delete || d.Compaction.MinDirtyRatio != 0.01 {
		t.Errorf("compact,delete: store policy %+v", d.Compaction)
	}
	if drs, err = adm.DeleteRecords(ctx, os); err != nil {
		t.Fatal(err)
	}
	if r, _ := drs.Lookup("configs", 0); r.Err != nil || r.LowWatermark != 10 {
		t.Errorf("DeleteRecords on compact,delete: %+v", r)
	}
}
