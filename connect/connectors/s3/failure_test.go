package s3

import (
	"errors"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/streambridge/bridge/connect"
)

// TestFailedUploadIsRetried fails uploads for a while: Put returns a
// retriable error, the runtime hands the same records again, and once S3
// answers the task finishes the pending rotation first. The bucket ends
// like a run without failures, and PreCommit never passes a record that is
// not in an object.
func TestFailedUploadIsRetried(t *testing.T) {
	ref := startBridgeS3(t)
	task, _ := startTask(t, ref, nil, ref.config(), tp0, tp1)
	recs := append(jsonRecs(0, 7), jsonRecsOf(tp1, 0, 4)...)
	if err := task.Put(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	want := ref.objects(t)

	var mu sync.Mutex
	failing := true
	e := startBridgeS3With(t, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		mu.Lock()
		fail := failing && r.Method == http.MethodPut && strings.Count(strings.TrimPrefix(r.URL.Path, "/"), "/") > 0 // objects, not the bucket
		mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<Error><Code>AccessDenied</Code><Message>not now</Message></Error>`))
			return
		}
		next.ServeHTTP(w, r)
	})
	task, _ = startTask(t, e, nil, e.config(), tp0, tp1)
	err := task.Put(t.Context(), recs)
	if !errors.Is(err, connect.ErrRetriable) {
		t.Fatalf("Put = %v, want a retriable error", err)
	}
	if off, _ := task.PreCommit(t.Context(), map[connect.TopicPartition]int64{tp0: 7, tp1: 4}); off[tp0] != 0 || off[tp1] != 4 {
		// tp1 was never reached: its offset is the one given, as nothing
		// of it is buffered.
		t.Fatalf("PreCommit while failing = %v", off)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	for {
		err := task.Put(t.Context(), recs)
		if err == nil {
			break
		}
		if !errors.Is(err, connect.ErrRetriable) {
			t.Fatal(err)
		}
	}
	if got := e.objects(t); !maps.Equal(got, want) {
		t.Fatalf("objects %q\nwant %q", keys(got), keys(want))
	}
	if off, _ := task.PreCommit(t.Context(), map[connect.TopicPartition]int64{tp0: 7, tp1: 4}); off[tp0] != 6 || off[tp1] != 3 {
		t.Fatalf("PreCommit = %v, want 6 and 3", off)
	}
}

var tp1 = connect.TopicPartition{Topic: "orders", Partition: 1}

func jsonRecsOf(tp connect.TopicPartition, from, n int64) []connect.Record {
	recs := jsonRecs(from, n)
	for i := range recs {
		recs[i].Partition = tp.Partition
	}
	return recs
}
