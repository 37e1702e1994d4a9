package itest

// Exactly-once source delivery (KIP-618) through the real binaries: a
// `bridge connect` worker with exactly.once.source.support=enabled copies a
// growing file into the bridge with FileStreamSource; it is kill -9ed
// mid-copy and a new worker takes over. A read_committed consumer sees every
// line exactly once, in order.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// readCommittedValues reads partition 0 of topic, read_committed, up to its
// last stable offset.
func readCommittedValues(t *testing.T, ctx context.Context, addr, topic string) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.KeepControlRecords(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	var out []string
	for next := int64(0); next < end.Offset; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s to %d: at %d: %v", topic, end.Offset, next, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				out = append(out, string(r.Value))
			}
			next = r.Offset + 1
		})
	}
	return out
}

func TestConnectExactlyOnceSourceKill9(t *testing.T) {
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()),
		"--group-min-session-timeout", "100ms", "--group-initial-rebalance-delay", "0")...)
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	const topic, lines, perWrite = "eos-lines", 60000, 200
	createTopic(t, b.kafka, topic, 1)
	dir := t.TempDir()
	input := filepath.Join(dir, "input.txt")
	if err := os.WriteFile(input, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	props := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(props, []byte(strings.Join([]string{
		"exactly.once.source.support=enabled",
		"offset.flush.interval.ms=100",
		"session.timeout.ms=1000",
		"heartbeat.interval.ms=200",
		"rebalance.timeout.ms=10000",
		"scheduled.rebalance.max.delay.ms=500",
		"rest.advertised.host.name=127.0.0.1",
	}, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w1 := startConnectWorker(t, b.kafka, props)
	body := fmt.Sprintf(`{"name":"lines","config":{"connector.class":"FileStreamSource","file":%q,"topic":%q,"batch.size":"100",
		"value.converter":"org.apache.kafka.connect.storage.StringConverter","exactly.once.support":"required","transaction.boundary":"poll"}}`, input, topic)
	if code := call(t, "POST", w1.rest+"/connectors", body, nil); code != 201 {
		t.Fatalf("POST /connectors: %d", code)
	}

	// The file grows while the copy runs, so the kill lands mid-copy.
	written := make(chan int, 1)
	go func() {
		f, err := os.OpenFile(input, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			written <- 0
			return
		}
		defer f.Close()
		n := 0
		for n < lines && ctx.Err() == nil {
			var sb strings.Builder
			for range perWrite {
				fmt.Fprintf(&sb, "line-%06d\n", n)
				n++
			}
			if _, err := f.WriteString(sb.String()); err != nil {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		written <- n
	}()
	for {
		if n := len(readCommittedValues(t, ctx, b.kafka, topic)); n >= lines/6 {
			t.Logf("kill -9 with %d lines committed", n)
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the copy did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	w1.kill9()
	startConnectWorker(t, b.kafka, props)
	if n := <-written; n != lines {
		t.Fatalf("wrote %d lines", n)
	}
	var got []string
	for {
		got = readCommittedValues(t, ctx, b.kafka, topic)
		if len(got) >= lines || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(got) != lines {
		t.Fatalf("read_committed sees %d lines, want %d", len(got), lines)
	}
	for i, v := range got {
		if want := fmt.Sprintf("line-%06d", i); v != want {
			t.Fatalf("line %d is %q, want %q (a duplicate or a gap)", i, v, want)
		}
	}
}
