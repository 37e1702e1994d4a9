package kafka

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
	bsasl "github.com/streambridge/bridge/security/sasl"
)

// TestInternalTopicMetadata: __consumer_offsets is listed, internal, with
// Kafka's 50 partitions and a stable id, in every Metadata version, and
// kadm tells it apart from user topics.
func TestInternalTopicMetadata(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "user", 1)
	c := dialRaw(t, ts.addr)

	var id [16]byte
	for v := int16(0); v <= 12; v++ {
		for _, all := range []bool{true, false} {
			var req *kmsg.MetadataRequest
			if all {
				req = metadataReq(v, false)
				if v == 0 {
					req.Topics = []kmsg.MetadataRequestTopic{}
				}
			} else {
				req = metadataReq(v, false, offsetsTopic)
			}
			resp := c.roundTrip(t, req).(*kmsg.MetadataResponse)
			var got *kmsg.MetadataResponseTopic
			for i := range resp.Topics {
				if tp := &resp.Topics[i]; tp.Topic != nil && *tp.Topic == offsetsTopic {
					got = tp
				}
			}
			if got == nil || got.ErrorCode != 0 {
				t.Fatalf("v%d all=%v: %s missing or failed: %+v", v, all, offsetsTopic, resp.Topics)
			}
			if len(got.Partitions) != offsetsTopicPartitions {
				t.Errorf("v%d all=%v: %d partitions", v, all, len(got.Partitions))
			}
			if v >= 1 && !got.IsInternal {
				t.Errorf("v%d all=%v: not internal", v, all)
			}
			if v >= 10 {
				if id == ([16]byte{}) {
					id = got.TopicID
				}
				if got.TopicID != id || id == ([16]byte{}) {
					t.Errorf("v%d all=%v: topic id %x, want stable non-zero %x", v, all, got.TopicID, id)
				}
			}
		}
	}
	if id != topicID(offsetsTopicStream()) {
		t.Errorf("id %x is not the view's", id)
	}

	// v12 by id.
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	rt := kmsg.NewMetadataRequestTopic()
	rt.TopicID = id
	req.Topics = append(req.Topics, rt)
	resp := c.roundTrip(t, req).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || resp.Topics[0].Topic == nil || *resp.Topics[0].Topic != offsetsTopic || !resp.Topics[0].IsInternal {
		t.Errorf("by id: %+v", resp.Topics)
	}

	// kadm: ListTopics leaves internal topics out, WithInternal has it.
	adm := kadm.NewClient(ts.client(t))
	ctx := testContext(t)
	td, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if td.Has(offsetsTopic) || !td.Has("user") {
		t.Errorf("ListTopics: %v", td.Names())
	}
	td, err = adm.ListTopicsWithInternal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := td[offsetsTopic]; !d.IsInternal || len(d.Partitions) != offsetsTopicPartitions || d.Err != nil {
		t.Errorf("ListTopicsWithInternal: %+v", d)
	}
	if td["user"].IsInternal {
		t.Error("user topic listed internal")
	}

	// It reads as an empty log: ListOffsets start and end 0.
	for _, list := range []func(ctx2 any) (kadm.ListedOffsets, error){
		func(any) (kadm.ListedOffsets, error) { return adm.ListStartOffsets(ctx, offsetsTopic) },
		func(any) (kadm.ListedOffsets, error) { return adm.ListEndOffsets(ctx, offsetsTopic) },
	} {
		lo, err := list(nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		lo.Each(func(o kadm.ListedOffset) {
			n++
			if o.Err != nil || o.Offset != 0 {
				t.Errorf("ListOffsets %s[%d]: %d, %v", o.Topic, o.Partition, o.Offset, o.Err)
			}
		})
		if n != offsetsTopicPartitions {
			t.Errorf("ListOffsets: %d partitions", n)
		}
	}

	// DescribeConfigs: cleanup.policy=compact, as in Kafka.
	rc, err := adm.DescribeTopicConfigs(ctx, offsetsTopic)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := rc.On(offsetsTopic, nil)
	if err != nil || cfg.Err != nil {
		t.Fatalf("DescribeConfigs: %v %v", err, cfg.Err)
	}
	found := false
	for _, c := range cfg.Configs {
		if c.Key == cfgCleanupPolicy {
			found = true
			if c.MaybeValue() != "compact" {
				t.Errorf("cleanup.policy %q", c.MaybeValue())
			}
		}
	}
	if !found {
		t.Error("no cleanup.policy")
	}

	// Nothing became a store stream.
	names, err := ts.store.ListStreams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n == offsetsTopic {
			t.Fatalf("%s is a store stream: %v", offsetsTopic, names)
		}
	}
}

// TestInternalTopicRefusals: the calls that would change __consumer_offsets
// get Kafka's answers, and reads see an empty log.
func TestInternalTopicRefusals(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	batch := encodeBatch(t, recordbatch.EncodeOptions{}, "x")

	createReq := func() kmsg.Request {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.Version = 5
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = offsetsTopic, 1, 1
		req.Topics = append(req.Topics, rt)
		return req
	}
	deleteReq := func(v int16) kmsg.Request {
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.Version = v
		req.TopicNames = []string{offsetsTopic}
		rt := kmsg.NewDeleteTopicsRequestTopic()
		rt.Topic = kmsg.StringPtr(offsetsTopic)
		req.Topics = append(req.Topics, rt)
		return req
	}
	deleteRecordsReq := func() kmsg.Request {
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.Version = 2
		rt := kmsg.NewDeleteRecordsRequestTopic()
		rt.Topic = offsetsTopic
		rp := kmsg.NewDeleteRecordsRequestTopicPartition()
		rp.Offset = 0
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return req
	}
	createPartitionsReq := func() kmsg.Request {
		req := kmsg.NewPtrCreatePartitionsRequest()
		req.Version = 3
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = offsetsTopic, offsetsTopicPartitions+1
		req.Topics = append(req.Topics, rt)
		return req
	}
	alterReq := func() kmsg.Request {
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.Version = 1
		rr := kmsg.NewIncrementalAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, offsetsTopic
		rc := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		rc.Name, rc.Value, rc.Op = "retention.ms", kmsg.StringPtr("1000"), kmsg.IncrementalAlterConfigOpSet
		rr.Configs = append(rr.Configs, rc)
		req.Resources = append(req.Resources, rr)
		return req
	}
	code := func(resp kmsg.Response) int16 {
		switch r := resp.(type) {
		case *kmsg.ProduceResponse:
			return r.Topics[0].Partitions[0].ErrorCode
		case *kmsg.CreateTopicsResponse:
			return r.Topics[0].ErrorCode
		case *kmsg.DeleteTopicsResponse:
			return r.Topics[0].ErrorCode
		case *kmsg.DeleteRecordsResponse:
			return r.Topics[0].Partitions[0].ErrorCode
		case *kmsg.CreatePartitionsResponse:
			return r.Topics[0].ErrorCode
		case *kmsg.IncrementalAlterConfigsResponse:
			return r.Resources[0].ErrorCode
		}
		t.Fatalf("unexpected %T", resp)
		return 0
	}
	for _, tc := range []struct {
		name string
		req  kmsg.Request
		want *kerr.Error
	}{
		{"produce v3", produceReq(3, -1, offsetsTopic, 0, batch), kerr.InvalidTopicException},
		{"produce v9", produceReq(9, 1, offsetsTopic, 7, batch), kerr.InvalidTopicException},
		{"produce v2 legacy", produceReq(2, 1, offsetsTopic, 0, batch), kerr.InvalidTopicException},
		{"create topics", createReq(), kerr.TopicAlreadyExists},
		{"delete topics v1", deleteReq(1), kerr.InvalidTopicException},
		{"delete topics v6", deleteReq(6), kerr.InvalidTopicException},
		{"delete records", deleteRecordsReq(), kerr.InvalidTopicException},
		{"create partitions", createPartitionsReq(), kerr.InvalidTopicException},
		{"incremental alter configs", alterReq(), kerr.InvalidTopicException},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(c.roundTrip(t, tc.req)); got != tc.want.Code {
				t.Errorf("error %v, want %v", kerr.ErrorForCode(got), tc.want)
			}
		})
	}

	// Fetch: an empty log, high watermark 0; past it, out of range.
	for _, tc := range []struct {
		offset int64
		want   int16
	}{{0, 0}, {5, kerr.OffsetOutOfRange.Code}} {
		req := kmsg.NewPtrFetchRequest()
		req.Version = 11
		req.MaxBytes = 1 << 20
		req.MaxWaitMillis = 0
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = offsetsTopic
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = 3, tc.offset, 1<<20
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := c.roundTrip(t, req).(*kmsg.FetchResponse)
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != tc.want || tc.want == 0 && (p.HighWatermark != 0 || p.LogStartOffset != 0) || len(p.RecordBatches) != 0 {
			t.Errorf("fetch at %d: %+v", tc.offset, p)
		}
	}

	// Still there, still empty, and not a store stream.
	adm := kadm.NewClient(ts.client(t))
	ctx := testContext(t)
	td, err := adm.ListTopicsWithInternal(ctx, offsetsTopic)
	if err != nil || td[offsetsTopic].Err != nil || len(td[offsetsTopic].Partitions) != offsetsTopicPartitions {
		t.Fatalf("after refusals: %v %+v", err, td[offsetsTopic])
	}
	if _, err := ts.store.DescribeStream(ctx, offsetsTopic); err == nil {
		t.Fatalf("%s became a store stream", offsetsTopic)
	}
}

// TestInternalTopicACLs: seeing __consumer_offsets takes DESCRIBE on it, as
// any topic; writing it is refused for want of WRITE before it is refused
// as internal.
func TestInternalTopicACLs(t *testing.T) {
	ts, _ := aclServer(t)
	ctx := testContext(t)
	admin := kadm.NewClient(ts.client(t, kgo.SASL(mechanism(bsasl.Plain, "admin", "admin-secret"))))
	alice := kadm.NewClient(ts.client(t, kgo.SASL(mechanism(bsasl.Plain, "alice", "alice-secret"))))

	td, err := alice.ListTopicsWithInternal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if td.Has(offsetsTopic) {
		t.Fatalf("alice sees %s without DESCRIBE", offsetsTopic)
	}
	if td, err = admin.ListTopicsWithInternal(ctx); err != nil || !td[offsetsTopic].IsInternal {
		t.Fatalf("super user: %v %+v", err, td[offsetsTopic])
	}

	grant := kadm.NewACLs().Allow("User:alice").AllowHosts().
		Topics(offsetsTopic).Operations(kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral)
	res, err := admin.CreateACLs(ctx, grant)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("CreateACLs: %v", r.Err)
		}
	}
	// A fresh client: kgo answers a repeated Metadata from its cache.
	alice = kadm.NewClient(ts.client(t, kgo.SASL(mechanism(bsasl.Plain, "alice", "alice-secret"))))
	if td, err = alice.ListTopicsWithInternal(ctx); err != nil || !td[offsetsTopic].IsInternal {
		t.Fatalf("alice with DESCRIBE: %v %+v", err, td[offsetsTopic])
	}

	// Produce without WRITE: TOPIC_AUTHORIZATION_FAILED, as Kafka
	// authorizes before its internal-topic check.
	req := produceReq(9, 1, offsetsTopic, 0, encodeBatch(t, recordbatch.EncodeOptions{}, "x"))
	resp, err := req.RequestWith(ctx, ts.client(t, kgo.SASL(mechanism(bsasl.Plain, "alice", "alice-secret"))))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Topics[0].Partitions[0].ErrorCode; got != kerr.TopicAuthorizationFailed.Code {
		t.Errorf("produce without WRITE: %v", kerr.ErrorForCode(got))
	}
}
