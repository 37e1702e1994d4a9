package sqs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// TestReceiveAroundTransactions: a queue whose topic a Kafka transactional
// producer writes to hands out only committed messages: none of an open
// transaction (nor anything after it) until it ends, none of an aborted
// one, no markers; a long poll waiting behind an open transaction wakes
// when it commits.
func TestReceiveAroundTransactions(t *testing.T) {
	for _, fifo := range []bool{false, true} {
		t.Run(fmt.Sprint("fifo=", fifo), func(t *testing.T) {
			ctx := context.Background()
			s, err := embedded.Open(embedded.Options{InMemory: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			name := "q"
			if fifo {
				name = "q.fifo"
			}
			st, err := s.CreateStream(ctx, store.StreamConfig{Name: name, ShardCount: 1})
			if err != nil {
				t.Fatal(err)
			}
			appendRaw := func(raw []byte, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.AppendBatch(ctx, name, 0, raw, store.AppendOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			data := func(pid int64, values ...string) ([]byte, error) {
				recs := make([]recordbatch.Record, len(values))
				for i, v := range values {
					recs[i] = recordbatch.Record{Offset: int64(i), Key: []byte(v), Value: []byte(v)} // a group each: FIFO order does not block them
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
			appendRaw(data(-1, "p0"))
			appendRaw(data(1, "a1", "a2")) // pid 1, to abort
			appendRaw(data(2, "c1"))       // pid 2, to commit
			appendRaw(data(-1, "p1"))

			q, err := openQueue(ctx, s, st)
			if err != nil {
				t.Fatal(err)
			}
			clock := func() int64 { return time.Now().UnixMilli() }
			values := func(ms []receivedMessage) string {
				var out []string
				for _, m := range ms {
					out = append(out, string(m.record.Value))
				}
				return fmt.Sprint(out)
			}
			got, err := q.receive(ctx, clock, 10, 60_000, 0)
			if err != nil || values(got) != "[p0]" {
				t.Fatalf("with two open transactions: %s, %v", values(got), err)
			}
			appendRaw(end(1, recordbatch.ControlAbort))
			if got, err := q.receive(ctx, clock, 10, 60_000, 0); err != nil || values(got) != "[]" {
				t.Fatalf("after the abort, with pid 2 open: %s, %v", values(got), err)
			}
			done := make(chan []receivedMessage, 1)
			go func() {
				got, err := q.receive(ctx, clock, 10, 60_000, clock()+3_600_000)
				if err != nil {
					t.Error(err)
				}
				done <- got
			}()
			appendRaw(end(2, recordbatch.ControlCommit))
			if got := <-done; values(got) != "[c1 p1]" {
				t.Fatalf("long poll through the commit: %s", values(got))
			}
		})
	}
}
