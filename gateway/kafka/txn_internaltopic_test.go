package kafka

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// __transaction_state is listed through kadm as Kafka lists it: internal,
// 50 partitions, a stable id distinct from __consumer_offsets', an empty
// log, cleanup.policy=compact; the calls that would change it are refused
// as for __consumer_offsets, and it never becomes a store stream, even
// once transactions ran.
func TestTxnStateInternalTopic(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "x", 1)
	runTxn(t, ts, "tx", kgo.TryCommit) // creates the topic on Kafka; nothing here
	adm := kadm.NewClient(ts.client(t))
	ctx := testContext(t)

	td, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if td.Has(txnStateTopic) {
		t.Errorf("ListTopics lists %s", txnStateTopic)
	}
	if td, err = adm.ListTopicsWithInternal(ctx); err != nil {
		t.Fatal(err)
	}
	d := td[txnStateTopic]
	if !d.IsInternal || len(d.Partitions) != txnStateTopicPartitions || d.Err != nil {
		t.Fatalf("ListTopicsWithInternal: %+v", d)
	}
	if d.ID != topicID(internalTopicStream(txnStateTopic)) || d.ID == td[offsetsTopic].ID {
		t.Errorf("topic id %v: want the view's, not __consumer_offsets' %v", d.ID, td[offsetsTopic].ID)
	}

	for _, tc := range []struct {
		name string
		list func() (kadm.ListedOffsets, error)
	}{
		{"start", func() (kadm.ListedOffsets, error) { return adm.ListStartOffsets(ctx, txnStateTopic) }},
		{"end", func() (kadm.ListedOffsets, error) { return adm.ListEndOffsets(ctx, txnStateTopic) }},
	} {
		t.Run("offsets/"+tc.name, func(t *testing.T) {
			lo, err := tc.list()
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			lo.Each(func(o kadm.ListedOffset) {
				n++
				if o.Err != nil || o.Offset != 0 {
					t.Errorf("%s[%d]: %d, %v", o.Topic, o.Partition, o.Offset, o.Err)
				}
			})
			if n != txnStateTopicPartitions {
				t.Errorf("%d partitions", n)
			}
		})
	}

	rc, err := adm.DescribeTopicConfigs(ctx, txnStateTopic)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := rc.On(txnStateTopic, nil)
	if err != nil || cfg.Err != nil {
		t.Fatalf("DescribeConfigs: %v %v", err, cfg.Err)
	}
	policy := ""
	for _, c := range cfg.Configs {
		if c.Key == cfgCleanupPolicy && c.Value != nil {
			policy = *c.Value
		}
	}
	if policy != "compact" {
		t.Errorf("cleanup.policy %q, want compact", policy)
	}

	refusals := []struct {
		name string
		do   func() error
		want *kerr.Error
	}{
		{"produce", func() error {
			return ts.client(t).ProduceSync(ctx, &kgo.Record{Topic: txnStateTopic, Value: []byte("x")}).FirstErr()
		}, kerr.InvalidTopicException},
		{"create", func() error {
			r, err := adm.CreateTopic(ctx, 1, 1, nil, txnStateTopic)
			if err != nil {
				return err
			}
			return r.Err
		}, kerr.TopicAlreadyExists},
		{"delete", func() error {
			r, err := adm.DeleteTopic(ctx, txnStateTopic)
			if err != nil {
				return err
			}
			return r.Err
		}, kerr.InvalidTopicException},
		{"create partitions", func() error {
			r, err := adm.CreatePartitions(ctx, 1, txnStateTopic)
			if err != nil {
				return err
			}
			return r[txnStateTopic].Err
		}, kerr.InvalidTopicException},
	}
	for _, tc := range refusals {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			if err := tc.do(); !errors.Is(err, tc.want) {
				t.Errorf("%v, want %v", err, tc.want)
			}
		})
	}
	if _, err := ts.store.DescribeStream(ctx, txnStateTopic); err == nil {
		t.Fatalf("%s became a store stream", txnStateTopic)
	}
}
