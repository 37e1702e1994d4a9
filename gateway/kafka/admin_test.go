package kafka

// End-to-end tests of the topic administration APIs, driven by franz-go's
// kadm against the in-process server over TCP. admin_errors_test.go covers
// refusals and every version on the wire; admin_sarama_test.go a second
// client.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store/embedded"
)

// adminEnv is a running server with a kadm client on it.
type adminEnv struct {
	addr  string
	srv   *Server
	store *embedded.Store
	cl    *kgo.Client
	adm   *kadm.Client
	stop  func() // idempotent; also run at cleanup
}

// startAdminEnv starts a server on 127.0.0.1 over a store in dir (in memory
// when dir is ""), with mod applied to its config.
func startAdminEnv(t *testing.T, dir string, mod func(*Config)) *adminEnv {
	t.Helper()
	st, err := embedded.Open(embedded.Options{Dir: dir, InMemory: dir == ""})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: st, AdvertisedAddr: ln.Addr().String(), AutoCreateTopics: true}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	cl, err := kgo.NewClient(kgo.SeedBrokers(ln.Addr().String()), kgo.DisableIdempotentWrite(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RetryTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e := &adminEnv{addr: ln.Addr().String(), srv: srv, store: st, cl: cl, adm: kadm.NewClient(cl)}
	stopped := false
	e.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	}
	t.Cleanup(e.stop)
	return e
}

func adminCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// topicConfigs describes topic and returns its configs by name.
func (e *adminEnv) topicConfigs(t *testing.T, topic string) map[string]kadm.Config {
	t.Helper()
	rcs, err := e.adm.DescribeTopicConfigs(adminCtx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe %s: %v %v %s", topic, err, rc.Err, rc.ErrMessage)
	}
	out := map[string]kadm.Config{}
	for _, c := range rc.Configs {
		out[c.Key] = c
	}
	return out
}

// wantConfig checks one config's value and source.
func wantConfig(t *testing.T, cs map[string]kadm.Config, key, value string, src kmsg.ConfigSource) {
	t.Helper()
	c, ok := cs[key]
	if !ok {
		t.Errorf("%s: not reported", key)
		return
	}
	if c.MaybeValue() != value || c.Source != src {
		t.Errorf("%s = %q (%v), want %q (%v)", key, c.MaybeValue(), c.Source, value, src)
	}
}

const (
	srcDefault = kmsg.ConfigSourceDefaultConfig
	srcTopic   = kmsg.ConfigSourceDynamicTopicConfig
)

func TestAdminTopicConfigsKadm(t *testing.T) {
	e := startAdminEnv(t, "", func(c *Config) { c.DefaultPartitions = 3 })
	ctx := adminCtx(t)

	created, err := e.adm.CreateTopic(ctx, 2, 1, map[string]*string{
		"retention.ms":           kadm.StringPtr("3600000"),
		"max.message.bytes":      kadm.StringPtr("2000000"),
		"message.timestamp.type": kadm.StringPtr("LogAppendTime"),
	}, "orders")
	if err != nil {
		t.Fatalf("create: %v (%s)", err, created.ErrMessage)
	}
	if created.NumPartitions != 2 || created.ReplicationFactor != 1 || created.ID == (kadm.TopicID{}) {
		t.Errorf("created %+v", created)
	}
	if c := created.Configs["retention.ms"]; c.MaybeValue() != "3600000" || c.Source != srcTopic {
		t.Errorf("create response retention.ms = %+v", c)
	}
	if c := created.Configs["cleanup.policy"]; c.MaybeValue() != "delete" || c.Source != srcDefault {
		t.Errorf("create response cleanup.policy = %+v", c)
	}

	// NumPartitions and ReplicationFactor -1: the server's defaults.
	dflt, err := e.adm.CreateTopic(ctx, -1, -1, nil, "events")
	if err != nil || dflt.NumPartitions != 3 || dflt.ReplicationFactor != 1 {
		t.Fatalf("create with defaults: %+v, %v", dflt, err)
	}

	// The store holds what Produce and the Kinesis side will use.
	st, err := e.store.DescribeStream(context.Background(), "orders")
	if err != nil {
		t.Fatal(err)
	}
	if st.Retention != time.Hour {
		t.Errorf("stream retention %v, want 1h", st.Retention)
	}
	if tc := TopicConfigFor(&st); tc.MaxMessageBytes != 2000000 || !tc.LogAppendTime {
		t.Errorf("TopicConfigFor = %+v", tc)
	}
	if topicID(st) != [16]byte(created.ID) {
		t.Errorf("topic id %x, stored %x", created.ID, topicID(st))
	}
	if st, _ := e.store.DescribeStream(context.Background(), "events"); st.Retention != DefaultRetention {
		t.Errorf("default retention %v", st.Retention)
	}

	topics, err := e.adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := topics["orders"]; len(d.Partitions) != 2 || d.ID != created.ID {
		t.Errorf("listed orders: %d partitions, id %x", len(d.Partitions), d.ID)
	}
	if d := topics["events"]; len(d.Partitions) != 3 {
		t.Errorf("listed events: %d partitions", len(d.Partitions))
	}

	cs := e.topicConfigs(t, "orders")
	wantConfig(t, cs, "retention.ms", "3600000", srcTopic)
	wantConfig(t, cs, "max.message.bytes", "2000000", srcTopic)
	wantConfig(t, cs, "message.timestamp.type", "LogAppendTime", srcTopic)
	wantConfig(t, cs, "retention.bytes", "-1", srcDefault)
	wantConfig(t, cs, "cleanup.policy", "delete", srcDefault)
	wantConfig(t, cs, "min.insync.replicas", "1", srcDefault)
	if syn := cs["retention.ms"].Synonyms; len(syn) != 2 || syn[1].Key != "log.retention.ms" || syn[1].Source != srcDefault {
		t.Errorf("retention.ms synonyms %+v", syn)
	}

	// Incremental: set one, reset one, leave the rest.
	alter := func(ops ...kadm.AlterConfig) {
		t.Helper()
		rs, err := e.adm.AlterTopicConfigs(ctx, ops, "orders")
		if err == nil {
			_, err = rs.On("orders", func(r *kadm.AlterConfigsResponse) error { return r.Err })
		}
		if err != nil {
			t.Fatalf("alter %+v: %v", ops, err)
		}
	}
	alter(kadm.AlterConfig{Op: kadm.SetConfig, Name: "retention.bytes", Value: kadm.StringPtr("1000000")},
		kadm.AlterConfig{Op: kadm.DeleteConfig, Name: "max.message.bytes"})
	cs = e.topicConfigs(t, "orders")
	wantConfig(t, cs, "retention.bytes", "1000000", srcTopic)
	wantConfig(t, cs, "max.message.bytes", "1048588", srcDefault)
	wantConfig(t, cs, "retention.ms", "3600000", srcTopic)
	wantConfig(t, cs, "message.timestamp.type", "LogAppendTime", srcTopic)

	// cleanup.policy is a list: appending what is there makes it explicit.
	alter(kadm.AlterConfig{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: kadm.StringPtr("delete")})
	wantConfig(t, e.topicConfigs(t, "orders"), "cleanup.policy", "delete", srcTopic)

	// AlterConfigs replaces the whole set: everything unnamed returns to
	// its default, retention included.
	rs, err := e.adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kadm.StringPtr("-1")}}, "orders")
	if err != nil || rs[0].Err != nil {
		t.Fatalf("alter state: %v %+v", err, rs)
	}
	cs = e.topicConfigs(t, "orders")
	wantConfig(t, cs, "retention.ms", "-1", srcTopic)
	for _, k := range []string{"retention.bytes", "max.message.bytes", "message.timestamp.type", "cleanup.policy"} {
		if cs[k].Source != srcDefault {
			t.Errorf("%s after AlterConfigs: %+v, want default", k, cs[k])
		}
	}
	if st, _ := e.store.DescribeStream(context.Background(), "orders"); st.Retention != 0 || topicID(st) != [16]byte(created.ID) {
		t.Errorf("after AlterConfigs: retention %v (want 0 = forever), id kept %v", st.Retention, topicID(st) == [16]byte(created.ID))
	}

	// Validate-only changes nothing.
	if rs, err := e.adm.ValidateAlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("5")}}, "orders"); err != nil || rs[0].Err != nil {
		t.Fatalf("validate alter: %v %+v", err, rs)
	}
	wantConfig(t, e.topicConfigs(t, "orders"), "retention.ms", "-1", srcTopic)

	del, err := e.adm.DeleteTopics(ctx, "orders", "events")
	if err != nil || del.Error() != nil {
		t.Fatalf("delete: %v %v", err, del.Error())
	}
	if names, _ := e.store.ListStreams(context.Background()); len(names) != 0 {
		t.Errorf("streams left after delete: %v", names)
	}
}

func TestAdminPartitionsAndRecordsKadm(t *testing.T) {
	e := startAdminEnv(t, "", nil)
	ctx := adminCtx(t)
	if _, err := e.adm.CreateTopic(ctx, 2, 1, nil, "grow"); err != nil {
		t.Fatal(err)
	}
	produce := func(p int32, n int, tag string) {
		t.Helper()
		var recs []*kgo.Record
		for i := range n {
			recs = append(recs, &kgo.Record{Topic: "grow", Partition: p, Value: fmt.Appendf(nil, "%s-%d-%d", tag, p, i)})
		}
		// A fresh client each time: a long-lived one would need a metadata
		// refresh to see partitions added meanwhile.
		cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.DisableIdempotentWrite(),
			kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce to %d: %v", p, err)
		}
	}
	produce(0, 10, "a")
	produce(1, 5, "a")

	if rs, err := e.adm.CreatePartitions(ctx, 2, "grow"); err != nil || rs.Error() != nil {
		t.Fatalf("create partitions: %v %v", err, rs.Error())
	}
	topics, err := e.adm.ListTopics(ctx, "grow")
	if err != nil || len(topics["grow"].Partitions) != 4 {
		t.Fatalf("after growth: %v, %+v", err, topics["grow"])
	}
	ends, err := e.adm.ListEndOffsets(ctx, "grow")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]int64{0: 10, 1: 5, 2: 0, 3: 0} {
		if o, _ := ends.Lookup("grow", p); o.Offset != want || o.Err != nil {
			t.Errorf("end offset of %d: %+v, want %d", p, o, want)
		}
	}
	produce(0, 2, "b") // the old partitions go on where they were
	produce(2, 1, "b")
	produce(3, 1, "b")
	if got := e.consume(t, "grow", 0, 0, 12); got[0] != "a-0-0" || got[9] != "a-0-9" || got[10] != "b-0-0" {
		t.Errorf("partition 0 after growth: %v", got)
	}

	// Growing to the same count or fewer is refused.
	for _, n := range []int{4, 3} {
		rs, err := e.adm.UpdatePartitions(ctx, n, "grow")
		if err != nil {
			t.Fatal(err)
		}
		if r := rs["grow"]; r.Err != kerr.InvalidPartitions || r.ErrMessage == "" {
			t.Errorf("update to %d partitions: %v %q, want INVALID_PARTITIONS", n, r.Err, r.ErrMessage)
		}
	}

	// DeleteRecords moves the low watermark; -1 means the high watermark.
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "grow", Partition: 0, At: 4})
	os.Add(kadm.Offset{Topic: "grow", Partition: 1, At: -1})
	os.Add(kadm.Offset{Topic: "grow", Partition: 2, At: 5}) // beyond its high watermark 1
	drs, err := e.adm.DeleteRecords(ctx, os)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := drs.Lookup("grow", 0); r.Err != nil || r.LowWatermark != 4 {
		t.Errorf("delete records p0: %+v", r)
	}
	if r, _ := drs.Lookup("grow", 1); r.Err != nil || r.LowWatermark != 5 {
		t.Errorf("delete records p1: %+v", r)
	}
	if r, _ := drs.Lookup("grow", 2); r.Err != kerr.OffsetOutOfRange {
		t.Errorf("delete records p2 beyond the high watermark: %+v", r)
	}
	starts, err := e.adm.ListStartOffsets(ctx, "grow")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]int64{0: 4, 1: 5, 2: 0} {
		if o, _ := starts.Lookup("grow", p); o.Offset != want {
			t.Errorf("start offset of %d: %+v, want %d", p, o, want)
		}
	}
	if code := e.fetchCode(t, "grow", 0, 2); code != kerr.OffsetOutOfRange.Code {
		t.Errorf("fetch below the low watermark: code %d, want OFFSET_OUT_OF_RANGE", code)
	}
	if got := e.consume(t, "grow", 0, 4, 8); got[0] != "a-0-4" {
		t.Errorf("partition 0 from its new start: %v", got)
	}
}

// consume reads n record values of topic/partition from offset.
func (e *adminEnv) consume(t *testing.T, topic string, p int32, from int64, n int) []string {
	t.Helper()
	var vals []string
	for _, r := range e.consumeRecords(t, topic, p, from, n) {
		vals = append(vals, string(r.Value))
	}
	return vals
}

// consumeRecords reads n records of topic/partition from offset.
func (e *adminEnv) consumeRecords(t *testing.T, topic string, p int32, from int64, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		topic: {p: kgo.NewOffset().At(from)},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := adminCtx(t)
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("consume %s/%d: %v (have %d records)", topic, p, err, len(recs))
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// fetchCode fetches topic/partition at offset once and returns the
// partition's error code.
func (e *adminEnv) fetchCode(t *testing.T, topic string, p int32, offset int64) int16 {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxBytes = 1 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	// The client sends v13+, which names topics by id.
	md, err := e.adm.Metadata(adminCtx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	rt.TopicID = md.Topics[topic].ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p, offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(adminCtx(t), e.cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch response %+v", resp)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

func TestAdminDescribeClusterStable(t *testing.T) {
	dir := t.TempDir()
	clusterID := func() (string, kadm.Metadata) {
		e := startAdminEnv(t, dir, nil)
		defer e.stop()
		req := kmsg.NewPtrDescribeClusterRequest()
		resp, err := req.RequestWith(adminCtx(t), e.cl)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode != 0 || resp.ControllerID != 0 || len(resp.Brokers) != 1 {
			t.Fatalf("describe cluster: %+v", resp)
		}
		host, port, _ := net.SplitHostPort(e.addr)
		if b := resp.Brokers[0]; b.NodeID != 0 || b.Host != host || fmt.Sprint(b.Port) != port {
			t.Errorf("broker %+v, want 0 at %s", b, e.addr)
		}
		md, err := e.adm.BrokerMetadata(adminCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		return resp.ClusterID, md
	}
	first, md := clusterID()
	if len(first) != 22 {
		t.Errorf("cluster id %q, want 22 characters like Kafka's", first)
	}
	if md.Cluster != first || md.Controller != 0 {
		t.Errorf("metadata says cluster %q controller %d; DescribeCluster %q", md.Cluster, md.Controller, first)
	}
	if again, _ := clusterID(); again != first {
		t.Errorf("cluster id changed across restart: %q then %q", first, again)
	}
}

// TestAdminConfigsTakeEffect checks that the configs set through the admin
// APIs are the ones Produce and the store act on, and that they survive a
// restart.
func TestAdminConfigsTakeEffect(t *testing.T) {
	dir := t.TempDir()
	e := startAdminEnv(t, dir, nil)
	ctx := adminCtx(t)
	_, err := e.adm.CreateTopic(ctx, 1, 1, map[string]*string{
		"max.message.bytes":      kadm.StringPtr("2000"),
		"message.timestamp.type": kadm.StringPtr("LogAppendTime"),
	}, "effect")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.DisableIdempotentWrite(),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	old := time.Now().Add(-48 * time.Hour)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "effect", Value: []byte("small"), Timestamp: old}).FirstErr(); err != nil {
		t.Fatalf("small record: %v", err)
	}
	big := &kgo.Record{Topic: "effect", Value: make([]byte, 3000)}
	if err := cl.ProduceSync(ctx, big).FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
		t.Errorf("record over max.message.bytes: %v, want MESSAGE_TOO_LARGE", err)
	}
	recs := e.consumeRecords(t, "effect", 0, 0, 1)
	if ts := recs[0].Timestamp; time.Since(ts) > time.Hour {
		t.Errorf("LogAppendTime topic kept the producer's timestamp %v", ts)
	}

	// retention.ms reaches the store: a tiny retention trims the record.
	rs, err := e.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("1")}}, "effect")
	if err != nil || rs[0].Err != nil {
		t.Fatalf("alter retention: %v %+v", err, rs)
	}
	time.Sleep(20 * time.Millisecond)
	if err := e.store.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if start, hw, err := e.store.Offsets(context.Background(), "effect", 0); err != nil || start != hw || hw != 1 {
		t.Errorf("after retention: start %d, high watermark %d, %v; want both 1", start, hw, err)
	}

	// retention.bytes reaches the store: the oldest batches go until a
	// partition fits, whole batches only.
	rs, err = e.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.DeleteConfig, Name: "retention.ms"},
		{Op: kadm.SetConfig, Name: "retention.bytes", Value: kadm.StringPtr("1000")},
	}, "effect")
	if err != nil || rs[0].Err != nil {
		t.Fatalf("alter retention.bytes: %v %+v", err, rs)
	}
	for i := 0; i < 10; i++ { // one batch each, about 300 bytes
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "effect", Value: make([]byte, 200)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	start, hw, _ := e.store.Offsets(context.Background(), "effect", 0)
	size, _ := e.store.Size(context.Background(), "effect", 0)
	if hw != 11 || size > 1000 || size < 500 || start < 7 {
		t.Errorf("after retention.bytes=1000: start %d, high watermark %d, size %d", start, hw, size)
	}
	rs, err = e.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("1")}}, "effect")
	if err != nil || rs[0].Err != nil {
		t.Fatalf("alter retention back: %v %+v", err, rs)
	}

	e.stop()
	e = startAdminEnv(t, dir, nil)
	cs := e.topicConfigs(t, "effect")
	wantConfig(t, cs, "max.message.bytes", "2000", srcTopic)
	wantConfig(t, cs, "message.timestamp.type", "LogAppendTime", srcTopic)
	wantConfig(t, cs, "retention.ms", "1", srcTopic)
	wantConfig(t, cs, "retention.bytes", "1000", srcTopic)
}
