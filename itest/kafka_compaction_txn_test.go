package itest

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A compacted topic written by franz-go's transactional producer, commits
// and aborts, cleaned by the real binary on its own schedule: kcat
// (librdkafka) at read_uncommitted and read_committed both end up with each
// key's latest committed value, each key once, and nothing of the aborted
// transactions, before and after kill -9 and a restart.
func TestKafkaCompactedTopicWithTransactions(t *testing.T) {
	needsBridge(t) // kfake does not compact
	need(t, "kcat", checkKcat, installKcat)
	k := startKafka(t)
	const topic = "txn-compacted"
	str := func(s string) *string { return &s }
	k.createTopic(topic, 1, map[string]*string{
		"cleanup.policy":            str("compact"),
		"min.cleanable.dirty.ratio": str("0.01"),
		"delete.retention.ms":       str("0"),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*kafkaTimeout)
	defer cancel()
	pr := k.client(kgo.TransactionalID("itest-compacted"), kgo.DefaultProduceTopic(topic))
	plain := k.client(kgo.DefaultProduceTopic(topic))
	want := map[string]string{}
	txn := func(commit kgo.TransactionEndTry, tag string, keys ...string) {
		t.Helper()
		if err := pr.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		recs := make([]*kgo.Record, len(keys))
		for i, key := range keys {
			recs[i] = &kgo.Record{Key: []byte(key), Value: []byte(tag)}
		}
		if err := pr.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := pr.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
		if commit == kgo.TryCommit {
			for _, key := range keys {
				want[key] = tag
			}
		}
	}
	keys := func(from, to int) (out []string) {
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("k%d", i))
		}
		return out
	}
	txn(kgo.TryCommit, "c1", keys(0, 20)...)
	txn(kgo.TryAbort, "a2", keys(0, 20)...)
	txn(kgo.TryCommit, "c3", keys(0, 10)...)
	txn(kgo.TryAbort, "a4", append(keys(10, 20), "aborted-only")...)

	// read reads the topic with kcat at isolation and returns each key's
	// last value and whether it read each key once (the status key aside,
	// kept in the newest batch) and nothing of the aborted transactions.
	read := func(isolation string) (map[string]string, bool) {
		t.Helper()
		out := runTool(t, nil, "kcat", "-b", k.addr, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k=%s\n", "-X", "isolation.level="+isolation)
		got, once := map[string]string{}, true
		for line := range strings.Lines(string(out)) {
			key, value, _ := strings.Cut(strings.TrimSpace(line), "=")
			if _, dup := got[key]; (dup && key != "status") || strings.HasPrefix(value, "a") {
				once = false
			}
			got[key] = value
		}
		return got, once
	}
	// The cleaner runs every 15 s; a status record now and then moves the
	// newest batch (never cleaned) past the transactions' markers.
	deadline := time.Now().Add(kafkaTimeout)
	for i := 0; ; i++ {
		status := fmt.Sprint("s", i)
		if err := plain.ProduceSync(ctx, &kgo.Record{Key: []byte("status"), Value: []byte(status)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		want["status"] = status
		if committed, _ := read("read_committed"); !maps.Equal(committed, want) {
			t.Fatalf("read_committed: %v, want %v", committed, want)
		}
		uncommitted, once := read("read_uncommitted")
		if once && maps.Equal(uncommitted, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read_uncommitted still %v (each key once, nothing aborted: %v) after %v; want %v", uncommitted, once, kafkaTimeout, want)
		}
		time.Sleep(time.Second)
	}
	k.kill9()
	k.restart()
	for _, isolation := range []string{"read_committed", "read_uncommitted"} {
		if got, once := read(isolation); !once || !maps.Equal(got, want) {
			t.Errorf("after restart, %s: %v (each key once, nothing aborted: %v), want %v", isolation, got, once, want)
		}
	}
}
