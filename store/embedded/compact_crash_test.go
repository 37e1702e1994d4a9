package embedded

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// The crash test runs this test binary as a child that appends keyed
// records to a compacted stream from several goroutines while its cleaner
// runs back to back in small commits, and kills it with SIGKILL at a random
// moment, four times over on the same directory. Afterwards the log must be
// consistent: CRCs intact, offsets increasing, every record the one
// acknowledged at its offset, no key's latest acknowledged record lost
// unless a later record of the key is there, and the partition's size the
// bytes of its batches; and a last clean leaves one record per key.
//
// Two more goroutines write transactions (producers 100 and 101) with the
// same keys, committing two in three and aborting the rest, so passes
// remove aborted records and markers while the child is killed. A child
// starting over aborts the transactions its predecessor left open, as the
// coordinator would. After the kills a read_committed replay must hold no
// record of an aborted transaction and lose no key's latest committed
// record, every aborted index entry must name an abort marker in the log,
// and after a last clean no aborted record is left below the newest batch.

const compactChildEnv = "BRIDGE_STORE_COMPACTION_CHILD"

func compactChild(dir string) {
	cleanChunkBytes = 32 << 10
	s, err := Open(Options{Dir: dir, CompactionInterval: time.Millisecond, CompactionBytesPerSecond: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := s.DescribeStream(context.Background(), "c"); err != nil {
		cfg := store.StreamConfig{Name: "c", ShardCount: 1, Compaction: store.Compaction{Enabled: true}}
		if _, err := s.CreateStream(context.Background(), cfg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	pad := strings.Repeat("x", 500)
	out := make(chan string, 64)
	open, err := s.OpenTransactions(context.Background(), "c", 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for _, o := range open {
		raw, _ := recordbatch.EncodeControl(o.ProducerID, 1, recordbatch.Control{Type: recordbatch.ControlAbort}, time.Now())
		if _, err := s.AppendBatch(context.Background(), "c", 0, raw, store.AppendOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, "abort:", err)
			os.Exit(3)
		}
		fmt.Printf("open %d %d\n", o.ProducerID, o.FirstOffset)
	}
	for g := range 2 {
		pid := int64(100 + g)
		go func() {
			rng := rand.New(rand.NewPCG(uint64(pid), uint64(time.Now().UnixNano())))
			for n := 0; ; n++ {
				for b := range 1 + rng.IntN(3) {
					recs := make([]recordbatch.Record, 1+rng.IntN(4))
					for i := range recs {
						recs[i] = recordbatch.Record{Key: fmt.Appendf(nil, "k%d", rng.IntN(40)), Value: fmt.Appendf(nil, "p%d-n%d-%d-%d/%s", pid, n, b, i, pad), Timestamp: time.Now()}
					}
					raw, _ := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: pid, ProducerEpoch: 1})
					res, err := s.AppendBatch(context.Background(), "c", 0, raw, store.AppendOptions{})
					if err != nil {
						fmt.Fprintln(os.Stderr, "append:", err)
						os.Exit(3)
					}
					for i, r := range recs {
						out <- fmt.Sprintf("txn %d %d %s %s", pid, res.BaseOffset+int64(i), r.Key, r.Value[:strings.IndexByte(string(r.Value), '/')])
					}
				}
				typ, word := recordbatch.ControlCommit, "commit"
				if rng.IntN(3) == 0 {
					typ, word = recordbatch.ControlAbort, "abort"
				}
				raw, _ := recordbatch.EncodeControl(pid, 1, recordbatch.Control{Type: typ}, time.Now())
				if _, err := s.AppendBatch(context.Background(), "c", 0, raw, store.AppendOptions{}); err != nil {
					fmt.Fprintln(os.Stderr, "marker:", err)
					os.Exit(3)
				}
				out <- fmt.Sprintf("end %d %s", pid, word)
			}
		}()
	}
	for g := range 4 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for n := 0; ; n++ {
				recs := make([]recordbatch.Record, 1+rng.IntN(8))
				for i := range recs {
					recs[i] = recordbatch.Record{Key: fmt.Appendf(nil, "k%d", rng.IntN(40)), Value: fmt.Appendf(nil, "g%d-n%d-%d/%s", g, n, i, pad), Timestamp: time.Now()}
				}
				raw, _ := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{Codec: recordbatch.Codec(rng.IntN(2) * 4)})
				res, err := s.AppendBatch(context.Background(), "c", 0, raw, store.AppendOptions{})
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(3)
				}
				for i, r := range recs {
					out <- fmt.Sprintf("ack %d %s %s", res.BaseOffset+int64(i), r.Key, r.Value[:strings.IndexByte(string(r.Value), '/')])
				}
			}
		}()
	}
	w := bufio.NewWriter(os.Stdout)
	for line := range out {
		fmt.Fprintln(w, line)
		if len(out) == 0 {
			w.Flush()
		}
	}
}

func TestCompactionSurvivesSIGKILL(t *testing.T) {
	if dir := os.Getenv(compactChildEnv); dir != "" {
		compactChild(dir)
		return
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, uint64(time.Now().UnixNano())))
	type acked struct {
		key, value string
		txn        int8 // 0 plain; 1 committed; -1 aborted; 2 undecided or unknown
	}
	acks := map[int64]acked{}
	pending := map[int64][]int64{} // producer -> offsets of its transaction so far
	decide := func(pid int64, outcome int8) {
		for _, off := range pending[pid] {
			a := acks[off]
			a.txn = outcome
			acks[off] = a
		}
		delete(pending, pid)
	}
	// abortOpen marks offs aborted from first on, the first offset of the
	// transaction the store found open: offsets below it belong to an
	// earlier transaction of the producer whose marker was appended but
	// not acknowledged, of unknown outcome.
	abortOpen := func(offs []int64, first int64) {
		for _, off := range offs {
			if off >= first {
				a := acks[off]
				a.txn = -1
				acks[off] = a
			}
		}
	}
	for round := 1; round <= 4; round++ {
		// The transactions a kill interrupted: aborted when the next child
		// finds them open, else of unknown outcome (their marker may have
		// been appended without its acknowledgement, and then a later
		// transaction of the producer may be the open one).
		carried := pending
		pending = map[int64][]int64{}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCompactionSurvivesSIGKILL$")
		cmd.Env = append(os.Environ(), compactChildEnv+"="+dir)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 2000 + rng.IntN(4000)
		sc := bufio.NewScanner(stdout)
		for n := 0; sc.Scan(); n++ {
			var (
				off, pid   int64
				key, value string
			)
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 4 && f[0] == "ack":
				fmt.Sscanf(sc.Text(), "ack %d %s %s", &off, &key, &value)
				acks[off] = acked{key: key, value: value}
			case len(f) == 5 && f[0] == "txn":
				fmt.Sscanf(sc.Text(), "txn %d %d %s %s", &pid, &off, &key, &value)
				acks[off] = acked{key: key, value: value, txn: 2}
				pending[pid] = append(pending[pid], off)
			case len(f) == 3 && f[0] == "end":
				fmt.Sscanf(f[1], "%d", &pid)
				decide(pid, map[string]int8{"commit": 1, "abort": -1}[f[2]])
			case len(f) == 3 && f[0] == "open":
				var first int64
				fmt.Sscanf(f[1]+" "+f[2], "%d %d", &pid, &first)
				abortOpen(carried[pid], first) // the child aborted what its predecessor left open
			default:
				t.Fatalf("child said %q", sc.Text())
			}
			if n == killAfter {
				time.AfterFunc(time.Duration(rng.IntN(3000))*time.Microsecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended without SIGKILL: %v", round, err)
		}
	}

	clock := newTestClock(time.Now())
	s := openCompacting(t, dir, clock, 0)
	defer s.Close()
	open, err := s.OpenTransactions(ctx, "c", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range open {
		appendRaw(t, s, "c", marker(t, o.ProducerID, recordbatch.ControlAbort))
		abortOpen(pending[o.ProducerID], o.FirstOffset)
		delete(pending, o.ProducerID)
	}
	counts := map[int8]int{}
	for _, a := range acks {
		counts[a.txn]++
	}
	t.Logf("acknowledged: %d plain, %d committed, %d aborted, %d unknown", counts[0], counts[1], counts[-1], counts[2])
	check := func() {
		t.Helper()
		// Every stored record is the one acknowledged at its offset.
		data, _ := txnLogView(t, s, "c", false)
		for i, r := range data {
			if i > 0 && r.Offset <= data[i-1].Offset {
				t.Fatalf("offset %d after %d", r.Offset, data[i-1].Offset)
			}
			id, _, _ := strings.Cut(string(r.Value), "/")
			if a, ok := acks[r.Offset]; ok && (a.key != string(r.Key) || a.value != id) {
				t.Fatalf("offset %d holds %s=%s, acknowledged %s=%s", r.Offset, r.Key, id, a.key, a.value)
			}
		}
		// A read_committed replay holds nothing aborted and every key's
		// latest committed record (or a later one of the key).
		committed, _ := txnLogView(t, s, "c", true)
		latestRead := map[string]int64{}
		for _, r := range committed {
			if acks[r.Offset].txn == -1 {
				t.Fatalf("read_committed returned offset %d of an aborted transaction", r.Offset)
			}
			latestRead[string(r.Key)] = r.Offset + 1
		}
		latestAcked := map[string]int64{}
		for off, a := range acks {
			if a.txn == 0 || a.txn == 1 {
				latestAcked[a.key] = max(latestAcked[a.key], off+1)
			}
		}
		for k, off := range latestAcked {
			if latestRead[k] < off {
				t.Fatalf("key %s: latest committed record at %d lost (latest read %d)", k, off-1, latestRead[k]-1)
			}
		}
		// Every aborted index entry names an abort marker in the log.
		_, markers := txnLogView(t, s, "c", false)
		p := (*s.streams["c"].parts.Load())[0]
		entries, err := s.abortedEntries(p, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if markers[e.marker] != recordbatch.ControlAbort+10 {
				t.Fatalf("aborted index entry %+v: no abort marker at %d", e, e.marker)
			}
		}
		if size, _ := s.Size(ctx, "c", 0); size != storedBytes(t, s, "c") {
			t.Fatalf("size %d, stored %d", size, storedBytes(t, s, "c"))
		}
		t.Logf("%d records read (%d committed view), %d markers, %d aborted index entries", len(data), len(committed), len(markers), len(entries))
	}
	check()
	// A last clean, to the newest batch, leaves each key once below it and
	// no aborted record.
	for range 3 {
		if err := s.Compact(ctx); err != nil {
			t.Fatal(err)
		}
	}
	check()
	recs, _ := txnLogView(t, s, "c", false)
	res, err := s.Read(ctx, "c", 0, recs[len(recs)-1].Offset, store.ReadLimits{})
	if err != nil {
		t.Fatal(err)
	}
	newest := res.Batches[len(res.Batches)-1].BaseOffset
	seen := map[string]bool{}
	for _, r := range recs {
		if r.Offset < newest {
			if seen[string(r.Key)] {
				t.Fatalf("key %s twice below the newest batch after a full clean", r.Key)
			}
			seen[string(r.Key)] = true
			if acks[r.Offset].txn == -1 {
				t.Fatalf("aborted record at %d left after a full clean", r.Offset)
			}
		}
	}
}

// txnLogView reads partition 0 whole: its data records (with committed, as
// a read_committed consumer replays them: aborted transactions and markers
// skipped) and its markers by offset (their type + 10).
func txnLogView(t *testing.T, s *Store, name string, committed bool) ([]recordbatch.Record, map[int64]recordbatch.ControlType) {
	t.Helper()
	var out []recordbatch.Record
	markers := map[int64]recordbatch.ControlType{}
	for from := int64(0); ; {
		res, err := s.Read(ctx, name, 0, from, store.ReadLimits{Committed: committed})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Batches) == 0 {
			return out, markers
		}
		f := store.NewTxnFilter(res.Aborted)
		for _, b := range res.Batches {
			from = b.LastOffset + 1
			if err := recordbatch.VerifyCRC(b.Raw); err != nil {
				t.Fatalf("batch at %d: %v", b.BaseOffset, err)
			}
			info, err := recordbatch.Parse(b.Raw)
			if err != nil {
				t.Fatal(err)
			}
			if info.Control() {
				c, err := recordbatch.ParseControl(b.Raw)
				if err != nil {
					t.Fatal(err)
				}
				markers[b.BaseOffset] = c.Type + 10
			}
			if committed && f.Skip(info) || info.Control() {
				continue
			}
			_, recs, err := recordbatch.Decode(b.Raw)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, recs...)
		}
	}
}
