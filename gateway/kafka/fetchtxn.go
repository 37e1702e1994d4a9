package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

// addAborted adds to a read_committed partition's AbortedTransactions those
// of one read (a long poll reads a partition more than once), each once. A
// read_committed partition always has a list, empty when none overlap, as
// Kafka answers; read_uncommitted ones keep null.
func (fp *fetchPart) addAborted(aborted []store.AbortedTxn) {
	rp := fp.rp
	if rp.AbortedTransactions == nil {
		rp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
	}
next:
	for _, a := range aborted {
		for _, have := range rp.AbortedTransactions {
			if have.ProducerID == a.ProducerID && have.FirstOffset == a.FirstOffset {
				continue next
			}
		}
		t := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		t.ProducerID, t.FirstOffset = a.ProducerID, a.FirstOffset
		rp.AbortedTransactions = append(rp.AbortedTransactions, t)
	}
}
