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
	type acked struct{ key, value string }
	acks := map[int64]acked{}
	for round := 1; round <= 4; round++ {
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
				off        int64
				key, value string
			)
			if _, err := fmt.Sscanf(sc.Text(), "ack %d %s %s", &off, &key, &value); err != nil {
				t.Fatalf("child said %q: %v", sc.Text(), err)
			}
			acks[off] = acked{key, value}
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
	check := func() {
		t.Helper()
		recs := readAll(t, s, "c", 0, 0) // checks CRCs
		latestRead := map[string]int64{}
		for i, r := range recs {
			if i > 0 && r.Offset <= recs[i-1].Offset {
				t.Fatalf("offset %d after %d", r.Offset, recs[i-1].Offset)
			}
			id, _, _ := strings.Cut(string(r.Value), "/")
			if a, ok := acks[r.Offset]; ok && (a.key != string(r.Key) || a.value != id) {
				t.Fatalf("offset %d holds %s=%s, acknowledged %s=%s", r.Offset, r.Key, id, a.key, a.value)
			}
			latestRead[string(r.Key)] = r.Offset + 1
		}
		latestAcked := map[string]int64{}
		for off, a := range acks {
			latestAcked[a.key] = max(latestAcked[a.key], off+1)
		}
		for k, off := range latestAcked {
			if latestRead[k] < off {
				t.Fatalf("key %s: latest acknowledged record at %d lost (latest read %d)", k, off-1, latestRead[k]-1)
			}
		}
		if size, _ := s.Size(ctx, "c", 0); size != storedBytes(t, s, "c") {
			t.Fatalf("size %d, stored %d", size, storedBytes(t, s, "c"))
		}
		t.Logf("%d records read, %d acknowledged", len(recs), len(acks))
	}
	check()
	// A last clean, to the newest batch, leaves each key once below it.
	for range 3 {
		if err := s.Compact(ctx); err != nil {
			t.Fatal(err)
		}
	}
	check()
	recs := readAll(t, s, "c", 0, 0)
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
		}
	}
}
