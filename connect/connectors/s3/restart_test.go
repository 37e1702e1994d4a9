package s3

import (
	"maps"
	"slices"
	"testing"

	"github.com/streambridge/bridge/connect"
)

// TestCrashRestartWritesSameObjects runs the same records through a task
// that never crashes and through one that dies mid-stream (after uploads
// whose offsets were never committed, and with the newest rotation only
// partly uploaded), followed by a new task that Opens the partition, rewinds
// where it says and gets the records again from there, with a few from
// before the rewind as a runtime would redeliver them. Both buckets must
// hold the same names with the same bytes: no object is written twice
// under another name, so no record is in two objects.
func TestCrashRestartWritesSameObjects(t *testing.T) {
	const total = 23
	for _, tc := range []struct {
		name string
		cfg  []string
		// crashAfter is how many records the first task gets.
		crashAfter int64
		// lose deletes the newest object after the crash, as if the
		// task died before uploading it.
		lose bool
	}{
		{"default", []string{FlushSize, "3"}, 14, false},
		{"default partial", []string{FlushSize, "3"}, 14, true},
		{"field", []string{Partitioner, "field", PartitionFieldName, "region", FlushSize, "4"}, 15, false},
		{"field partial", []string{Partitioner, "field", PartitionFieldName, "region", FlushSize, "4"}, 15, true},
		{"time", []string{Partitioner, "time", PathFormat, "'minute'=mm", TimestampExtractor, "Record", RotateInterval, "5000", FlushSize, "100", Compression, "gzip"}, 17, true},
	} {
		for _, ep := range endpoints {
			t.Run(tc.name+"/"+ep.name, func(t *testing.T) {
				records := jsonRecs(0, total)
				for i := range records {
					records[i].Timestamp = records[i].Timestamp.Add(50 * 1e9) // rotations cross a minute
				}

				ref := ep.start(t)
				task, _ := startTask(t, ref, nil, ref.config(tc.cfg...), tp0)
				for _, batch := range chunks(records, 5) {
					if err := task.Put(t.Context(), batch); err != nil {
						t.Fatal(err)
					}
				}
				want := ref.objects(t)

				e := ep.start(t)
				first, _ := startTask(t, e, nil, e.config(tc.cfg...), tp0)
				for _, batch := range chunks(records[:tc.crashAfter], 4) {
					if err := first.Put(t.Context(), batch); err != nil {
						t.Fatal(err)
					}
				}
				// The crash: no Close, no PreCommit, no offsets committed.
				if tc.lose {
					newest, newestStart := "", int64(-1)
					for k := range e.objects(t) {
						if _, s, _ := parseObjectName(k, "orders"); s > newestStart {
							newest, newestStart = k, s
						}
					}
					e.deleteObject(t, newest)
				}
				crashed := e.objects(t)

				second, sc := startTask(t, e, nil, e.config(tc.cfg...), tp0)
				from, ok := sc.Rewinds[tp0]
				if !ok {
					t.Fatal("Open did not rewind")
				}
				for k, v := range crashed {
					if want[k] != v {
						t.Errorf("object %s before the restart differs from the reference", k)
					}
				}
				replay := records[max(0, from-2):]
				for _, batch := range chunks(replay, 6) {
					if err := second.Put(t.Context(), batch); err != nil {
						t.Fatal(err)
					}
				}
				got := e.objects(t)
				if !maps.Equal(got, want) {
					t.Fatalf("after the restart (rewound to %d): %q\nwant %q", from, keys(got), keys(want))
				}
				// Both tasks commit what is in finished objects only.
				off1, _ := task.PreCommit(t.Context(), map[connect.TopicPartition]int64{tp0: total})
				off2, _ := second.PreCommit(t.Context(), map[connect.TopicPartition]int64{tp0: total})
				if off1[tp0] != off2[tp0] {
					t.Errorf("PreCommit %d after the restart, %d without", off2[tp0], off1[tp0])
				}
			})
		}
	}
}

func chunks(recs []connect.Record, n int) [][]connect.Record {
	return slices.Collect(slices.Chunk(recs, n))
}
