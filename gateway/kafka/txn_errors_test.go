package kafka

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

// txnRaw sends the transactional APIs by hand, at chosen versions.
type txnRaw struct {
	t *testing.T
	c *rawConn
}

func (x txnRaw) init(v int16, id *string, timeoutMs int32, pid int64, epoch int16) (int16, int64, int16) {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version, req.TransactionalID, req.TransactionTimeoutMillis = v, id, timeoutMs
	req.ProducerID, req.ProducerEpoch = pid, epoch
	resp := x.c.roundTrip(x.t, req).(*kmsg.InitProducerIDResponse)
	return resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch
}

// addParts adds partitions (topic -> partitions) and returns each code,
// "topic/partition" -> code.
func (x txnRaw) addParts(v int16, id string, pid int64, epoch int16, parts map[string][]int32) map[string]int16 {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch = v, id, pid, epoch
	for topic, ps := range parts {
		rt := kmsg.NewAddPartitionsToTxnRequestTopic()
		rt.Topic, rt.Partitions = topic, ps
		req.Topics = append(req.Topics, rt)
	}
	resp := x.c.roundTrip(x.t, req).(*kmsg.AddPartitionsToTxnResponse)
	out := map[string]int16{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			out[rt.Topic+"/"+itoa(rp.Partition)] = rp.ErrorCode
		}
	}
	return out
}

func itoa(p int32) string { return string(rune('0' + p)) }

func (x txnRaw) addOffsets(v int16, id string, pid int64, epoch int16, group string) int16 {
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = v, id, pid, epoch, group
	return x.c.roundTrip(x.t, req).(*kmsg.AddOffsetsToTxnResponse).ErrorCode
}

func (x txnRaw) end(v int16, id string, pid int64, epoch int16, commit bool) int16 {
	req := kmsg.NewPtrEndTxnRequest()
	req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = v, id, pid, epoch, commit
	return x.c.roundTrip(x.t, req).(*kmsg.EndTxnResponse).ErrorCode
}

func (x txnRaw) offsetCommit(v int16, id, group string, pid int64, epoch int16, gen int32, member string, topic string, offset int64) int16 {
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.Version, req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = v, id, group, pid, epoch
	req.Generation, req.MemberID = gen, member
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return x.c.roundTrip(x.t, req).(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
}

func (x txnRaw) produce(txnID *string, topic string, partition int32, pid int64, epoch int16, seq int32) int16 {
	opts := recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq}
	req := produceReq(9, -1, topic, partition, encodeBatch(x.t, opts, "v"))
	req.TransactionID = txnID
	return x.c.roundTrip(x.t, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
}

// Kafka's error codes for misuse of the transaction APIs, step by step
// through one transactional id's life.
func TestTxnErrorCodes(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "t", 2)
	x := txnRaw{t, dialRaw(t, ts.addr)}
	id := kmsg.StringPtr("tx")
	code, pid, epoch := x.init(4, id, 60000, -1, -1)
	if code != 0 || pid < 0 || epoch != 0 {
		t.Fatalf("InitProducerId: %d %d/%d", code, pid, epoch)
	}
	want := func(name string, got int16, want *kerr.Error) {
		t.Helper()
		w := int16(0)
		if want != nil {
			w = want.Code
		}
		if got != w {
			t.Errorf("%s: %v, want %v", name, kerr.ErrorForCode(got), want)
		}
	}

	// InitProducerId's own checks.
	c, _, _ := x.init(4, kmsg.StringPtr(""), 60000, -1, -1)
	want("empty transactional id", c, kerr.InvalidRequest)
	c, _, _ = x.init(4, kmsg.StringPtr("tx2"), int32((15*time.Minute).Milliseconds())+1, -1, -1)
	want("timeout over transaction.max.timeout.ms", c, kerr.InvalidTransactionTimeout)
	c, _, _ = x.init(4, kmsg.StringPtr("tx2"), 0, -1, -1)
	want("timeout 0", c, kerr.InvalidTransactionTimeout)
	c, _, _ = x.init(4, kmsg.StringPtr("never"), 60000, 12345, 0)
	want("KIP-360 InitProducerId of a new transactional id (gets a new id)", c, nil)
	c, _, _ = x.init(4, kmsg.StringPtr("never"), 60000, 12345, 0)
	want("KIP-360 InitProducerId naming another producer id", c, kerr.ProducerFenced)

	// Misuse before any transaction.
	want("EndTxn without a transaction", x.end(3, "tx", pid, epoch, true), kerr.InvalidTxnState)
	want("EndTxn abort without a transaction", x.end(3, "tx", pid, epoch, false), kerr.InvalidTxnState)
	want("EndTxn of an unknown transactional id", x.end(3, "nope", pid, epoch, true), kerr.InvalidProducerIDMapping)
	want("EndTxn with another producer id", x.end(3, "tx", pid+1, epoch, true), kerr.InvalidProducerIDMapping)
	want("EndTxn with a wrong epoch (v3)", x.end(3, "tx", pid, epoch+1, true), kerr.ProducerFenced)
	want("EndTxn with a wrong epoch (v1)", x.end(1, "tx", pid, epoch+1, true), kerr.InvalidProducerEpoch)
	want("Produce before AddPartitionsToTxn", x.produce(id, "t", 0, pid, epoch, 0), kerr.InvalidTxnState)
	want("Produce of a transactional batch without a transactional id", x.produce(nil, "t", 0, pid, epoch, 0), kerr.TransactionalIDAuthorizationFailed)
	want("AddOffsetsToTxn with a wrong epoch (v1)", x.addOffsets(1, "tx", pid, epoch+1, "g"), kerr.InvalidProducerEpoch)
	want("TxnOffsetCommit without AddOffsetsToTxn", x.offsetCommit(3, "tx", "g", pid, epoch, -1, "", "t", 1), kerr.InvalidTxnState)

	// AddPartitionsToTxn.
	got := x.addParts(3, "tx", pid, epoch, map[string][]int32{"t": {0}, "nope": {0}})
	want("AddPartitionsToTxn unknown topic", got["nope/0"], kerr.UnknownTopicOrPartition)
	want("AddPartitionsToTxn beside an unknown topic", got["t/0"], kerr.OperationNotAttempted)
	got = x.addParts(3, "tx", pid, epoch, map[string][]int32{"t": {0, 7}})
	want("AddPartitionsToTxn unknown partition", got["t/7"], kerr.UnknownTopicOrPartition)
	got = x.addParts(3, "tx", pid, epoch+1, map[string][]int32{"t": {0}})
	want("AddPartitionsToTxn wrong epoch (v3)", got["t/0"], kerr.ProducerFenced)
	got = x.addParts(1, "tx", pid, epoch+1, map[string][]int32{"t": {0}})
	want("AddPartitionsToTxn wrong epoch (v1)", got["t/0"], kerr.InvalidProducerEpoch)
	got = x.addParts(3, "tx", pid+1, epoch, map[string][]int32{"t": {0}})
	want("AddPartitionsToTxn another producer id", got["t/0"], kerr.InvalidProducerIDMapping)
	got = x.addParts(3, "tx", pid, epoch, map[string][]int32{"t": {0}})
	want("AddPartitionsToTxn", got["t/0"], nil)

	// Produce checks against the ongoing transaction.
	want("Produce to an added partition", x.produce(id, "t", 0, pid, epoch, 0), nil)
	want("Produce to a partition not added", x.produce(id, "t", 1, pid, epoch, 0), kerr.InvalidTxnState)
	want("Produce with another epoch", x.produce(id, "t", 0, pid, epoch+1, 1), kerr.InvalidProducerEpoch)
	want("Produce with another producer id", x.produce(id, "t", 0, pid+7, epoch, 0), kerr.InvalidTxnState)

	// The batched broker form (v4): VerifyOnly changes nothing.
	v4 := kmsg.NewPtrAddPartitionsToTxnRequest()
	v4.Version = 4
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = "tx", pid, epoch, true
	tt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	tt.Topic, tt.Partitions = "t", []int32{0, 1}
	tx.Topics = append(tx.Topics, tt)
	v4.Transactions = append(v4.Transactions, tx)
	r4 := x.c.roundTrip(t, v4).(*kmsg.AddPartitionsToTxnResponse)
	if r4.ErrorCode != 0 || len(r4.Transactions) != 1 || len(r4.Transactions[0].Topics) != 1 {
		t.Fatalf("v4 VerifyOnly: %+v", r4)
	}
	for _, p := range r4.Transactions[0].Topics[0].Partitions {
		w := int16(0)
		if p.Partition == 1 {
			w = kerr.InvalidTxnState.Code
		}
		if p.ErrorCode != w {
			t.Errorf("v4 VerifyOnly partition %d: %v", p.Partition, kerr.ErrorForCode(p.ErrorCode))
		}
	}
	want("Produce after VerifyOnly of partition 1", x.produce(id, "t", 1, pid, epoch, 0), kerr.InvalidTxnState)

	// TxnOffsetCommit's group checks.
	want("AddOffsetsToTxn", x.addOffsets(3, "tx", pid, epoch, "g"), nil)
	want("TxnOffsetCommit for an unknown group with a generation", x.offsetCommit(3, "tx", "g", pid, epoch, 5, "m", "t", 1), kerr.IllegalGeneration)
	want("TxnOffsetCommit of a group not added", x.offsetCommit(3, "tx", "other", pid, epoch, -1, "", "t", 1), kerr.InvalidTxnState)
	want("TxnOffsetCommit with a wrong epoch (v3)", x.offsetCommit(3, "tx", "g", pid, epoch+1, -1, "", "t", 1), kerr.ProducerFenced)
	want("TxnOffsetCommit with a wrong epoch (v2)", x.offsetCommit(2, "tx", "g", pid, epoch+1, -1, "", "t", 1), kerr.InvalidProducerEpoch)
	want("TxnOffsetCommit of an unknown topic", x.offsetCommit(3, "tx", "g", pid, epoch, -1, "", "nope", 1), kerr.UnknownTopicOrPartition)
	want("TxnOffsetCommit as a simple consumer", x.offsetCommit(3, "tx", "g", pid, epoch, -1, "", "t", 1), nil)

	// A concurrent InitProducerId aborts the open transaction and asks
	// for a retry; EndTxn of the fenced producer is PRODUCER_FENCED.
	c, _, _ = x.init(4, id, 60000, -1, -1)
	want("InitProducerId during a transaction", c, kerr.ConcurrentTransactions)
	want("EndTxn of the fenced producer", x.end(3, "tx", pid, epoch, true), kerr.ProducerFenced)
	c, pid2, epoch2 := x.init(4, id, 60000, -1, -1)
	for c == kerr.ConcurrentTransactions.Code {
		time.Sleep(10 * time.Millisecond)
		c, pid2, epoch2 = x.init(4, id, 60000, -1, -1)
	}
	if c != 0 || pid2 != pid || epoch2 != epoch+2 {
		t.Fatalf("InitProducerId after the fence: %v %d/%d, want %d/%d", kerr.ErrorForCode(c), pid2, epoch2, pid, epoch+2)
	}
	c, _, _ = x.init(4, id, 60000, pid, epoch)
	want("KIP-360 InitProducerId of the fenced epoch", c, kerr.ProducerFenced)
	c, _, _ = x.init(3, id, 60000, pid, epoch)
	want("KIP-360 InitProducerId of the fenced epoch (v3)", c, kerr.InvalidProducerEpoch)
	c, p3, e3 := x.init(4, id, 60000, pid2, epoch2-1)
	if c != 0 || p3 != pid2 || e3 != epoch2 {
		t.Errorf("a retried InitProducerId: %v %d/%d, want the current %d/%d", kerr.ErrorForCode(c), p3, e3, pid2, epoch2)
	}
	if got := markers(ts.readLog(t, "t", 0)); len(got) != 1 || got[0] != recordbatch.ControlAbort {
		t.Errorf("markers %v, want the fence's abort", got)
	}

	// Commit, then retries of EndTxn.
	pid, epoch = pid2, epoch2
	want("AddPartitionsToTxn again", x.addParts(3, "tx", pid, epoch, map[string][]int32{"t": {1}})["t/1"], nil)
	want("Produce", x.produce(id, "t", 1, pid, epoch, 0), nil)
	want("EndTxn commit", x.end(3, "tx", pid, epoch, true), nil)
	want("EndTxn commit retried", x.end(3, "tx", pid, epoch, true), nil)
	want("EndTxn abort after a commit", x.end(3, "tx", pid, epoch, false), kerr.InvalidTxnState)
	want("Produce after the commit", x.produce(id, "t", 1, pid, epoch, 1), kerr.InvalidTxnState)

	// A client may not write markers.
	ctl, err := recordbatch.EncodeControl(pid, epoch, recordbatch.Control{Type: recordbatch.ControlCommit}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	preq := produceReq(9, -1, "t", 0, ctl)
	preq.TransactionID = id
	want("Produce of a control batch", x.c.roundTrip(t, preq).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode, kerr.InvalidRecord)

	// DescribeTransactions of an unknown id.
	dreq := kmsg.NewPtrDescribeTransactionsRequest()
	dreq.TransactionalIDs = []string{"tx", "unknown"}
	dresp := x.c.roundTrip(t, dreq).(*kmsg.DescribeTransactionsResponse)
	if len(dresp.TransactionStates) != 2 || dresp.TransactionStates[0].State != "CompleteCommit" || dresp.TransactionStates[1].ErrorCode != kerr.TransactionalIDNotFound.Code {
		t.Errorf("DescribeTransactions: %+v", dresp.TransactionStates)
	}
	lreq := kmsg.NewPtrListTransactionsRequest()
	lreq.StateFilters = []string{"Bogus"}
	lresp := x.c.roundTrip(t, lreq).(*kmsg.ListTransactionsResponse)
	if len(lresp.UnknownStateFilters) != 1 || len(lresp.TransactionStates) != 0 {
		t.Errorf("ListTransactions with an unknown state: %+v", lresp)
	}
}

// txnAuthorizer allows everything but the operations on transactional id
// "denied" (and DESCRIBE on "hidden").
type txnAuthorizer struct{}

func (txnAuthorizer) Authorize(_, _ string, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	if rt != kmsg.ACLResourceTypeTransactionalId {
		return true
	}
	return name != "denied" && (name != "hidden" || op != kmsg.ACLOperationDescribe)
}

func (txnAuthorizer) AuthorizeAny(string, string, kmsg.ACLOperation, kmsg.ACLResourceType) bool {
	return true
}

// The transactional APIs ask for WRITE (DESCRIBE to describe and list) on
// the transactional id, as Kafka does.
func TestTxnAuthorization(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Authorizer = txnAuthorizer{} })
	ts.createTopic(t, "t", 1)
	x := txnRaw{t, dialRaw(t, ts.addr)}
	want := func(name string, got int16, want *kerr.Error) {
		t.Helper()
		if w := want.Code; got != w {
			t.Errorf("%s: %v, want %v", name, kerr.ErrorForCode(got), want)
		}
	}
	c, _, _ := x.init(4, kmsg.StringPtr("denied"), 60000, -1, -1)
	want("InitProducerId", c, kerr.TransactionalIDAuthorizationFailed)
	want("AddPartitionsToTxn", x.addParts(3, "denied", 1, 0, map[string][]int32{"t": {0}})["t/0"], kerr.TransactionalIDAuthorizationFailed)
	want("AddOffsetsToTxn", x.addOffsets(3, "denied", 1, 0, "g"), kerr.TransactionalIDAuthorizationFailed)
	want("EndTxn", x.end(3, "denied", 1, 0, true), kerr.TransactionalIDAuthorizationFailed)
	want("TxnOffsetCommit", x.offsetCommit(3, "denied", "g", 1, 0, -1, "", "t", 1), kerr.TransactionalIDAuthorizationFailed)
	want("Produce", x.produce(kmsg.StringPtr("denied"), "t", 0, 1, 0, 0), kerr.TransactionalIDAuthorizationFailed)

	if c, _, _ := x.init(4, kmsg.StringPtr("hidden"), 60000, -1, -1); c != 0 {
		t.Fatalf("InitProducerId of hidden: %v", kerr.ErrorForCode(c))
	}
	dreq := kmsg.NewPtrDescribeTransactionsRequest()
	dreq.TransactionalIDs = []string{"hidden"}
	if got := x.c.roundTrip(t, dreq).(*kmsg.DescribeTransactionsResponse).TransactionStates[0].ErrorCode; got != kerr.TransactionalIDAuthorizationFailed.Code {
		t.Errorf("DescribeTransactions: %v", kerr.ErrorForCode(got))
	}
	lresp := x.c.roundTrip(t, kmsg.NewPtrListTransactionsRequest()).(*kmsg.ListTransactionsResponse)
	if len(lresp.TransactionStates) != 0 {
		t.Errorf("ListTransactions lists %+v, which the caller may not describe", lresp.TransactionStates)
	}
}

// KIP-447: while a transaction commits a group's offset, OffsetFetch with
// require_stable answers UNSTABLE_OFFSET_COMMIT for that partition; once it
// commits, the offset is the group's.
func TestTxnUnstableOffsets(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "t", 2)
	x := txnRaw{t, dialRaw(t, ts.addr)}
	_, pid, epoch := x.init(4, kmsg.StringPtr("tx"), 60000, -1, -1)
	if c := x.addOffsets(3, "tx", pid, epoch, "g"); c != 0 {
		t.Fatal(kerr.ErrorForCode(c))
	}
	if c := x.offsetCommit(3, "tx", "g", pid, epoch, -1, "", "t", 5); c != 0 {
		t.Fatal(kerr.ErrorForCode(c))
	}
	fetch := func(v int16, stable bool) map[int32][2]int64 {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Version, req.RequireStable = v, stable
		out := map[int32][2]int64{}
		if v >= 8 {
			rg := kmsg.NewOffsetFetchRequestGroup()
			rg.Group = "g"
			rt := kmsg.NewOffsetFetchRequestGroupTopic()
			rt.Topic, rt.Partitions = "t", []int32{0, 1}
			rg.Topics = append(rg.Topics, rt)
			req.Groups = append(req.Groups, rg)
			for _, p := range x.c.roundTrip(t, req).(*kmsg.OffsetFetchResponse).Groups[0].Topics[0].Partitions {
				out[p.Partition] = [2]int64{p.Offset, int64(p.ErrorCode)}
			}
			return out
		}
		req.Group = "g"
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = "t", []int32{0, 1}
		req.Topics = append(req.Topics, rt)
		for _, p := range x.c.roundTrip(t, req).(*kmsg.OffsetFetchResponse).Topics[0].Partitions {
			out[p.Partition] = [2]int64{p.Offset, int64(p.ErrorCode)}
		}
		return out
	}
	unstable := int64(kerr.UnstableOffsetCommit.Code)
	for _, v := range []int16{7, 8} {
		if got := fetch(v, true); got[0] != [2]int64{-1, unstable} || got[1] != [2]int64{-1, 0} {
			t.Errorf("v%d require_stable during the transaction: %v", v, got)
		}
		if got := fetch(v, false); got[0] != [2]int64{-1, 0} {
			t.Errorf("v%d during the transaction: %v, want the old (no) offset", v, got)
		}
	}
	if c := x.end(3, "tx", pid, epoch, true); c != 0 {
		t.Fatal(kerr.ErrorForCode(c))
	}
	if got := fetch(8, true); got[0] != [2]int64{5, 0} {
		t.Errorf("after the commit: %v, want offset 5", got)
	}
}

// TestTxnOffsetCommitConsumerGroup: a TxnOffsetCommit that names no member
// (v0-2, or a producer sending offsets by group id alone) is not validated
// against a KIP-848 group's members, as Kafka's
// ConsumerGroup.validateOffsetCommit; one that names a member is.
func TestTxnOffsetCommitConsumerGroup(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "t", 1)
	x := txnRaw{t, dialRaw(t, ts.addr)}
	if resp := x.c.cgHeartbeat(t, cgJoin("cg", "m1", "t")); resp.ErrorCode != 0 {
		t.Fatalf("join: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	code, pid, epoch := x.init(4, kmsg.StringPtr("tx"), 60000, -1, -1)
	if code != 0 {
		t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(code))
	}
	if code := x.addOffsets(3, "tx", pid, epoch, "cg"); code != 0 {
		t.Fatalf("AddOffsetsToTxn: %v", kerr.ErrorForCode(code))
	}
	for _, c := range []struct {
		name    string
		version int16
		gen     int32
		member  string
		want    *kerr.Error
	}{
		{"v2, no member fields", 2, -1, "", nil},
		{"v3, no member id, epoch -1", 3, -1, "", nil},
		{"v3, unknown member", 3, 1, "nobody", kerr.UnknownMemberID},
		{"v3, the member at a wrong epoch", 3, 7, "m1", kerr.StaleMemberEpoch},
		{"v3, the member at its epoch", 3, 1, "m1", nil},
	} {
		want := int16(0)
		if c.want != nil {
			want = c.want.Code
		}
		if got := x.offsetCommit(c.version, "tx", "cg", pid, epoch, c.gen, c.member, "t", 1); got != want {
			t.Errorf("%s: %v, want %v", c.name, kerr.ErrorForCode(got), c.want)
		}
	}
}
