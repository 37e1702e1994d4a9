package itest

// Transactions through the real binary: confluent-kafka's transactional
// API in a consume-transform-produce loop (python/txn_confluent.py), run
// to the end, and killed at random points (the client, and the bridge
// itself) and started again. Every input record must come out exactly once
// to a read_committed consumer, and the group's offsets must end at the
// end of the input.
//
// The killed loops check exactly once twice: from the markers in the log
// (committedByMarkers: the coordinator's side, which transactions
// committed), and as a read_committed consumer sees it, which needs the
// log side of transactions (aborted records hidden, the txnlog work):
// without it the records of the transactions the kills aborted show up.

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
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/streambridge/bridge/mapping/recordbatch"
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
	// The coordinator's side, decided from the markers in the log.
	checkExactlyOnce(t, committedByMarkers(t, k, "txk-out"), n)
	// What read_committed consumers see (needs the log side).
	checkExactlyOnce(t, readCommitted(t, k, "txk-out", n), n)
}

// runSession runs a franz-go GroupTransactSession loop (in -> "out-" +
// value -> out, offsets committed in the transactions) until ctx ends.
func runSession(ctx context.Context, t *testing.T, addr, in, out, group, txnID string) (done chan struct{}) {
	done = make(chan struct{})
	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(addr),
		kgo.TransactionalID(txnID),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(in),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DefaultProduceTopic(out),
		kgo.SessionTimeout(6*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(done)
		defer sess.Close()
		for ctx.Err() == nil {
			fs := sess.PollRecords(ctx, 50)
			if ctx.Err() != nil {
				return
			}
			if err := sess.Begin(); err != nil {
				t.Logf("begin: %v", err)
				return
			}
			fs.EachRecord(func(r *kgo.Record) {
				sess.Produce(ctx, &kgo.Record{Key: r.Key, Value: append([]byte("out-"), r.Value...)}, nil)
			})
			if _, err := sess.End(ctx, kgo.TryCommit); err != nil {
				t.Logf("end: %v", err)
			}
		}
	}()
	return done
}

// The franz-go GroupTransactSession loop with the bridge SIGKILLed under it
// twice (the loop's clients are started again against the new bridge, as
// a process restarted with it would be). Every input record comes out
// once to a read_committed consumer; the group's offsets end at the end
// of the input.
func TestKafkaTxnGroupSessionKilled(t *testing.T) {
	needsBridge(t)
	k := startKafka(t)
	const n = 6000
	k.createTopic("tgs-in", 3, nil)
	k.createTopic("tgs-out", 2, nil)
	produceInput(t, k, "tgs-in", n)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for round := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		done := runSession(ctx, t, k.addr, "tgs-in", "tgs-out", "tgs-group", "tgs-etl")
		waitCommittedPast(t, k, "tgs-group", "tgs-in", int64(round+1)*n/4)
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		k.kill9()
		cancel()
		<-done
		t.Logf("round %d: killed the bridge", round)
		k.restart()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := runSession(ctx, t, k.addr, "tgs-in", "tgs-out", "tgs-group", "tgs-etl")
	waitCommitted(t, k, "tgs-group", "tgs-in", n)
	cancel()
	<-done
	// The coordinator's side, decided from the markers in the log.
	checkExactlyOnce(t, committedByMarkers(t, k, "tgs-out"), n)
	// What read_committed consumers see (needs the log side).
	checkExactlyOnce(t, readCommitted(t, k, "tgs-out", n), n)
}

// committedByMarkers reads every partition of topic raw (read_uncommitted
// Fetch) and counts the values a read_committed reader must see, deciding
// from the markers the coordinator wrote: a transactional batch's records
// count once its producer's next marker is COMMIT, not when it is ABORT or
// missing (still open). This checks the coordinator's side of exactly
// once (which transactions committed, and their markers) whether or not
// the log side hides aborted records from read_committed fetches.
func committedByMarkers(t *testing.T, k *kafkaCluster, topic string) map[string]int {
	t.Helper()
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(int16(kmsg.Fetch), 11) // topic names, not ids (v13+)
	cl := k.client(kgo.MaxVersions(versions))
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	counts := map[string]int{}
	for p, end := range k.endOffsets(topic) {
		open := map[int64][]string{} // producer id -> values of its open transaction
		for off := int64(0); off < end; {
			req := kmsg.NewPtrFetchRequest()
			req.Version, req.MaxWaitMillis, req.MaxBytes, req.ReplicaID = 11, 100, 4<<20, -1
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = p, off, 1<<20, -1
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			fp := resp.Topics[0].Partitions[0]
			if fp.ErrorCode != 0 {
				t.Fatalf("fetch %s/%d@%d: %v", topic, p, off, kerr.ErrorForCode(fp.ErrorCode))
			}
			batches, err := recordbatch.Split(fp.RecordBatches)
			if err != nil {
				t.Fatal(err)
			}
			if len(batches) == 0 {
				t.Fatalf("fetch %s/%d@%d: nothing below the end %d", topic, p, off, end)
			}
			for _, b := range batches {
				info, recs, err := recordbatch.Decode(b)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case info.Control():
					ctl, err := recordbatch.ParseControl(b)
					if err != nil {
						t.Fatal(err)
					}
					if ctl.Type == recordbatch.ControlCommit {
						for _, v := range open[info.ProducerID] {
							counts[v]++
						}
					}
					delete(open, info.ProducerID)
				case info.Transactional():
					for _, r := range recs {
						open[info.ProducerID] = append(open[info.ProducerID], string(r.Value))
					}
				default:
					for _, r := range recs {
						counts[string(r.Value)]++
					}
				}
				off = info.BaseOffset + int64(info.LastOffsetDelta) + 1
			}
		}
	}
	return counts
}
