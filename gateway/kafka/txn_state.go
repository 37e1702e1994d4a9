package kafka

// A transactional id's state as the transaction coordinator keeps it, and
// its stored form. Every change is written to the store's state area
// (namespace kafka.txn, key: the transactional id) before it is acted on,
// so a restarted bridge finds each transaction where it was: PrepareCommit
// and PrepareAbort complete their markers, Ongoing ones abort when their
// timeout ends (see txn_coordinator.go).

import (
	"encoding/json"
	"fmt"
	"sort"
)

// txnNamespace is the state namespace of transactional ids.
const txnNamespace = "kafka.txn"

// txnState is Kafka's TransactionState; String gives the names
// DescribeTransactions and ListTransactions report and filter on.
type txnState int8

const (
	txnEmpty txnState = iota
	txnOngoing
	txnPrepareCommit
	txnPrepareAbort
	txnCompleteCommit
	txnCompleteAbort
	txnDead
	txnPrepareEpochFence
)

var txnStateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

func (s txnState) String() string {
	if int(s) < len(txnStateNames) && s >= 0 {
		return txnStateNames[s]
	}
	return fmt.Sprintf("txnState(%d)", int8(s))
}

// parseTxnState is the inverse of String; ok is false for a name Kafka
// does not know.
func parseTxnState(name string) (txnState, bool) {
	for i, n := range txnStateNames {
		if n == name {
			return txnState(i), true
		}
	}
	return 0, false
}

// preparing reports whether the transaction is writing its markers.
func (s txnState) preparing() bool { return s == txnPrepareCommit || s == txnPrepareAbort }

// txnPart is a topic partition of a transaction.
type txnPart struct {
	Topic     string `json:"t"`
	Partition int32  `json:"p"`
}

// txnOffset is an offset a transaction commits for a group when it
// commits (TxnOffsetCommit): pending until then, dropped on abort.
type txnOffset struct {
	Topic       string  `json:"t"`
	Partition   int32   `json:"p"`
	Offset      int64   `json:"o"`
	LeaderEpoch int32   `json:"e"`
	Metadata    *string `json:"m,omitempty"`
}

// txnMeta is one transactional id's state: Kafka's TransactionMetadata.
// It is stored as JSON: small, rewritten whole on each change, and easy to
// read in a dump of the state area.
type txnMeta struct {
	ID        string   `json:"id"`
	PID       int64    `json:"pid"`
	Epoch     int16    `json:"epoch"`
	LastPID   int64    `json:"lastPid"`   // before the latest bump: a retried InitProducerId
	LastEpoch int16    `json:"lastEpoch"` // is answered with the current id and epoch
	TimeoutMs int32    `json:"timeoutMs"`
	State     txnState `json:"state"`
	StartMs   int64    `json:"startMs"` // when the ongoing transaction began; -1 when none
	UpdateMs  int64    `json:"updateMs"`
	// Parts are the partitions of the ongoing (or completing) transaction.
	Parts []txnPart `json:"parts,omitempty"`
	// Groups are the consumer groups whose offsets it commits
	// (AddOffsetsToTxn); Offsets their pending offsets by group.
	Groups  []string               `json:"groups,omitempty"`
	Offsets map[string][]txnOffset `json:"offsets,omitempty"`
	// NextPID is the producer id an EndTxn v5+ that exhausted the epoch
	// hands over once its transaction completes (txn_v2.go); 0 when none.
	NextPID int64 `json:"nextPid,omitempty"`
}

func (m *txnMeta) encode() []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return b
}

func decodeTxnMeta(b []byte) (*txnMeta, error) {
	m := new(txnMeta)
	if err := json.Unmarshal(b, m); err != nil {
		return nil, err
	}
	if m.State < txnEmpty || m.State > txnPrepareEpochFence {
		return nil, fmt.Errorf("unknown transaction state %d", m.State)
	}
	return m, nil
}

// clone copies m deeply, so a change can be prepared, stored and only
// then installed.
func (m *txnMeta) clone() *txnMeta {
	n := *m
	n.Parts = append([]txnPart(nil), m.Parts...)
	n.Groups = append([]string(nil), m.Groups...)
	if m.Offsets != nil {
		n.Offsets = make(map[string][]txnOffset, len(m.Offsets))
		for g, os := range m.Offsets {
			n.Offsets[g] = append([]txnOffset(nil), os...)
		}
	}
	return &n
}

func (m *txnMeta) hasPart(topic string, partition int32) bool {
	for _, p := range m.Parts {
		if p.Topic == topic && p.Partition == partition {
			return true
		}
	}
	return false
}

func (m *txnMeta) addPart(topic string, partition int32) {
	if !m.hasPart(topic, partition) {
		m.Parts = append(m.Parts, txnPart{topic, partition})
	}
}

func (m *txnMeta) hasGroup(g string) bool {
	for _, x := range m.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// setOffset records a pending offset, replacing an earlier one of the
// same partition.
func (m *txnMeta) setOffset(group string, o txnOffset) {
	if m.Offsets == nil {
		m.Offsets = map[string][]txnOffset{}
	}
	os := m.Offsets[group]
	for i := range os {
		if os[i].Topic == o.Topic && os[i].Partition == o.Partition {
			os[i] = o
			return
		}
	}
	m.Offsets[group] = append(os, o)
}

// topics groups the transaction's partitions by topic, sorted, as
// DescribeTransactions lists them.
func (m *txnMeta) topics() map[string][]int32 {
	ts := map[string][]int32{}
	for _, p := range m.Parts {
		ts[p.Topic] = append(ts[p.Topic], p.Partition)
	}
	for _, ps := range ts {
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	}
	return ts
}

// beginIfIdle makes an idle transactional id's transaction Ongoing, as
// the first AddPartitionsToTxn or AddOffsetsToTxn does.
func (m *txnMeta) beginIfIdle(nowMs int64) {
	if m.State == txnOngoing {
		return
	}
	m.State = txnOngoing
	m.StartMs = nowMs
	m.Parts, m.Groups, m.Offsets = nil, nil, nil
}
