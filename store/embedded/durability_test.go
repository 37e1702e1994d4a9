package embedded

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// The durability test runs this test binary as a child that appends as fast
// as it can and prints each acknowledged batch, kills it with SIGKILL at a
// random moment, and repeats on the same directory. Afterwards every
// acknowledged record must be where its acknowledgement said, every
// partition must be dense from offset 0, nothing duplicated, every batch's
// CRC intact. Rounds 2 to 5 write encrypted at rest, so the same holds
// for sealed batches and their data keys.

const childEnv = "BRIDGE_STORE_DURABILITY_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		durabilityChild(dir, os.Getenv("BRIDGE_ROUND"))
		os.Exit(0)
	}
	if dir := os.Getenv(txnChildEnv); dir != "" {
		txnChild(dir)
		os.Exit(0)
	}
	if dir := os.Getenv(objectsChildEnv); dir != "" {
		objectsChild(dir, os.Getenv("BRIDGE_ROUND"))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// durabilityKeys is the keyring of the child and of the check: rounds 2 to
// 5 append to the stream encrypted at rest, under key "a" then "b".
func durabilityKeys() *testKeyring { return fixedTestKeyring("a", "b") }

func durabilityKeyID(round string) string {
	switch round {
	case "2", "3":
		return "a"
	case "4", "5":
		return "b"
	}
	return ""
}

// durabilityChild appends forever from several goroutines; round 3 also
// splits a shard while appends run. Each ack line is
// "ack <partition> <base> <last> <tag>"; record i of the batch has value
// "<tag>/<i>" padded to about 1 KiB.
func durabilityChild(dir, round string) {
	s, err := Open(Options{Dir: dir, Keyring: durabilityKeys(), Fsync: childFsync(), FsyncInterval: time.Hour})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := s.DescribeStream(context.Background(), "d"); err != nil {
		if _, err := s.CreateStream(context.Background(), store.StreamConfig{Name: "d", ShardCount: 4}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if _, err := s.UpdateStream(context.Background(), "d", func(st *store.Stream) error {
		st.Encryption.KeyID = durabilityKeyID(round)
		return nil
	}); err != nil {
		fmt.Fprintln(os.Stderr, "encryption:", err)
		os.Exit(2)
	}
	var out sync.Mutex
	pad := strings.Repeat("x", 1000)
	for g := 0; g < 8; g++ {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for n := 0; ; n++ {
				st, _ := s.DescribeStream(context.Background(), "d")
				p := int32(rng.IntN(len(st.Partitions)))
				if st.Partitions[p].Retired {
					continue
				}
				tag := fmt.Sprintf("r%s-g%d-n%d", round, g, n)
				recs := make([]recordbatch.Record, 1+rng.IntN(20))
				for i := range recs {
					recs[i] = recordbatch.Record{Key: []byte(tag), Value: fmt.Appendf(nil, "%s/%d/%s", tag, i, pad), Timestamp: time.Now()}
				}
				raw, _ := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{Codec: recordbatch.Codec(rng.IntN(2) * 4)})
				res, err := s.AppendBatch(context.Background(), "d", p, raw, store.AppendOptions{})
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(3)
				}
				out.Lock()
				fmt.Fprintf(os.Stdout, "ack %d %d %d %s\n", p, res.BaseOffset, res.LastOffset, tag)
				out.Unlock()
			}
		}()
	}
	if round == "3" {
		time.Sleep(20 * time.Millisecond)
		if _, err := s.SplitShard(context.Background(), "d", 1, mapping.EvenSplit(8)[3].Start); err != nil {
			fmt.Fprintln(os.Stderr, "split:", err)
			os.Exit(4)
		}
		out.Lock()
		fmt.Fprintln(os.Stdout, "split")
		out.Unlock()
	}
	select {}
}

type ack struct {
	partition  int32
	base, last int64
	tag        string
}

// fsyncEnv passes the durability mode to the children. Under FsyncOS they
// run with an hour between background fsyncs, so what survives the kill is
// what was written to the kernel before the acknowledgement.
const fsyncEnv = "BRIDGE_STORE_FSYNC"

func childFsync() Fsync {
	m, err := ParseFsync(os.Getenv(fsyncEnv))
	if err != nil {
		return FsyncAlways
	}
	return m
}

var fsyncModes = []Fsync{FsyncAlways, FsyncOS}

func TestAcknowledgedAppendsSurviveSIGKILL(t *testing.T) {
	for _, mode := range fsyncModes {
		t.Run(mode.String(), func(t *testing.T) { testAppendsSurviveSIGKILL(t, mode) })
	}
}

func testAppendsSurviveSIGKILL(t *testing.T, mode Fsync) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	var acks []ack
	for round := 1; round <= 8; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+dir, "BRIDGE_ROUND="+strconv.Itoa(round), fsyncEnv+"="+mode.String())
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 1 + rng.IntN(400)
		sc := bufio.NewScanner(stdout)
		n, splitDone := 0, round != 3
		for sc.Scan() {
			if sc.Text() == "split" {
				splitDone = true
				continue
			}
			var a ack
			if _, err := fmt.Sscanf(sc.Text(), "ack %d %d %d %s", &a.partition, &a.base, &a.last, &a.tag); err != nil {
				t.Fatalf("child said %q: %v", sc.Text(), err)
			}
			acks = append(acks, a)
			if n++; killAfter > 0 && n >= killAfter && splitDone {
				killAfter = 0 // once
				// Kill at a random moment, not right after an ack line.
				time.AfterFunc(time.Duration(rng.IntN(3000))*time.Microsecond, func() {
					cmd.Process.Signal(syscall.SIGKILL)
				})
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended without SIGKILL: %v", round, err)
		}
		t.Logf("round %d: %d acknowledged batches so far", round, len(acks))
	}

	s, err := Open(Options{Dir: dir, Keyring: durabilityKeys()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.DescribeStream(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Partitions) != 5 {
		t.Fatalf("split of round 3 lost: %d partitions", len(st.Partitions))
	}
	stored := map[int32][]recordbatch.Record{}
	seen := map[string]bool{}
	for p := range st.Partitions {
		recs := readAll(t, s, "d", int32(p), 0) // checks CRCs
		for i, r := range recs {
			if r.Offset != int64(i) {
				t.Fatalf("partition %d: offset %d at position %d (hole or reorder)", p, r.Offset, i)
			}
			id := strings.SplitN(string(r.Value), "/", 3)
			if len(id) != 3 || !strings.HasPrefix(id[2], "xxx") {
				t.Fatalf("partition %d offset %d: torn value %.40q", p, i, r.Value)
			}
			if seen[id[0]+"/"+id[1]] {
				t.Fatalf("partition %d offset %d: duplicate %s/%s", p, i, id[0], id[1])
			}
			seen[id[0]+"/"+id[1]] = true
		}
		stored[int32(p)] = recs
	}
	for _, a := range acks {
		recs := stored[a.partition]
		for off := a.base; off <= a.last; off++ {
			want := fmt.Sprintf("%s/%d/", a.tag, off-a.base)
			if off >= int64(len(recs)) || !strings.HasPrefix(string(recs[off].Value), want) {
				t.Fatalf("acknowledged record %s at %d/%d is missing or different", want, a.partition, off)
			}
		}
	}
	encrypted := 0
	for p := range st.Partitions {
		for off := int64(0); ; {
			res, err := s.Read(context.Background(), "d", int32(p), off, store.ReadLimits{})
			if err != nil || len(res.Batches) == 0 {
				break
			}
			for _, b := range res.Batches {
				if b.Encrypted {
					encrypted++
				}
				off = b.LastOffset + 1
			}
		}
	}
	if encrypted == 0 {
		t.Error("no batch is stored encrypted: rounds 2 to 5 did not encrypt")
	}
	t.Logf("%d acknowledged batches verified over %d records, %d batches encrypted at rest", len(acks), len(seen), encrypted)
}
