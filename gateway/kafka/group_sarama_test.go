package kafka

// Consumer groups driven by sarama's ConsumerGroup, at an old protocol
// level (Kafka 1.1: JoinGroup v2, OffsetCommit v3, ...) and recent ones, with
// its range, round-robin and sticky strategies.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

type saramaHandler struct{ s *seen }

func (saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h saramaHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for msg := range claim.Messages() {
		h.s.add(string(msg.Value))
		sess.MarkMessage(msg, "")
	}
	return nil
}

// saramaMember runs a sarama group consumer until stopped.
type saramaMember struct {
	cg     sarama.ConsumerGroup
	cancel context.CancelFunc
	done   chan struct{}
}

func startSaramaMember(t *testing.T, addr, group, topic string, version sarama.KafkaVersion, strategy sarama.BalanceStrategy, s *seen) *saramaMember {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = version
	cfg.ClientID = "sarama-group-test"
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 200 * time.Millisecond
	cfg.Consumer.Group.Session.Timeout = 3 * time.Second
	cfg.Consumer.Group.Heartbeat.Interval = 300 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Timeout = 10 * time.Second
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{strategy}
	cfg.Consumer.MaxWaitTime = 200 * time.Millisecond
	cfg.Metadata.RefreshFrequency = time.Second
	cg, err := sarama.NewConsumerGroup([]string{addr}, group, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &saramaMember{cg: cg, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, saramaHandler{s}); err != nil {
				if errors.Is(err, sarama.ErrClosedConsumerGroup) {
					return
				}
				t.Logf("sarama consume: %v", err)
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	go func() {
		for err := range cg.Errors() {
			t.Logf("sarama group error: %v", err)
		}
	}()
	t.Cleanup(m.stop)
	return m
}

// stop leaves the group (committing what was marked) and waits.
func (m *saramaMember) stop() {
	select {
	case <-m.done:
		return
	default:
	}
	m.cancel()
	_ = m.cg.Close()
	<-m.done
}

func TestGroupSarama(t *testing.T) {
	cases := []struct {
		version  sarama.KafkaVersion
		strategy sarama.BalanceStrategy
	}{
		{sarama.V1_1_0_0, sarama.NewBalanceStrategyRange()},
		{sarama.V2_8_0_0, sarama.NewBalanceStrategyRoundRobin()},
		{sarama.V3_6_0_0, sarama.NewBalanceStrategySticky()},
	}
	for _, tc := range cases {
		t.Run(tc.version.String()+"-"+tc.strategy.Name(), func(t *testing.T) {
			ts := startGroupServer(t, "", fastGroups)
			ts.createTopic(t, "st", 4)
			ts.produceNumbered(t, "st", 0, 200)
			s := newSeen()
			a := startSaramaMember(t, ts.addr, "sg", "st", tc.version, tc.strategy, s)
			b := startSaramaMember(t, ts.addr, "sg", "st", tc.version, tc.strategy, s)
			s.waitFor(t, 0, 200, time.Minute)
			ctx := testContext(t)
			adm := ts.admin(t)
			waitFor(t, "two members sharing the four partitions", func() bool {
				dg, err := adm.DescribeGroups(ctx, "sg")
				g := dg["sg"]
				if err != nil || g.State != "Stable" || len(g.Members) != 2 {
					return false
				}
				return len(g.AssignedPartitions()["st"]) == 4
			})

			// One leaves; the other takes everything.
			b.stop()
			ts.produceNumbered(t, "st", 200, 200)
			s.waitFor(t, 0, 400, time.Minute)

			// All leave after committing; a new member resumes there.
			a.stop()
			waitFor(t, "commits of everything", func() bool {
				os, err := adm.FetchOffsets(ctx, "sg")
				if err != nil {
					return false
				}
				n := int64(0)
				for _, o := range os["st"] {
					n += o.At
				}
				return n == 400
			})
			ts.produceNumbered(t, "st", 400, 100)
			s2 := newSeen()
			startSaramaMember(t, ts.addr, "sg", "st", tc.version, tc.strategy, s2)
			s2.waitFor(t, 400, 500, time.Minute)
			if n := s2.distinct(); n != 100 {
				t.Fatalf("the resumed member read %d distinct records, want the 100 new ones", n)
			}
		})
	}
}
