package kafka

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestDescribeProducers: kadm sees an idempotent producer's epoch and last
// sequence and an open transaction's start offset; an unknown partition is
// UNKNOWN_TOPIC_OR_PARTITION.
func TestDescribeProducers(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "dp", 2)
	c := dialRaw(t, ts.addr)
	idem, idemEpoch := initProducerID(t, c)
	if code, _ := produceSeq(t, c, "dp", idem, idemEpoch, 0, 3); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	txn, txnEpoch := initProducerID(t, c)
	start := ts.txnAppend(t, "dp", txn, txnEpoch, 0, "t0", "t1").BaseOffset

	adm := kadm.NewClient(ts.client(t))
	ctx := testContext(t)
	described, err := adm.DescribeProducers(ctx, kadm.TopicsSet{"dp": {0: {}, 1: {}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]kadm.DescribedProducer{}
	described.EachPartition(func(p kadm.DescribedProducersPartition) {
		if p.Err != nil {
			t.Errorf("partition %d: %v", p.Partition, p.Err)
		}
		for _, ap := range p.ActiveProducers {
			if p.Partition != 0 {
				t.Errorf("producer %d on partition %d", ap.ProducerID, p.Partition)
			}
			got[ap.ProducerID] = ap
		}
	})
	if p := got[idem]; p.ProducerEpoch != idemEpoch || p.LastSequence != 2 || p.CurrentTxnStartOffset != -1 || p.LastTimestamp != -1 {
		t.Errorf("idempotent producer: %+v", p)
	}
	if p := got[txn]; p.ProducerEpoch != txnEpoch || p.CurrentTxnStartOffset != start {
		t.Errorf("transactional producer: %+v, want start %d", p, start)
	}
	if len(got) != 2 {
		t.Errorf("%d producers: %+v", len(got), got)
	}

	req := kmsg.NewPtrDescribeProducersRequest()
	for _, topic := range []string{"dp", "nope"} {
		rt := kmsg.NewDescribeProducersRequestTopic()
		rt.Topic = topic
		rt.Partitions = []int32{7}
		req.Topics = append(req.Topics, rt)
	}
	resp := c.roundTrip(t, req).(*kmsg.DescribeProducersResponse)
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.Partitions[0].ErrorCode); !errors.Is(err, kerr.UnknownTopicOrPartition) {
			t.Errorf("%s/7: %v, want UNKNOWN_TOPIC_OR_PARTITION", rt.Topic, err)
		}
	}
}
