package itest

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// TestKafkaReadCommittedClients: third-party consumers at
// isolation.level=read_committed and read_uncommitted read a partition
// holding committed, aborted and open transactions, through the real
// binary. Until the transaction coordinator can take a transactional
// producer, the transactions are written into the stopped bridge's store
// directly (data batches and the markers the coordinator will write), which
// also proves the bridge rebuilds its transaction state at start: the open
// transaction holds the last stable offset after a kill -9 and a restart.
func TestKafkaReadCommittedClients(t *testing.T) {
	needsBridge(t)
	need(t, "kcat", checkKcat, installKcat)
	k := startKafka(t)
	k.createTopic("rc", 1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	if err := k.client().ProduceSync(ctx, &kgo.Record{Topic: "rc", Value: []byte("p0")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	k.kill9()

	s, err := embedded.Open(embedded.Options{Dir: filepath.Join(k.dataDir, "store"), ObjectsDir: filepath.Join(k.dataDir, "objects")})
	if err != nil {
		t.Fatal(err)
	}
	add := func(raw []byte, err error) {
		t.Helper()
		if err == nil {
			_, err = s.AppendBatch(ctx, "rc", 0, raw, store.AppendOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	data := func(pid int64, values ...string) ([]byte, error) {
		recs := make([]recordbatch.Record, len(values))
		for i, v := range values {
			recs[i] = recordbatch.Record{Offset: int64(i), Value: []byte(v), Timestamp: time.Now()}
		}
		opts := recordbatch.EncodeOptions{}
		if pid >= 0 {
			opts = recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: pid}
		}
		return recordbatch.Encode(nil, recs, opts)
	}
	end := func(pid int64, typ recordbatch.ControlType) ([]byte, error) {
		return recordbatch.EncodeControl(pid, 0, recordbatch.Control{Type: typ}, time.Now())
	}
	add(data(1001, "c1"))       // committed below
	add(data(1002, "a1", "a2")) // aborted below
	add(data(-1, "p1"))         // plain, between
	add(data(1001, "c2"))       //
	add(end(1002, recordbatch.ControlAbort))
	add(end(1001, recordbatch.ControlCommit))
	add(data(-1, "p2"))   // plain
	add(data(1003, "o1")) // open: holds the LSO
	add(data(-1, "p3"))   // after the open transaction
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	k.restart()

	committed := []string{"p0", "c1", "p1", "c2", "p2"}
	uncommitted := []string{"p0", "c1", "a1", "a2", "p1", "c2", "p2", "o1", "p3"}
	kcat := func(isolation string) []string {
		out := runTool(t, nil, "kcat", "-b", k.addr, "-C", "-t", "rc", "-o", "beginning", "-e", "-q", "-f", "%s\n", "-X", "isolation.level="+isolation)
		return strings.Fields(string(out))
	}
	if got := kcat("read_committed"); !slices.Equal(got, committed) {
		t.Errorf("kcat read_committed: %q, want %q", got, committed)
	}
	if got := kcat("read_uncommitted"); !slices.Equal(got, uncommitted) {
		t.Errorf("kcat read_uncommitted: %q, want %q", got, uncommitted)
	}
	// Not kafka-python: Debian's 2.0.2 has no isolation_level and hands
	// control records (the markers' 6-byte values) to the application, as
	// it does against Kafka itself.
	kgoRead := func(level kgo.IsolationLevel, n int) []string {
		cl := k.client(kgo.ConsumeTopics("rc"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(level))
		var got []string
		for len(got) < n {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("kgo read %q before the deadline", got)
			}
			fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		}
		return got
	}
	if got := kgoRead(kgo.ReadCommitted(), len(committed)); !slices.Equal(got, committed) {
		t.Errorf("franz-go read_committed: %q, want %q", got, committed)
	}
	if got := kgoRead(kgo.ReadUncommitted(), len(uncommitted)); !slices.Equal(got, uncommitted) {
		t.Errorf("franz-go read_uncommitted: %q, want %q", got, uncommitted)
	}
}
