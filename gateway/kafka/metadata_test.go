package kafka

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func metadataReq(v int16, allowCreate bool, topics ...string) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = v
	req.AllowAutoTopicCreation = allowCreate
	if topics != nil {
		req.Topics = []kmsg.MetadataRequestTopic{}
	}
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func TestMetadata(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.DefaultPartitions = 3 })
	ts.createTopic(t, "a", 2)
	c := dialRaw(t, ts.addr)

	resp := c.roundTrip(t, metadataReq(12, false)).(*kmsg.MetadataResponse)
	if len(resp.Brokers) != 1 || resp.Brokers[0].NodeID != 0 || resp.Brokers[0].Host != "127.0.0.1" || resp.ClusterID == nil || resp.ControllerID != 0 {
		t.Fatalf("brokers %+v cluster %v controller %d", resp.Brokers, resp.ClusterID, resp.ControllerID)
	}
	// Topics[0] and [1] are the internal __consumer_offsets and
	// __transaction_state (internaltopic.go).
	if len(resp.Topics) != 3 || *resp.Topics[0].Topic != offsetsTopic || *resp.Topics[1].Topic != txnStateTopic || *resp.Topics[2].Topic != "a" || len(resp.Topics[2].Partitions) != 2 {
		t.Fatalf("all topics: %+v", resp.Topics)
	}
	for _, p := range resp.Topics[2].Partitions {
		if p.Leader != 0 || p.LeaderEpoch != 0 || len(p.Replicas) != 1 || len(p.ISR) != 1 || p.ErrorCode != 0 {
			t.Errorf("partition %+v", p)
		}
	}
	id := resp.Topics[2].TopicID
	if id == ([16]byte{}) {
		t.Fatal("zero topic id")
	}

	// v0 asks for all topics with an empty list.
	if r := c.roundTrip(t, metadataReq(0, false, []string{}...)).(*kmsg.MetadataResponse); len(r.Topics) != 3 {
		t.Errorf("v0 empty list: %d topics", len(r.Topics))
	}
	// v1+ empty (non-null) list asks for none.
	if r := c.roundTrip(t, metadataReq(1, false, []string{}...)).(*kmsg.MetadataResponse); len(r.Topics) != 0 {
		t.Errorf("v1 empty list: %d topics", len(r.Topics))
	}

	// Auto-creation: v4+ only when the request allows it; before v4 always.
	tests := []struct {
		v      int16
		allow  bool
		topic  string
		want   *kerr.Error
		create bool
	}{
		{12, false, "b", kerr.UnknownTopicOrPartition, false},
		{12, true, "b", nil, true},
		{3, false, "c", nil, true},
		{9, true, "bad/name", kerr.InvalidTopicException, false},
		{9, true, strings.Repeat("x", 250), kerr.InvalidTopicException, false},
	}
	for _, tt := range tests {
		r := c.roundTrip(t, metadataReq(tt.v, tt.allow, tt.topic)).(*kmsg.MetadataResponse)
		if got := r.Topics[0].ErrorCode; got != code(tt.want) {
			t.Errorf("v%d allow %v %s: %v, want %v", tt.v, tt.allow, tt.topic, kerr.ErrorForCode(got), tt.want)
		}
		if tt.create && len(r.Topics[0].Partitions) != 3 {
			t.Errorf("v%d %s: auto-created with %d partitions, want 3", tt.v, tt.topic, len(r.Topics[0].Partitions))
		}
	}

	// Topic ids are stable and name topics in v12 requests.
	byID := kmsg.NewPtrMetadataRequest()
	byID.Version = 12
	byID.Topics = []kmsg.MetadataRequestTopic{{TopicID: id}, {TopicID: [16]byte{1}}}
	r := c.roundTrip(t, byID).(*kmsg.MetadataResponse)
	if r.Topics[0].Topic == nil || *r.Topics[0].Topic != "a" || r.Topics[1].ErrorCode != kerr.UnknownTopicID.Code {
		t.Errorf("by id: %+v", r.Topics)
	}
}

func TestMetadataAutoCreateOff(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.AutoCreateTopics = false })
	c := dialRaw(t, ts.addr)
	r := c.roundTrip(t, metadataReq(3, true, "x")).(*kmsg.MetadataResponse)
	if r.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("auto-create off: %v", kerr.ErrorForCode(r.Topics[0].ErrorCode))
	}
}

func TestTopicID(t *testing.T) {
	created := time.UnixMilli(1700000000000)
	kinesis := store.Stream{Name: "k", Created: created}
	// Two derivations, not one compared with itself: the id must be a pure
	// function of the stream, not drawn afresh on each call.
	if first, second := topicID(kinesis), topicID(kinesis); first != second || first == ([16]byte{}) {
		t.Error("derived id not stable or zero")
	}
	again := store.Stream{Name: "k", Created: created.Add(time.Millisecond)}
	if topicID(kinesis) == topicID(again) {
		t.Error("a recreated topic kept its id")
	}
	cfg := newTopicConfig(map[string]string{"x": "y"})
	st := store.Stream{Name: "k", Created: created, Config: cfg}
	id := topicID(st)
	if formatUUID(id) != cfg[topicIDKey] || cfg["x"] != "y" {
		t.Errorf("stored id %s, config %v", formatUUID(id), cfg)
	}
	if again := newTopicConfig(cfg); again[topicIDKey] != cfg[topicIDKey] {
		t.Error("newTopicConfig replaced an existing id")
	}
	if _, ok := parseUUID("00000000-0000-0000-0000-000000000000"); ok {
		t.Error("zero UUID accepted")
	}
}

// The cluster id survives a restart (it lives in the store).
func TestClusterIDStable(t *testing.T) {
	ts := startServer(t)
	s2, err := New(Config{Store: ts.store, AdvertisedAddr: "h:1"})
	if err != nil {
		t.Fatal(err)
	}
	if ts.clusterID == "" || s2.clusterID != ts.clusterID {
		t.Errorf("cluster ids %q and %q", ts.clusterID, s2.clusterID)
	}
}

func TestListOffsets(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "lo", 1)
	ctx := context.Background()
	// Timestamps 1000..1002, then 5000, then 3000: max is in the middle.
	for _, ms := range []int64{1000, 5000, 3000} {
		b := encodeBatchAt(t, ms, 3)
		if _, err := ts.store.AppendBatch(ctx, "lo", 0, b, storeOpts()); err != nil {
			t.Fatal(err)
		}
	}
	c := dialRaw(t, ts.addr)
	tests := []struct {
		ts         int64
		wantOffset int64
		wantTs     int64
		want       *kerr.Error
	}{
		{-1, 9, -1, nil},
		{-2, 0, -1, nil},
		{-3, 5, 5002, nil},
		{0, 0, 1000, nil},
		{1001, 1, 1001, nil},
		{2000, 3, 5000, nil},
		{5003, -1, -1, nil},
		{-7, 0, 0, kerr.InvalidRequest},
	}
	for _, tt := range tests {
		req := kmsg.NewPtrListOffsetsRequest()
		req.Version = 7
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "lo"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = tt.ts
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		p := c.roundTrip(t, req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
		if p.ErrorCode != code(tt.want) {
			t.Errorf("ts %d: %v, want %v", tt.ts, kerr.ErrorForCode(p.ErrorCode), tt.want)
			continue
		}
		if tt.want == nil && (p.Offset != tt.wantOffset || p.Timestamp != tt.wantTs) {
			t.Errorf("ts %d: offset %d ts %d, want %d %d", tt.ts, p.Offset, p.Timestamp, tt.wantOffset, tt.wantTs)
		}
	}

	// kadm drives the same paths.
	adm := kadm.NewClient(ts.client(t))
	ends, err := adm.ListEndOffsets(testContext(t), "lo")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("lo", 0); o.Offset != 9 {
		t.Errorf("kadm end offset %d", o.Offset)
	}
	// And OffsetForLeaderEpoch: epoch 0 ends at the high watermark.
	ofe := kmsg.NewPtrOffsetForLeaderEpochRequest()
	ofe.Version = 4
	ofe.ReplicaID = -1
	ot := kmsg.NewOffsetForLeaderEpochRequestTopic()
	ot.Topic = "lo"
	for _, e := range []int32{0, 1} {
		op := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		op.LeaderEpoch = e
		op.CurrentLeaderEpoch = 0
		ot.Partitions = append(ot.Partitions, op)
	}
	ofe.Topics = append(ofe.Topics, ot)
	or := c.roundTrip(t, ofe).(*kmsg.OffsetForLeaderEpochResponse).Topics[0].Partitions
	if or[0].EndOffset != 9 || or[0].LeaderEpoch != 0 || or[1].EndOffset != -1 || or[1].LeaderEpoch != -1 {
		t.Errorf("OffsetForLeaderEpoch: %+v", or)
	}
}
