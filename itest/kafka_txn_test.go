package itest

// Transactions through the real binary: confluent-kafka's transactional
// API in a consume-transform-produce loop (python/txn_confluent.py), run
// to the end, and killed at random points (the client, and the bridge
// itself) and started again. Every input record must come out exactly once
// to a read_committed consumer, and the group's offsets must end at the
// end of the input.
//
// The killed loop needs the log side of transactions (aborted records
// hidden from read_committed consumers, the txnlog work): without it the
// records of the transactions aborted by the kills show up too.

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// txnLoop is one run of python/txn_confluent.py.
type txnLoop struct {
	cmd    *exec.Cmd
	done   chan struct{}
	mu     sync.Mutex
	out    bytes.Buffer
	stderr bytes.Buffer
}

func startTxnLoop(t *testing.T, addr, in, out, group, txnID string) *txnLoop {
	t.Helper()
	cmd := exec.Command(systemPython, "python/txn_confluent.py", "--bootstrap", addr, "--in", in, "--out", out, "--group", group, "--txn-id", txnID)
	cmd.Env = append(cleanEnv(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONPATH=")
	l := &txnLoop{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout = lockedBuffer{&l.mu, &l.out}
	cmd.Stderr = lockedBuffer{&l.mu, &l.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(l.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-l.done
		if t.Failed() {
			t.Logf("txn loop stdout:\n%s\nstderr:\n%s", tail(l.out.String(), 2000), tail(l.stderr.String(), 3000))
		}
	})
	return l
}

func (l *txnLoop) kill9() {
	_ = l.cmd.Process.Kill()
	<-l.done
}

func (l *txnLoop) stop(t *testing.T) {
	t.Helper()
	_ = l.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-l.done:
	case <-time.After(kafkaTimeout):
		t.Fatal("the transactional loop did not stop on SIGTERM")
	}
}

// committedSum is the sum of group's committed offsets on topic.
func committedSum(t *testing.T, adm *kadm.Client, group, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.At > 0 {
			sum += o.At
		}
	})
	return sum
}

// waitCommitted waits for the group's offsets to reach n in all.
func waitCommitted(t *testing.T, k *kafkaCluster, group, topic string, n int64) {
	t.Helper()
	adm := k.admin()
	deadline := time.Now().Add(kafkaTimeout)
	for committedSum(t, adm, group, topic) != n {
		if time.Now().After(deadline) {
			t.Fatalf("group %s committed %d of %d offsets of %s", group, committedSum(t, adm, group, topic), n, topic)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitCommittedPast waits for the group's offsets to pass n in all.
func waitCommittedPast(t *testing.T, k *kafkaCluster, group, topic string, n int64) {
	t.Helper()
	adm := k.admin()
	deadline := time.Now().Add(kafkaTimeout)
	for committedSum(t, adm, group, topic) < n {
		if time.Now().After(deadline) {
			t.Fatalf("group %s committed %d offsets of %s, waiting for %d", group, committedSum(t, adm, group, topic), topic, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readCommitted reads topic with a read_committed consumer until it has
// seen n distinct values and a poll brings nothing more, and counts each.
func readCommitted(t *testing.T, k *kafkaCluster, topic string, n int) map[string]int {
	t.Helper()
	cl := k.client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	counts := map[string]int{}
	deadline := time.Now().Add(kafkaTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) { counts[string(r.Value)]++ })
		if len(fs.Records()) == 0 && len(counts) >= n {
			return counts
		}
	}
	t.Fatalf("read %d distinct values of %s, want %d", len(counts), topic, n)
	return nil
}

func produceInput(t *testing.T, k *kafkaCluster, topic string, n int) {
	t.Helper()
	cl := k.client(kgo.DefaultProduceTopic(topic))
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	var rs []*kgo.Record
	for i := range n {
		rs = append(rs, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte("v" + strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func checkExactlyOnce(t *testing.T, counts map[string]int, n int) {
	t.Helper()
	var missing, dup []string
	for i := range n {
		v := "out-v" + strconv.Itoa(i)
		switch c := counts[v]; {
		case c == 0:
			missing = append(missing, v)
		case c > 1:
			dup = append(dup, fmt.Sprintf("%s×%d", v, c))
		}
	}
	if len(missing) > 0 || len(dup) > 0 || len(counts) != n {
		t.Errorf("output: %d distinct values; missing %d %v; duplicated %d %v", len(counts), len(missing), head(missing), len(dup), head(dup))
	}
}

func head(s []string) []string { return s[:min(len(s), 10)] }

// A transactional loop run to the end: each input record out once, the
// group's offsets at the end of the input.
func TestKafkaTxnConfluent(t *testing.T) {
	need(t, "confluent-kafka", checkConfluent, installConfluent)
	k := startKafka(t)
	const n = 300
	k.createTopic("txn-in", 3, nil)
	k.createTopic("txn-out", 2, nil)
	produceInput(t, k, "txn-in", n)
	l := startTxnLoop(t, k.addr, "txn-in", "txn-out", "txn-group", "txn-etl")
	waitCommitted(t, k, "txn-group", "txn-in", n)
	l.stop(t)
	checkExactlyOnce(t, readCommitted(t, k, "txn-out", n), n)
}

// The same loop SIGKILLed at random points, three times, and the bridge
// SIGKILLed once under it; each time the loop starts again (its
// init_transactions fences and aborts what the dead one left open). With
// read_committed consumers the output is still each input record once.
func TestKafkaTxnConfluentKilled(t *testing.T) {
	need(t, "confluent-kafka", checkConfluent, installConfluent)
	needsBridge(t)
	k := startKafka(t)
	const n = 6000
	k.createTopic("txk-in", 3, nil)
	k.createTopic("txk-out", 2, nil)
	produceInput(t, k, "txk-in", n)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := range 4 {
		l := startTxnLoop(t, k.addr, "txk-in", "txk-out", "txk-group", "txk-etl")
		// Kill it mid-stream: once it has committed past this round's
		// share, at a random moment after.
		waitCommittedPast(t, k, "txk-group", "txk-in", int64(round+1)*n/6)
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		if round == 2 {
			k.kill9()
			l.kill9()
			k.restart()
			continue
		}
		l.kill9()
		t.Logf("round %d: killed the loop at %d committed", round, committedSum(t, k.admin(), "txk-group", "txk-in"))
	}
	l := startTxnLoop(t, k.addr, "txk-in", "txk-out", "txk-group", "txk-etl")
	waitCommitted(t, k, "txk-group", "txk-in", n)
	l.stop(t)
	checkExactlyOnce(t, readCommitted(t, k, "txk-out", n), n)
}
