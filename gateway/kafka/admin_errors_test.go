package kafka

// Refusals of the administration APIs (table-driven, through kadm where it
// can express the request) and every advertised version on the wire
// (through a raw connection, since clients pick their own versions).

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAdminCreateTopicErrorsKadm(t *testing.T) {
	e := startAdminEnv(t, "", nil)
	ctx := adminCtx(t)
	for _, name := range []string{"taken", "a_b"} {
		if _, err := e.adm.CreateTopic(ctx, 1, 1, nil, name); err != nil {
			t.Fatal(err)
		}
	}
	str := kadm.StringPtr
	tests := []struct {
		name       string
		topic      string
		partitions int32
		rf         int16
		configs    map[string]*string
		want       *kerr.Error
		msg        string // substring of ErrMessage
	}{
		{"space in name", "bad name", 1, 1, nil, kerr.InvalidTopicException, "illegal"},
		{"dot", ".", 1, 1, nil, kerr.InvalidTopicException, `"."`},
		{"dot dot", "..", 1, 1, nil, kerr.InvalidTopicException, `".."`},
		{"too long", strings.Repeat("t", 250), 1, 1, nil, kerr.InvalidTopicException, "249"},
		{"slash", "a/b", 1, 1, nil, kerr.InvalidTopicException, "ASCII alphanumerics"},
		{"collides", "a.b", 1, 1, nil, kerr.InvalidTopicException, "collides with existing topic: a_b"},
		{"exists", "taken", 1, 1, nil, kerr.TopicAlreadyExists, "already exists"},
		{"compact and shred", "c1", 1, 1, map[string]*string{"cleanup.policy": str("compact,shred")}, kerr.InvalidConfig, "one of: compact, delete"},
		{"dirty ratio over 1", "c2", 1, 1, map[string]*string{"min.cleanable.dirty.ratio": str("2")}, kerr.InvalidConfig, "no more than 1"},
		{"min lag over max lag", "c2", 1, 1, map[string]*string{"min.compaction.lag.ms": str("10"), "max.compaction.lag.ms": str("5")}, kerr.InvalidConfig, "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)"},
		{"unknown config", "c3", 1, 1, map[string]*string{"segment.ms": str("1000")}, kerr.InvalidConfig, "Unknown topic config name: segment.ms"},
		{"bad number", "c4", 1, 1, map[string]*string{"retention.ms": str("a week")}, kerr.InvalidConfig, "Not a number"},
		{"retention below -1", "c5", 1, 1, map[string]*string{"retention.ms": str("-2")}, kerr.InvalidConfig, "at least -1"},
		{"timestamp type", "c6", 1, 1, map[string]*string{"message.timestamp.type": str("WallClock")}, kerr.InvalidConfig, "CreateTime, LogAppendTime"},
		{"fixed min.insync.replicas", "c7", 1, 1, map[string]*string{"min.insync.replicas": str("2")}, kerr.InvalidConfig, "fixed at 1"},
		{"replication factor 3", "r3", 1, 3, nil, kerr.InvalidReplicationFactor, "only 1 broker"},
		{"replication factor 0", "r0", 1, 0, nil, kerr.InvalidReplicationFactor, "larger than 0"},
		{"zero partitions", "p0", 0, 1, nil, kerr.InvalidPartitions, "non-positive"},
		{"negative partitions", "pn", -5, 1, nil, kerr.InvalidPartitions, "non-positive"},
		{"too many partitions", "pmax", 1 << 20, 1, nil, kerr.InvalidPartitions, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.adm.CreateTopic(ctx, tt.partitions, tt.rf, tt.configs, tt.topic)
			if !errors.Is(err, tt.want) || !strings.Contains(r.ErrMessage, tt.msg) {
				t.Errorf("got %v %q, want %v containing %q", err, r.ErrMessage, tt.want, tt.msg)
			}
		})
	}
	// A valid topic in validate-only mode is checked and not created.
	if r, err := e.adm.ValidateCreateTopics(ctx, 4, 1, map[string]*string{"retention.ms": str("1000")}, "dry"); err != nil || r["dry"].Err != nil || r["dry"].NumPartitions != 4 {
		t.Errorf("validate only: %v %+v", err, r["dry"])
	}
	if r, _ := e.adm.ValidateCreateTopics(ctx, 1, 1, nil, "taken"); r["taken"].Err != kerr.TopicAlreadyExists {
		t.Errorf("validate only on an existing topic: %+v", r["taken"])
	}
	if names, _ := e.store.ListStreams(context.Background()); strings.Join(names, ",") != "a_b,taken" {
		t.Errorf("streams after refusals: %v", names)
	}
}

func TestAdminAlterErrorsKadm(t *testing.T) {
	e := startAdminEnv(t, "", nil)
	ctx := adminCtx(t)
	if _, err := e.adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": kadm.StringPtr("60000")}, "t"); err != nil {
		t.Fatal(err)
	}
	str := kadm.StringPtr
	set := func(k, v string) kadm.AlterConfig {
		return kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: str(v)}
	}
	tests := []struct {
		name  string
		topic string
		ops   []kadm.AlterConfig
		state bool // AlterConfigs instead of IncrementalAlterConfigs
		want  *kerr.Error
		msg   string
	}{
		{"shred", "t", []kadm.AlterConfig{set("cleanup.policy", "shred")}, false, kerr.InvalidConfig, "one of: compact, delete"},
		{"max lag under the default min", "t", []kadm.AlterConfig{set("min.compaction.lag.ms", "100"), set("max.compaction.lag.ms", "99")}, false, kerr.InvalidConfig, "conflict topic config setting"},
		{"append shred", "t", []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: str("shred")}}, false, kerr.InvalidConfig, "one of: compact, delete"},
		{"subtract to empty", "t", []kadm.AlterConfig{{Op: kadm.SubtractConfig, Name: "cleanup.policy", Value: str("delete")}}, false, kerr.InvalidConfig, "cannot be empty"},
		{"unknown key", "t", []kadm.AlterConfig{set("flush.ms", "1")}, false, kerr.InvalidConfig, "Unknown topic config name: flush.ms"},
		{"delete unknown key", "t", []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "flush.ms"}}, false, kerr.InvalidConfig, "Unknown"},
		{"append to a non-list", "t", []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "retention.ms", Value: str("5")}}, false, kerr.InvalidRequest, "append is not allowed"},
		{"subtract from a non-list", "t", []kadm.AlterConfig{{Op: kadm.SubtractConfig, Name: "max.message.bytes", Value: str("5")}}, false, kerr.InvalidRequest, "subtract is not allowed"},
		{"null value", "t", []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms"}}, false, kerr.InvalidRequest, "Null value"},
		{"same key twice", "t", []kadm.AlterConfig{set("retention.ms", "1"), set("retention.ms", "2")}, false, kerr.InvalidRequest, "duplicate config keys"},
		{"bad value after a good one", "t", []kadm.AlterConfig{set("retention.ms", "1"), set("max.message.bytes", "-3")}, false, kerr.InvalidConfig, "at least 0"},
		{"unknown topic", "nope", []kadm.AlterConfig{set("retention.ms", "1")}, false, kerr.UnknownTopicOrPartition, "does not exist"},
		{"state shred", "t", []kadm.AlterConfig{{Name: "cleanup.policy", Value: str("shred")}}, true, kerr.InvalidConfig, "one of: compact, delete"},
		{"state unknown key", "t", []kadm.AlterConfig{{Name: "segment.bytes", Value: str("1")}}, true, kerr.InvalidConfig, "Unknown"},
		{"state null", "t", []kadm.AlterConfig{{Name: "retention.ms"}}, true, kerr.InvalidRequest, "Null value"},
		{"state unknown topic", "nope", []kadm.AlterConfig{{Name: "retention.ms", Value: str("1")}}, true, kerr.UnknownTopicOrPartition, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alter := e.adm.AlterTopicConfigs
			if tt.state {
				alter = e.adm.AlterTopicConfigsState
			}
			rs, err := alter(ctx, tt.ops, tt.topic)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := rs.On(tt.topic, nil)
			if r.Err != tt.want || !strings.Contains(r.ErrMessage, tt.msg) {
				t.Errorf("got %v %q, want %v containing %q", r.Err, r.ErrMessage, tt.want, tt.msg)
			}
		})
	}
	// Nothing of the refused changes stuck.
	cs := e.topicConfigs(t, "t")
	wantConfig(t, cs, "retention.ms", "60000", srcTopic)
	wantConfig(t, cs, "max.message.bytes", "1048588", srcDefault)
	wantConfig(t, cs, "cleanup.policy", "delete", srcDefault)

	// Broker configs are read-only.
	rs, err := e.adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{set("num.partitions", "4")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Err != kerr.InvalidRequest || !strings.Contains(rs[0].ErrMessage, "read-only") {
		t.Errorf("alter broker: %+v", rs[0])
	}
}

func TestAdminDescribeErrorsAndBroker(t *testing.T) {
	e := startAdminEnv(t, "", func(c *Config) { c.DefaultPartitions = 4; c.AutoCreateTopics = false })
	ctx := adminCtx(t)
	rcs, err := e.adm.DescribeTopicConfigs(ctx, "missing")
	if err != nil {
		t.Fatal(err)
	}
	if rc, _ := rcs.On("missing", nil); rc.Err != kerr.UnknownTopicOrPartition || len(rc.Configs) != 0 {
		t.Errorf("describe missing topic: %+v", rc)
	}
	rcs, err = e.adm.DescribeBrokerConfigs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	broker := map[string]kadm.Config{}
	for _, c := range rcs[0].Configs {
		broker[c.Key] = c
	}
	wantConfig(t, broker, "broker.id", "0", kmsg.ConfigSourceStaticBrokerConfig)
	wantConfig(t, broker, "num.partitions", "4", kmsg.ConfigSourceStaticBrokerConfig)
	wantConfig(t, broker, "auto.create.topics.enable", "false", kmsg.ConfigSourceStaticBrokerConfig)
	wantConfig(t, broker, "message.max.bytes", "1048588", srcDefault)
	wantConfig(t, broker, "log.retention.ms", "604800000", srcDefault)
	if rcs, err := e.adm.DescribeBrokerConfigs(ctx); err != nil || rcs[0].Err != nil || len(rcs[0].Configs) != 0 {
		t.Errorf("cluster-wide broker defaults: %v %+v", err, rcs)
	}

	w := dialAdminWire(t, e.addr)
	req := kmsg.NewPtrDescribeConfigsRequest()
	for _, res := range []struct {
		typ  kmsg.ConfigResourceType
		name string
	}{{kmsg.ConfigResourceTypeBroker, "1"}, {kmsg.ConfigResourceTypeBroker, "zero"}, {kmsg.ConfigResourceTypeBrokerLogger, "0"}, {kmsg.ConfigResourceTypeGroupConfig, "g"}} {
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType, r.ResourceName = res.typ, res.name
		req.Resources = append(req.Resources, r)
	}
	resp := w.do(req).(*kmsg.DescribeConfigsResponse)
	for _, r := range resp.Resources {
		if r.ErrorCode != kerr.InvalidRequest.Code || r.ErrorMessage == nil {
			t.Errorf("describe %v %q: code %d message %v, want INVALID_REQUEST", r.ResourceType, r.ResourceName, r.ErrorCode, r.ErrorMessage)
		}
	}

	// Deleting what is not there.
	dr, err := e.adm.DeleteTopics(ctx, "missing")
	if err != nil {
		t.Fatal(err)
	}
	if r := dr["missing"]; r.Err != kerr.UnknownTopicOrPartition {
		t.Errorf("delete missing topic: %+v", r)
	}
	dt := kmsg.NewPtrDeleteTopicsRequest()
	dt.Version = 6
	dt.Topics = []kmsg.DeleteTopicsRequestTopic{
		{TopicID: [16]byte{1, 2, 3}},
		{Topic: kmsg.StringPtr("missing"), TopicID: [16]byte{1}},
		{},
	}
	dresp := w.do(dt).(*kmsg.DeleteTopicsResponse)
	for i, want := range []int16{kerr.UnknownTopicID.Code, kerr.InvalidRequest.Code, kerr.InvalidRequest.Code} {
		if got := dresp.Topics[i].ErrorCode; got != want || dresp.Topics[i].ErrorMessage == nil {
			t.Errorf("delete by id, entry %d: code %d, want %d", i, got, want)
		}
	}

	// Growing a topic that is not there, or listing one twice.
	cp := kmsg.NewPtrCreatePartitionsRequest()
	for _, name := range []string{"missing", "x", "x"} {
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = name, 2
		cp.Topics = append(cp.Topics, rt)
	}
	cpr := w.do(cp).(*kmsg.CreatePartitionsResponse)
	for i, want := range []int16{kerr.UnknownTopicOrPartition.Code, kerr.InvalidRequest.Code, kerr.InvalidRequest.Code} {
		if got := cpr.Topics[i].ErrorCode; got != want {
			t.Errorf("create partitions entry %d: code %d, want %d", i, got, want)
		}
	}

	// DeleteRecords on unknown partitions, and below -1.
	if _, err := e.adm.CreateTopic(ctx, 1, 1, nil, "one"); err != nil {
		t.Fatal(err)
	}
	grow := kmsg.NewPtrCreatePartitionsRequest()
	gt := kmsg.NewCreatePartitionsRequestTopic()
	gt.Topic, gt.Count = "one", 1+maxPartitionsAdded+1
	grow.Topics = append(grow.Topics, gt)
	if r := w.do(grow).(*kmsg.CreatePartitionsResponse).Topics[0]; r.ErrorCode != kerr.InvalidPartitions.Code ||
		r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, "grow in steps") {
		t.Errorf("adding %d partitions at once: %+v", maxPartitionsAdded+1, r)
	}

	dreq := kmsg.NewPtrDeleteRecordsRequest()
	for _, tp := range []struct {
		topic  string
		p      int32
		offset int64
	}{{"missing", 0, 0}, {"one", 7, 0}, {"one", 0, -2}, {"one", 0, 0}} {
		rt := kmsg.NewDeleteRecordsRequestTopic()
		rt.Topic = tp.topic
		rp := kmsg.NewDeleteRecordsRequestTopicPartition()
		rp.Partition, rp.Offset = tp.p, tp.offset
		rt.Partitions = append(rt.Partitions, rp)
		dreq.Topics = append(dreq.Topics, rt)
	}
	drr := w.do(dreq).(*kmsg.DeleteRecordsResponse)
	for i, want := range []struct {
		code int16
		low  int64
	}{{kerr.UnknownTopicOrPartition.Code, -1}, {kerr.UnknownTopicOrPartition.Code, -1}, {kerr.OffsetOutOfRange.Code, -1}, {0, 0}} {
		if p := drr.Topics[i].Partitions[0]; p.ErrorCode != want.code || p.LowWatermark != want.low {
			t.Errorf("delete records entry %d: %+v, want code %d low %d", i, p, want.code, want.low)
		}
	}
}

// TestAdminEveryVersion sends each API at each advertised version and checks
// the fields that version carries.
func TestAdminEveryVersion(t *testing.T) {
	e := startAdminEnv(t, "", nil)
	w := dialAdminWire(t, e.addr)
	ids := map[int16][16]byte{}

	for v := int16(0); v <= 7; v++ {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.Version = v
		req.TimeoutMillis = 5000
		for _, name := range []string{fmt.Sprintf("v%d", v), fmt.Sprintf("v%d", v), fmt.Sprintf("v%d-ok", v)} {
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
			c := kmsg.NewCreateTopicsRequestTopicConfig()
			c.Name, c.Value = "retention.ms", kmsg.StringPtr("1000")
			rt.Configs = append(rt.Configs, c)
			req.Topics = append(req.Topics, rt)
		}
		resp := w.do(req).(*kmsg.CreateTopicsResponse)
		dup, ok := resp.Topics[0], resp.Topics[2]
		if dup.ErrorCode != kerr.InvalidRequest.Code || (v >= 1) != (dup.ErrorMessage != nil) {
			t.Errorf("CreateTopics v%d, topic named twice: %+v", v, dup)
		}
		if ok.ErrorCode != 0 || ok.ErrorMessage != nil {
			t.Fatalf("CreateTopics v%d: %+v", v, ok)
		}
		if v >= 5 && (ok.NumPartitions != 1 || ok.ReplicationFactor != 1 || len(ok.Configs) == 0) {
			t.Errorf("CreateTopics v%d: partitions %d rf %d configs %d", v, ok.NumPartitions, ok.ReplicationFactor, len(ok.Configs))
		}
		if (v >= 7) != (ok.TopicID != [16]byte{}) {
			t.Errorf("CreateTopics v%d: topic id %x", v, ok.TopicID)
		}
		ids[v] = ok.TopicID
	}

	for v := int16(0); v <= 4; v++ {
		req := kmsg.NewPtrDescribeConfigsRequest()
		req.Version = v
		req.IncludeSynonyms = v >= 1
		req.IncludeDocumentation = v >= 3
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, "v0-ok"
		r.ConfigNames = []string{"retention.ms", "cleanup.policy", "no.such.config"}
		req.Resources = append(req.Resources, r)
		resp := w.do(req).(*kmsg.DescribeConfigsResponse)
		res := resp.Resources[0]
		if res.ErrorCode != 0 || len(res.Configs) != 2 {
			t.Fatalf("DescribeConfigs v%d: %+v", v, res)
		}
		ret, pol := res.Configs[1], res.Configs[0] // topicConfigDefs order
		if ret.Name != "retention.ms" || *ret.Value != "1000" || pol.Name != "cleanup.policy" {
			t.Errorf("DescribeConfigs v%d: %+v", v, res.Configs)
		}
		if v == 0 && (ret.IsDefault || !pol.IsDefault) {
			t.Errorf("DescribeConfigs v0: IsDefault retention.ms %v cleanup.policy %v", ret.IsDefault, pol.IsDefault)
		}
		if v >= 1 && (ret.Source != srcTopic || pol.Source != srcDefault || len(ret.ConfigSynonyms) != 2) {
			t.Errorf("DescribeConfigs v%d: sources %v %v, synonyms %+v", v, ret.Source, pol.Source, ret.ConfigSynonyms)
		}
		if v >= 3 && (ret.ConfigType != kmsg.ConfigTypeLong || pol.ConfigType != kmsg.ConfigTypeList || ret.Documentation == nil) {
			t.Errorf("DescribeConfigs v%d: types %v %v, doc %v", v, ret.ConfigType, pol.ConfigType, ret.Documentation)
		}
	}

	for v := int16(0); v <= 2; v++ {
		req := kmsg.NewPtrAlterConfigsRequest()
		req.Version = v
		r := kmsg.NewAlterConfigsRequestResource()
		r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, fmt.Sprintf("v%d-ok", v)
		c := kmsg.NewAlterConfigsRequestResourceConfig()
		c.Name, c.Value = "max.message.bytes", kmsg.StringPtr("5000")
		r.Configs = append(r.Configs, c)
		req.Resources = append(req.Resources, r)
		if res := w.do(req).(*kmsg.AlterConfigsResponse).Resources[0]; res.ErrorCode != 0 {
			t.Errorf("AlterConfigs v%d: %+v", v, res)
		}
		st, _ := e.store.DescribeStream(context.Background(), r.ResourceName)
		if tc := TopicConfigFor(&st); tc.MaxMessageBytes != 5000 || tc.RetentionMs != DefaultRetentionMs {
			t.Errorf("AlterConfigs v%d: %+v", v, tc)
		}
	}
	for v := int16(0); v <= 1; v++ {
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.Version = v
		r := kmsg.NewIncrementalAlterConfigsRequestResource()
		r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, fmt.Sprintf("v%d-ok", v)
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Op, c.Value = "message.timestamp.type", kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr("LogAppendTime")
		r.Configs = append(r.Configs, c)
		req.Resources = append(req.Resources, r)
		if res := w.do(req).(*kmsg.IncrementalAlterConfigsResponse).Resources[0]; res.ErrorCode != 0 {
			t.Errorf("IncrementalAlterConfigs v%d: %+v", v, res)
		}
		st, _ := e.store.DescribeStream(context.Background(), r.ResourceName)
		if tc := TopicConfigFor(&st); !tc.LogAppendTime || tc.MaxMessageBytes != 5000 {
			t.Errorf("IncrementalAlterConfigs v%d: %+v", v, tc)
		}
	}
	for v := int16(0); v <= 3; v++ {
		req := kmsg.NewPtrCreatePartitionsRequest()
		req.Version = v
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = fmt.Sprintf("v%d-ok", v), 3
		a := kmsg.NewCreatePartitionsRequestTopicAssignment()
		a.Replicas = []int32{0}
		rt.Assignment = append(rt.Assignment, a, a)
		req.Topics = append(req.Topics, rt)
		if res := w.do(req).(*kmsg.CreatePartitionsResponse).Topics[0]; res.ErrorCode != 0 {
			t.Errorf("CreatePartitions v%d: %+v", v, res)
		}
		if st, _ := e.store.DescribeStream(context.Background(), rt.Topic); len(st.Partitions) != 3 {
			t.Errorf("CreatePartitions v%d: %d partitions", v, len(st.Partitions))
		}
	}
	for v := int16(0); v <= 2; v++ {
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.Version = v
		rt := kmsg.NewDeleteRecordsRequestTopic()
		rt.Topic = fmt.Sprintf("v%d-ok", v)
		for p := int32(0); p < 3; p++ {
			rp := kmsg.NewDeleteRecordsRequestTopicPartition()
			rp.Partition, rp.Offset = p, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		for _, p := range w.do(req).(*kmsg.DeleteRecordsResponse).Topics[0].Partitions {
			if p.ErrorCode != 0 || p.LowWatermark != 0 {
				t.Errorf("DeleteRecords v%d: %+v", v, p)
			}
		}
	}
	for v := int16(0); v <= 1; v++ {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.Version = v
		req.IncludeClusterAuthorizedOperations = true
		resp := w.do(req).(*kmsg.DescribeClusterResponse)
		if resp.ErrorCode != 0 || len(resp.Brokers) != 1 || resp.ClusterID == "" || resp.ClusterAuthorizedOperations != 1<<5|1<<7|1<<8|1<<9|1<<10|1<<11|1<<12 {
			t.Errorf("DescribeCluster v%d: %+v", v, resp)
		}
	}
	ctl := kmsg.NewPtrDescribeClusterRequest()
	ctl.Version, ctl.EndpointType = 1, 2
	if resp := w.do(ctl).(*kmsg.DescribeClusterResponse); resp.ErrorCode != kerr.UnsupportedEndpointType.Code {
		t.Errorf("DescribeCluster for controllers: %+v", resp)
	}

	for v := int16(0); v <= 6; v++ {
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.Version = v
		req.TimeoutMillis = 5000
		name := fmt.Sprintf("v%d-ok", v)
		if v < 6 {
			req.TopicNames = []string{name}
		} else {
			req.Topics = []kmsg.DeleteTopicsRequestTopic{{TopicID: ids[7]}, {Topic: kmsg.StringPtr(name)}}
		}
		resp := w.do(req).(*kmsg.DeleteTopicsResponse)
		for _, tp := range resp.Topics {
			if tp.ErrorCode != 0 {
				t.Errorf("DeleteTopics v%d: %+v", v, tp)
			}
		}
		if v == 6 && (resp.Topics[0].Topic == nil || *resp.Topics[0].Topic != "v7-ok") {
			t.Errorf("DeleteTopics v6 by id answered topic %v", resp.Topics[0].Topic)
		}
	}
	if names, _ := e.store.ListStreams(context.Background()); len(names) != 0 {
		t.Errorf("left: %v", names)
	}
}

// adminWire speaks the Kafka protocol on one connection at exact versions.
type adminWire struct {
	t    *testing.T
	c    net.Conn
	r    *bufio.Reader
	corr int32
	f    *kmsg.RequestFormatter
}

func dialAdminWire(t *testing.T, addr string) *adminWire {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &adminWire{t: t, c: c, r: bufio.NewReader(c), f: kmsg.NewRequestFormatter(kmsg.FormatterClientID("admin-test"))}
}

// do sends req at req's version and decodes the response at that version.
func (w *adminWire) do(req kmsg.Request) kmsg.Response {
	w.t.Helper()
	w.corr++
	w.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := w.c.Write(w.f.AppendRequest(nil, req, w.corr)); err != nil {
		w.t.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(w.r, size[:]); err != nil {
		w.t.Fatalf("%s v%d: reading response: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(w.r, body); err != nil {
		w.t.Fatal(err)
	}
	if corr := int32(binary.BigEndian.Uint32(body)); corr != w.corr {
		w.t.Fatalf("correlation id %d, want %d", corr, w.corr)
	}
	body = body[4:]
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() && req.Key() != int16(kmsg.ApiVersions) {
		n, k := binary.Uvarint(body) // response header tags
		body = body[k:]
		for range n {
			_, k := binary.Uvarint(body)
			size, k2 := binary.Uvarint(body[k:])
			body = body[k+k2+int(size):]
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		w.t.Fatalf("%s v%d: decoding response: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp
}
