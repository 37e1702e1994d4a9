package itest

// KIP-848 consumer groups against the real binary: franz-go's next-gen
// consumers share a topic through a kill -9 and restart of the bridge, with
// the group settings given as serve flags; offsets of an empty group
// expire under a short --offsets-retention.

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKafka848Binary(t *testing.T) {
	needsBridge(t)
	k := startKafka(t, "--group-consumer-heartbeat-interval=300ms", "--group-consumer-session-timeout=4s")
	k.createTopic("k848", 4, nil)
	var addr atomic.Value
	addr.Store(k.addr)
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr.Load().(string))
	}
	produce := func(from, n int) {
		t.Helper()
		cl := k.client(kgo.Dialer(dial), kgo.DefaultProduceTopic("k848"))
		ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
		defer cancel()
		for i := from; i < from+n; i++ {
			if err := cl.ProduceSync(ctx, &kgo.Record{Key: fmt.Appendf(nil, "%d", i), Value: fmt.Appendf(nil, "v%d", i)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce(0, 200)
	var mu sync.Mutex
	seen := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		cl := k.client(kgo.Dialer(dial), kgo.ClientID(name), kgo.ConsumerGroup("g848"), kgo.ConsumeTopics("k848"),
			kgo.ServerSideBalancer(), kgo.Balancers(kgo.CooperativeStickyBalancer()),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AutoCommitInterval(200*time.Millisecond),
			kgo.FetchMaxWait(200*time.Millisecond))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
					mu.Lock()
					seen[string(r.Value)] = true
					mu.Unlock()
				})
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	waitSeen := func(n int) {
		t.Helper()
		deadline := time.Now().Add(kafkaTimeout)
		for {
			mu.Lock()
			got := len(seen)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("consumed %d distinct records, want %d", got, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitSeen(200)
	// One member may have read everything while the other still
	// reconciles: wait for the group to settle with both.
	adm := k.admin()
	settle := time.Now().Add(kafkaTimeout)
	for {
		d, err := adm.DescribeConsumerGroups(context.Background(), "g848")
		if err == nil && len(d["g848"].Members) == 2 && d["g848"].State == "Stable" {
			break
		}
		if time.Now().After(settle) {
			t.Fatalf("described: %+v %v", d["g848"], err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	k.kill9()
	k.restart()
	addr.Store(k.addr)
	produce(200, 200)
	waitSeen(400)
	cl := k.client(kgo.Dialer(dial))
	deadline := time.Now().Add(kafkaTimeout)
	for {
		os, err := kadm.NewClient(cl).FetchOffsets(context.Background(), "g848")
		n := int64(0)
		if err == nil {
			for _, o := range os["k848"] {
				n += o.At
			}
		}
		if n == 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("commits add up to %d, want 400 (%v)", n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestKafkaOffsetsRetentionBinary(t *testing.T) {
	needsBridge(t)
	k := startKafka(t, "--offsets-retention=1s", "--offsets-retention-check-interval=200ms")
	k.createTopic("ret", 1, nil)
	adm := k.admin()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	os := make(kadm.Offsets)
	os.Add(kadm.Offset{Topic: "ret", Partition: 0, At: 5, LeaderEpoch: -1})
	if r, err := adm.CommitOffsets(ctx, "short-lived", os); err != nil || r.Error() != nil {
		t.Fatalf("commit: %v %v", err, r.Error())
	}
	for {
		ls, err := adm.ListGroups(ctx)
		if err == nil && len(ls) == 0 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("the group's offsets never expired: %v %v", ls, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
