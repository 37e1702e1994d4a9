package embedded

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// The transactions' durability test: a child runs transactions of four
// producers on one partition (each round first aborts whatever a killed
// round left open, as a coordinator resuming does) and is killed with
// SIGKILL at a random moment, three times. Then the open transactions and
// the aborted index rebuilt at open must be exactly what the log's batches
// say, and every acknowledged marker must be there.

const txnChildEnv = "BRIDGE_STORE_TXN_DURABILITY_CHILD"

func txnChild(dir string) {
	s, err := Open(Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	if _, err := s.DescribeStream(ctx, "t"); err != nil {
		if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "t", ShardCount: 1}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	var out sync.Mutex
	appendOrDie := func(raw []byte, err error) store.AppendResult {
		if err == nil {
			var res store.AppendResult
			if res, err = s.AppendBatch(ctx, "t", 0, raw, store.AppendOptions{}); err == nil {
				return res
			}
		}
		fmt.Fprintln(os.Stderr, "append:", err)
		os.Exit(3)
		return store.AppendResult{}
	}
	for pid := int64(1); pid <= 4; pid++ {
		appendOrDie(recordbatch.EncodeControl(pid, 0, recordbatch.Control{Type: recordbatch.ControlAbort}, time.Now()))
	}
	for pid := int64(1); pid <= 4; pid++ {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(pid), uint64(time.Now().UnixNano())))
			for {
				for range 1 + rng.IntN(3) {
					recs := make([]recordbatch.Record, 1+rng.IntN(5))
					for i := range recs {
						recs[i] = recordbatch.Record{Offset: int64(i), Value: []byte("v"), Timestamp: time.Now()}
					}
					appendOrDie(recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: pid}))
				}
				typ := recordbatch.ControlType(rng.IntN(2))
				res := appendOrDie(recordbatch.EncodeControl(pid, 0, recordbatch.Control{Type: typ}, time.Now()))
				out.Lock()
				fmt.Fprintf(os.Stdout, "end %d %d %d\n", pid, res.BaseOffset, typ)
				out.Unlock()
			}
		}()
	}
	select {}
}

func TestTransactionIndexSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, uint64(time.Now().UnixNano())))
	type end struct {
		pid, offset int64
		typ         recordbatch.ControlType
	}
	var acked []end
	for round := 1; round <= 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), txnChildEnv+"="+dir)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 1 + rng.IntN(300)
		sc := bufio.NewScanner(stdout)
		for n := 0; sc.Scan(); n++ {
			var e end
			if _, err := fmt.Sscanf(sc.Text(), "end %d %d %d", &e.pid, &e.offset, &e.typ); err != nil {
				t.Fatalf("child said %q: %v", sc.Text(), err)
			}
			acked = append(acked, e)
			if n == killAfter {
				time.AfterFunc(time.Duration(rng.IntN(3000))*time.Microsecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
			}
		}
		cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended without SIGKILL", round)
		}
	}

	s := openStore(t, dir)
	defer s.Close()
	// The truth, from the batches: open and aborted transactions.
	all, err := s.Read(ctx, "t", 0, 0, store.ReadLimits{MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	open := map[int64]int64{}
	var aborted []store.AbortedTxn
	markers := map[int64]recordbatch.ControlType{}
	for _, b := range all.Batches {
		info, err := recordbatch.Parse(b.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if info.Control() {
			c, err := recordbatch.ParseControl(b.Raw)
			if err != nil {
				t.Fatal(err)
			}
			markers[b.BaseOffset] = c.Type
			if first, ok := open[info.ProducerID]; ok && c.Type == recordbatch.ControlAbort {
				aborted = append(aborted, ab(info.ProducerID, first))
			}
			delete(open, info.ProducerID)
		} else if _, ok := open[info.ProducerID]; !ok {
			open[info.ProducerID] = b.BaseOffset
		}
	}
	for _, e := range acked {
		if typ, ok := markers[e.offset]; !ok || typ != e.typ {
			t.Fatalf("acknowledged %v marker of producer %d at %d missing", e.typ, e.pid, e.offset)
		}
	}
	got, err := s.OpenTransactions(ctx, "t", 0)
	if err != nil {
		t.Fatal(err)
	}
	lso := all.HighWatermark
	for _, o := range got {
		if open[o.ProducerID] != o.FirstOffset {
			t.Errorf("open transaction %+v; the log says %v", o, open)
		}
		lso = min(lso, o.FirstOffset)
	}
	if len(got) != len(open) {
		t.Errorf("open transactions %+v; the log says %v", got, open)
	}
	res, err := s.Read(ctx, "t", 0, 0, store.ReadLimits{MaxBytes: 1 << 30, Committed: true})
	if err != nil {
		t.Fatal(err)
	}
	// The aborted transactions of the committed range: those with a
	// first offset below the LSO.
	var want []store.AbortedTxn
	for _, a := range aborted {
		if a.FirstOffset < lso {
			want = append(want, a)
		}
	}
	if res.LastStableOffset != lso || !slices.Equal(res.Aborted, want) {
		t.Errorf("committed read: lso %d, %d aborted; want %d, %d", res.LastStableOffset, len(res.Aborted), lso, len(want))
	}
	t.Logf("%d markers acknowledged, %d batches, %d aborted transactions, %d open, lso %d of %d", len(acked), len(all.Batches), len(aborted), len(open), lso, all.HighWatermark)
}
