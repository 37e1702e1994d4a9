package itest

// A mixed group against the real binary (KIP-848 online upgrade and
// downgrade): a confluent-kafka (librdkafka) classic consumer and a
// franz-go classic consumer share a topic with cooperative-sticky (and, in
// a second run without the kill, eager range); a
// franz-go KIP-848 consumer joins (the group is upgraded and the three
// share it), the bridge is SIGKILLed and restarted (the mixed group comes
// back), then the KIP-848 consumer leaves (the group is classic again and
// the two share it). Every record is read and the commits end at the end
// offsets.

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKafkaMixedGroupBinary(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		kill     bool
	}{{"cooperative-sticky", true}, {"range", false}} {
		t.Run(tc.strategy, func(t *testing.T) { mixedGroupBinary(t, tc.strategy, tc.kill) })
	}
}

// mixedGroupBinary runs the mixed group with the classic consumers on
// strategy (cooperative-sticky or eager range), with a kill -9 of the
// bridge while the group is upgraded if kill is set.
func mixedGroupBinary(t *testing.T, strategy string, kill bool) {
	needsBridge(t)
	gc := groupClients[2] // confluent-kafka
	need(t, gc.name, gc.check, gc.install)
	balancer := kgo.CooperativeStickyBalancer()
	if strategy == "range" {
		balancer = kgo.RangeBalancer()
	}
	k := startKafka(t, "--kafka-addr", "127.0.0.1:"+freePort(t), // the same port after the kill
		"--group-consumer-heartbeat-interval=300ms", "--group-consumer-session-timeout=6s",
		"--group-consumer-migration-policy=bidirectional")
	topic, group := "mixed", "mixed-group"
	k.createTopic(topic, 6, nil)
	k.produceValues(topic, 0, 300)
	ta := newTally()

	// kgoMember runs a franz-go consumer of the group until its stop.
	kgoMember := func(id string, opts ...kgo.Opt) (stop func()) {
		cl := k.client(append([]kgo.Opt{kgo.ClientID(id), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AutoCommitInterval(200 * time.Millisecond),
			kgo.FetchMaxWait(200 * time.Millisecond), kgo.SessionTimeout(6 * time.Second),
			kgo.HeartbeatInterval(500 * time.Millisecond)}, opts...)...)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ctx.Err() == nil {
				cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { ta.add(string(r.Value)) })
			}
		}()
		stopped := false
		stop = func() {
			if stopped {
				return
			}
			stopped = true
			cancel()
			<-done
			cl.Close() // commits and leaves
		}
		t.Cleanup(stop)
		return stop
	}

	cf := startMember(t, gc, k.addr, topic, group, "mix-cf", strategy, ta)
	stopKC := kgoMember("mix-kc", kgo.Balancers(balancer))
	ta.waitAll(t, 0, 300, cf)
	k.waitGroup(group, topic, 6, 3, "mix-cf", "mix-kc")

	// Upgrade: a KIP-848 member joins; the three share the topic.
	stopK8 := kgoMember("mix-k8", kgo.ServerSideBalancer(), kgo.Balancers(kgo.CooperativeStickyBalancer()))
	waitUpgraded := func() {
		t.Helper()
		adm := k.admin()
		deadline := time.Now().Add(kafkaTimeout)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			d, err := adm.DescribeConsumerGroups(ctx, group)
			cancel()
			g := d[group]
			ok := err == nil && g.Err == nil && g.State == "Stable" && len(g.Members) == 3
			for _, m := range g.Members {
				n := 0
				for _, ps := range m.Assignment {
					n += len(ps)
				}
				ok = ok && n == 2
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the upgraded group never settled with three members two partitions each: %+v %v", g, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitUpgraded()
	k.produceValues(topic, 300, 600)
	ta.waitAll(t, 0, 600, cf)

	// kill -9 and a restart: the mixed group comes back and carries on.
	if kill {
		k.kill9()
		k.restart()
		waitUpgraded()
	}
	k.produceValues(topic, 600, 900)
	ta.waitAll(t, 0, 900, cf)

	// Downgrade: it leaves; a classic group again, the two share it.
	stopK8()
	k.waitGroup(group, topic, 6, 3, "mix-cf", "mix-kc")
	k.produceValues(topic, 900, 1200)
	ta.waitAll(t, 0, 1200, cf)
	cf.stop(t)
	stopKC()
	k.waitCommitted(group, topic)
}
