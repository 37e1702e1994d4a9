// DescribeProducers (key 61), version 0 (KIP-664; Kafka 3.9 and 4.x serve
// v0 only): per partition, the producers with state there, as
// kafka-transactions.sh describe-producers shows them to find a hanging
// transaction. The state is what the bridge keeps: idempotent producers'
// epochs and last sequences (producers.go, from the state area, so as
// durable as the batches they came with) and the log's open transactions
// (store.OpenTransactions: CurrentTxnStartOffset, else -1). LastTimestamp
// is -1 (the bridge does not keep a producer's last batch timestamp) and
// CoordinatorEpoch -1. Producer state never expires here (Kafka's
// producer.id.expiration.ms), so every producer that wrote since the topic
// was created is listed.
//
// Authorization: Read on the topic (TOPIC_AUTHORIZATION_FAILED), as Kafka.
// An unknown topic or partition gets UNKNOWN_TOPIC_OR_PARTITION.
package kafka

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.DescribeProducers, MinVersion: 0, MaxVersion: 0, Handle: handleDescribeProducers})
}

func handleDescribeProducers(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.DescribeProducersRequest)
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	s := r.Server
	for _, rt := range req.Topics {
		t := kmsg.NewDescribeProducersResponseTopic()
		t.Topic = rt.Topic
		allowed := r.topicAllowed(kmsg.ACLOperationRead, rt.Topic)
		var (
			st    store.Stream
			stErr error
		)
		if allowed {
			st, stErr = s.store.DescribeStream(ctx, rt.Topic)
		}
		for _, p := range rt.Partitions {
			rp := kmsg.NewDescribeProducersResponseTopicPartition()
			rp.Partition = p
			switch {
			case !allowed:
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case errors.Is(stErr, store.ErrStreamNotFound), stErr == nil && (p < 0 || int(p) >= len(st.Partitions)):
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case stErr != nil:
				rp.ErrorCode = errorCode(stErr)
			default:
				producers, err := s.describeProducers(ctx, st, p)
				if err != nil {
					rp.ErrorCode = errorCode(err)
					msg := err.Error()
					rp.ErrorMessage = &msg
					s.log.Warn("describe producers", "topic", rt.Topic, "partition", p, "err", err)
				}
				rp.ActiveProducers = producers
			}
			t.Partitions = append(t.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return Respond(resp), nil
}

// describeProducers lists a partition's producers by id.
func (s *Server) describeProducers(ctx context.Context, st store.Stream, partition int32) ([]kmsg.DescribeProducersResponseTopicPartitionActiveProducer, error) {
	byID := map[int64]*kmsg.DescribeProducersResponseTopicPartitionActiveProducer{}
	get := func(pid int64) *kmsg.DescribeProducersResponseTopicPartitionActiveProducer {
		ap := byID[pid]
		if ap == nil {
			v := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
			ap = &v
			ap.ProducerID, ap.LastSequence, ap.LastTimestamp, ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = pid, -1, -1, -1, -1
			byID[pid] = ap
		}
		return ap
	}
	id := topicID(st)
	prefix := hex.EncodeToString(id[:]) + "/" + strconv.Itoa(int(partition)) + "/"
	err := s.store.Scan(ctx, producerNamespace, prefix, func(key string, value []byte) error {
		pid, err := strconv.ParseInt(strings.TrimPrefix(key, prefix), 10, 64)
		if err != nil {
			return nil // not a producer key of this partition
		}
		e, ok := decodeProducerEntry(value)
		if !ok {
			return nil
		}
		ap := get(pid)
		ap.ProducerEpoch = int32(e.epoch)
		if n := len(e.batches); n > 0 {
			ap.LastSequence = e.batches[n-1].lastSeq
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	open, err := s.store.OpenTransactions(ctx, st.Name, partition)
	if err != nil {
		return nil, err
	}
	for _, o := range open {
		ap := get(o.ProducerID)
		ap.ProducerEpoch = max(ap.ProducerEpoch, int32(o.ProducerEpoch))
		ap.CurrentTxnStartOffset = o.FirstOffset
	}
	out := make([]kmsg.DescribeProducersResponseTopicPartitionActiveProducer, 0, len(byID))
	for _, ap := range byID {
		out = append(out, *ap)
	}
	slices.SortFunc(out, func(a, b kmsg.DescribeProducersResponseTopicPartitionActiveProducer) int {
		return cmp.Compare(a.ProducerID, b.ProducerID)
	})
	return out, nil
}
