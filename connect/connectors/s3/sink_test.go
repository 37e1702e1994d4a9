package s3

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
)

var (
	tp0 = connect.TopicPartition{Topic: "orders", Partition: 0}
	t0  = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
)

// rec is a record of tp0 at offset off, timestamped t0 + ms.
func rec(off int64, ms int64, value any) connect.Record {
	return connect.Record{Topic: tp0.Topic, Partition: tp0.Partition, Offset: off, Timestamp: t0.Add(time.Duration(ms) * time.Millisecond), Value: value}
}

// jsonRecs are n records with map values, one a second apart, regions
// alternating.
func jsonRecs(from, n int64) []connect.Record {
	var out []connect.Record
	for i := from; i < from+n; i++ {
		region := []string{"eu", "us"}[i%2]
		out = append(out, rec(i, i*1000, map[string]any{"id": i, "region": region, "note": "<&>"}))
	}
	return out
}

func TestDefaultPartitionerFlushSize(t *testing.T) {
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			e := ep.start(t)
			task, _ := startTask(t, e, nil, e.config(), tp0)
			if err := task.Put(t.Context(), jsonRecs(0, 8)); err != nil {
				t.Fatal(err)
			}
			got := e.objects(t)
			want := map[string]string{
				"topics/orders/partition=0/orders+0+0000000000.json": `{"id":0,"note":"<&>","region":"eu"}` + "\n" + `{"id":1,"note":"<&>","region":"us"}` + "\n" + `{"id":2,"note":"<&>","region":"eu"}` + "\n",
				"topics/orders/partition=0/orders+0+0000000003.json": `{"id":3,"note":"<&>","region":"us"}` + "\n" + `{"id":4,"note":"<&>","region":"eu"}` + "\n" + `{"id":5,"note":"<&>","region":"us"}` + "\n",
			}
			if !maps.Equal(got, want) {
				t.Fatalf("objects %q\nwant %q", got, want)
			}
			// Records 6 and 7 wait in an open file: not committable.
			off, err := task.PreCommit(t.Context(), map[connect.TopicPartition]int64{tp0: 8})
			if err != nil || off[tp0] != 6 {
				t.Fatalf("PreCommit = %v, %v; want 6", off, err)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    []string
		recs   []connect.Record
		starts []int64 // start offsets of the objects written
		commit int64
	}{
		{"record time", []string{FlushSize, "100", RotateInterval, "1000", TimestampExtractor, "Record"},
			[]connect.Record{rec(0, 0, "a"), rec(1, 500, "b"), rec(2, 1000, "c"), rec(3, 1999, "d"), rec(4, 2000, "e")}, []int64{0, 2}, 4},
		{"size", []string{FlushSize, "100", ObjectMaxBytes, "10", Format, "bytes"},
			[]connect.Record{rec(0, 0, "aaaa"), rec(1, 0, "bbbb"), rec(2, 0, "cc"), rec(3, 0, "dddddddddd"), rec(4, 0, "e")}, []int64{0, 2}, 4},
		{"flush size", []string{FlushSize, "2", Format, "bytes"},
			[]connect.Record{rec(0, 0, "a"), rec(1, 0, "b"), rec(2, 0, "c"), rec(3, 0, "d"), rec(4, 0, "e")}, []int64{0, 2}, 4},
	} {
		for _, ep := range endpoints {
			t.Run(tc.name+"/"+ep.name, func(t *testing.T) {
				e := ep.start(t)
				task, _ := startTask(t, e, nil, e.config(tc.cfg...), tp0)
				if err := task.Put(t.Context(), tc.recs); err != nil {
					t.Fatal(err)
				}
				var starts []int64
				for _, k := range keys(e.objects(t)) {
					_, s, _ := parseObjectName(k, "orders")
					starts = append(starts, s)
				}
				if !slices.Equal(starts, tc.starts) {
					t.Errorf("objects start at %v, want %v", starts, tc.starts)
				}
				if off, _ := task.PreCommit(t.Context(), map[connect.TopicPartition]int64{tp0: 5}); off[tp0] != tc.commit {
					t.Errorf("PreCommit = %v, want %d", off, tc.commit)
				}
			})
		}
	}
}

func TestScheduledRotation(t *testing.T) {
	e := startBridgeS3(t)
	clock := &fakeClock{now: t0.Add(10 * time.Second)}
	task, _ := startTask(t, e, clock, e.config(FlushSize, "100", RotateScheduleInterval, "60000"), tp0)
	if err := task.Put(t.Context(), []connect.Record{rec(0, 0, "a"), rec(1, 0, "b")}); err != nil {
		t.Fatal(err)
	}
	if off, _ := task.PreCommit(t.Context(), map[connect.TopicPartition]int64{tp0: 2}); off[tp0] != 0 || len(e.objects(t)) != 0 {
		t.Fatalf("before the minute: PreCommit %v, objects %v", off, e.objects(t))
	}
	clock.now = t0.Add(time.Minute) // the next multiple of 60 s
	if off, _ := task.PreCommit(t.Context(), map[connect.TopicPartition]int64{tp0: 2}); off[tp0] != 2 {
		t.Fatalf("PreCommit = %v, want 2", off)
	}
	if got := keys(e.objects(t)); !slices.Equal(got, []string{"topics/orders/partition=0/orders+0+0000000000.json"}) {
		t.Fatalf("objects %q", got)
	}
}

func TestPartitioners(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  []string
		want []string
	}{
		{"time", []string{Partitioner, "time", PathFormat, "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", TimestampExtractor, "Record", Timezone, "America/New_York", FlushSize, "4"},
			[]string{
				"topics/orders/year=2026/month=03/day=01/hour=05/orders+0+0000000000.json",
				"topics/orders/year=2026/month=03/day=01/hour=05/orders+0+0000000004.json",
			}},
		{"time rounded", []string{Partitioner, "time", PathFormat, "yyyyMMdd'T'HHmm", PartitionDuration, "3000", TimestampExtractor, "Record", FlushSize, "6", TopicsDir, "out/k"},
			[]string{
				"out/k/orders/20260301T1000/orders+0+0000000000.json",
			}},
		{"field", []string{Partitioner, "field", PartitionFieldName, "region", FlushSize, "4"},
			[]string{
				"topics/orders/region=eu/orders+0+0000000000.json",
				"topics/orders/region=eu/orders+0+0000000004.json",
				"topics/orders/region=us/orders+0+0000000001.json",
				"topics/orders/region=us/orders+0+0000000005.json",
			}},
	} {
		for _, ep := range endpoints {
			t.Run(tc.name+"/"+ep.name, func(t *testing.T) {
				e := ep.start(t)
				task, _ := startTask(t, e, nil, e.config(tc.cfg...), tp0)
				if err := task.Put(t.Context(), jsonRecs(0, 8)); err != nil {
					t.Fatal(err)
				}
				objs := e.objects(t)
				if got := keys(objs); !slices.Equal(got, tc.want) {
					t.Fatalf("objects %q\nwant %q", got, tc.want)
				}
				// Record for record: every record once, in offset order
				// within each object.
				var ids []string
				for _, k := range tc.want {
					ids = append(ids, lines(objs[k])...)
				}
				if len(ids) != len(slices.Compact(slices.Sorted(slices.Values(ids)))) {
					t.Errorf("a record is in two objects: %q", ids)
				}
			})
		}
	}
}

func TestGzipAndBytes(t *testing.T) {
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			e := ep.start(t)
			task, _ := startTask(t, e, nil, e.config(Format, "bytes", ByteArraySeparator, "|", ByteArrayExtension, ".txt", Compression, "gzip"), tp0)
			if err := task.Put(t.Context(), []connect.Record{rec(0, 0, []byte("a\nb")), rec(1, 0, "c"), rec(2, 0, []byte{0, 0xff})}); err != nil {
				t.Fatal(err)
			}
			objs := e.objects(t)
			body, ok := objs["topics/orders/partition=0/orders+0+0000000000.txt.gz"]
			if !ok {
				t.Fatalf("objects %q", keys(objs))
			}
			zr, err := gzip.NewReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if want := []byte("a\nb|c|\x00\xff|"); !bytes.Equal(plain, want) {
				t.Fatalf("gunzipped %q, want %q", plain, want)
			}
		})
	}
}

func TestUnwritableRecordsAreReported(t *testing.T) {
	e := startBridgeS3(t)
	task, sc := startTask(t, e, nil, e.config(Format, "bytes"), tp0)
	if err := task.Put(t.Context(), []connect.Record{rec(0, 0, "a"), rec(1, 0, nil), rec(2, 0, map[string]any{}), rec(3, 0, "b"), rec(4, 0, "c")}); err != nil {
		t.Fatal(err)
	}
	if len(sc.Reported) != 2 || !strings.Contains(sc.Reported[0].Err.Error(), "behavior.on.null.values") {
		t.Fatalf("reported %v", sc.Reported)
	}
	if got := e.objects(t)["topics/orders/partition=0/orders+0+0000000000.bin"]; got != "a\nb\nc\n" {
		t.Fatalf("object %q", got)
	}
	if off, _ := task.PreCommit(t.Context(), map[connect.TopicPartition]int64{tp0: 5}); off[tp0] != 5 {
		t.Fatalf("PreCommit = %v", off)
	}
}

func TestMultipartUpload(t *testing.T) {
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			e := ep.start(t)
			task, _ := startTask(t, e, nil, e.config(PartSize, fmt.Sprint(minPartSize), FlushSize, "12", Format, "bytes"), tp0)
			var recs []connect.Record
			var want bytes.Buffer
			for i := range int64(12) {
				v := bytes.Repeat([]byte{byte('a' + i)}, 1<<20)
				recs = append(recs, rec(i, 0, v))
				want.Write(v)
				want.WriteByte('\n')
			}
			if err := task.Put(t.Context(), recs); err != nil {
				t.Fatal(err)
			}
			got := e.objects(t)["topics/orders/partition=0/orders+0+0000000000.bin"]
			if got != want.String() {
				t.Fatalf("object of %d bytes, want %d", len(got), want.Len())
			}
		})
	}
}
