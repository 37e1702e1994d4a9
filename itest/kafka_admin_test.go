package itest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// kadm (franz-go's admin client) creates, lists, describes, reconfigures,
// grows and deletes topics, and lists and deletes records.
func TestKafkaAdmin(t *testing.T) {
	k := startKafka(t)
	adm := k.admin()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()

	// Create.
	resp, err := adm.CreateTopics(ctx, 2, 1, map[string]*string{
		"retention.ms":      strPtr("3600000"),
		"max.message.bytes": strPtr("200000"),
	}, "adm-a")
	if err != nil || resp["adm-a"].Err != nil {
		t.Fatalf("create adm-a: %v %v", err, resp["adm-a"].Err)
	}
	if r := resp["adm-a"]; r.NumPartitions != 2 {
		t.Errorf("create adm-a: %d partitions in the response, want 2", r.NumPartitions)
	}
	k.createTopic("adm-b", 1, nil)
	if r, err := adm.CreateTopic(ctx, 1, 1, nil, "adm-a"); !errors.Is(firstErr(err, r.Err), kerr.TopicAlreadyExists) {
		t.Errorf("create adm-a again: %v, want TOPIC_ALREADY_EXISTS", firstErr(err, r.Err))
	}
	if !useKfake() {
		// Kafka rejects unknown configs; kfake keeps them.
		if r, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"no.such.config": strPtr("1")}, "adm-bad"); !errors.Is(firstErr(err, r.Err), kerr.InvalidConfig) {
			t.Errorf("create with an unknown config: %v, want INVALID_CONFIG", firstErr(err, r.Err))
		}
		// A policy Kafka does not know.
		if r, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": strPtr("compact,shred")}, "adm-compact"); !errors.Is(firstErr(err, r.Err), kerr.InvalidConfig) {
			t.Errorf("create with cleanup.policy=compact,shred: %v, want INVALID_CONFIG", firstErr(err, r.Err))
		}
	}

	// List.
	listed := listTopics(t, k)
	if got := len(listed["adm-a"].Partitions); got != 2 {
		t.Errorf("list: adm-a has %d partitions, want 2", got)
	}
	if got := len(listed["adm-b"].Partitions); got != 1 {
		t.Errorf("list: adm-b has %d partitions, want 1", got)
	}
	for _, name := range []string{"adm-bad", "adm-compact"} {
		if _, ok := listed[name]; ok {
			t.Errorf("list: %s exists though its creation failed", name)
		}
	}

	// Describe and alter configs.
	checkConfig(t, adm, "adm-a", "retention.ms", "3600000", true)
	checkConfig(t, adm, "adm-a", "max.message.bytes", "200000", true)
	alter, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: strPtr("7200000")},
		{Op: kadm.DeleteConfig, Name: "max.message.bytes"},
	}, "adm-a")
	if err == nil {
		for _, a := range alter {
			err = errors.Join(err, a.Err)
		}
	}
	if err != nil {
		t.Fatalf("incremental alter configs: %v", err)
	}
	checkConfig(t, adm, "adm-a", "retention.ms", "7200000", true)
	checkConfig(t, adm, "adm-a", "max.message.bytes", "", false)

	// Grow adm-b from 1 to 3 partitions, and use the new one.
	grow, err := adm.CreatePartitions(ctx, 2, "adm-b")
	if err == nil {
		err = grow["adm-b"].Err
	}
	if err != nil {
		t.Fatalf("create partitions: %v", err)
	}
	if got := len(listTopics(t, k)["adm-b"].Partitions); got != 3 {
		t.Errorf("after adding 2 partitions, adm-b has %d, want 3", got)
	}

	offs := offsetsOf(t)

	// Records: produce 10 to adm-a/0 and 1 to adm-b/2.
	cl := k.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	var recs []*kgo.Record
	for i := 0; i < 10; i++ {
		recs = append(recs, &kgo.Record{Topic: "adm-a", Partition: 0, Value: []byte("r" + strconv.Itoa(i)),
			Timestamp: t0.Add(time.Duration(i) * time.Second)})
	}
	recs = append(recs, &kgo.Record{Topic: "adm-b", Partition: 2, Value: []byte("new partition")})
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if recs[10].Offset != 0 {
		t.Errorf("first record of the new partition adm-b/2 at offset %d, want 0", recs[10].Offset)
	}
	checkOffsets(t, "end offsets", offs(adm.ListEndOffsets(ctx, "adm-a", "adm-b")),
		map[string]map[int32]int64{"adm-a": {0: 10, 1: 0}, "adm-b": {0: 0, 1: 0, 2: 1}})
	checkOffsets(t, "start offsets", offs(adm.ListStartOffsets(ctx, "adm-a")),
		map[string]map[int32]int64{"adm-a": {0: 0, 1: 0}})
	// By time: the first record at or after t0+4.5s is r5.
	afterMilli := offs(adm.ListOffsetsAfterMilli(ctx, t0.Add(4500*time.Millisecond).UnixMilli(), "adm-a"))
	if got := afterMilli["adm-a"][0]; got != 5 {
		t.Errorf("offset after t0+4.5s on adm-a/0: %d, want 5", got)
	}

	// Delete records below offset 4.
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: "adm-a", Partition: 0, At: 4})
	del, err := adm.DeleteRecords(ctx, os)
	if err == nil {
		err = del.Error()
	}
	if err != nil {
		t.Fatalf("delete records: %v", err)
	}
	if d, _ := del.Lookup("adm-a", 0); d.LowWatermark != 4 {
		t.Errorf("delete records: low watermark %d, want 4", d.LowWatermark)
	}
	checkOffsets(t, "start offsets after delete records", offs(adm.ListStartOffsets(ctx, "adm-a")),
		map[string]map[int32]int64{"adm-a": {0: 4, 1: 0}})
	checkOffsets(t, "end offsets after delete records", offs(adm.ListEndOffsets(ctx, "adm-a")),
		map[string]map[int32]int64{"adm-a": {0: 10, 1: 0}})
	got := kgoConsume(t, k.addr, "adm-a", map[int32]int64{0: 10})
	if len(got) != 6 || got[0].Offset != 4 || string(got[0].Value) != "r4" {
		t.Errorf("after deleting records below 4, read %d records starting at %v, want r4..r9", len(got), got[:min(1, len(got))])
	}
	if code := rawFetchError(t, k, "adm-a", 0, 2); code != kerr.OffsetOutOfRange.Code {
		t.Errorf("fetch at deleted offset 2: error code %d, want OFFSET_OUT_OF_RANGE (%d)", code, kerr.OffsetOutOfRange.Code)
	}

	// The cluster: one broker, at the address clients were given.
	if !useKfake() {
		md, err := adm.BrokerMetadata(ctx)
		if err != nil {
			t.Fatal(err)
		}
		host, port, _ := net.SplitHostPort(k.addr)
		if len(md.Brokers) != 1 || md.Brokers[0].NodeID != 0 || md.Brokers[0].Host != host || strconv.Itoa(int(md.Brokers[0].Port)) != port {
			t.Errorf("brokers %+v, want node 0 at %s", md.Brokers, k.addr)
		}
	}

	// Delete topics.
	dresp, err := adm.DeleteTopics(ctx, "adm-a", "adm-b")
	if err == nil {
		for _, d := range dresp {
			err = errors.Join(err, d.Err)
		}
	}
	if err != nil {
		t.Fatalf("delete topics: %v", err)
	}
	listed = listTopics(t, k)
	for _, name := range []string{"adm-a", "adm-b"} {
		if _, ok := listed[name]; ok {
			t.Errorf("list after delete: %s still there", name)
		}
	}
	if d, err := adm.DeleteTopic(ctx, "adm-a"); !errors.Is(firstErr(err, d.Err), kerr.UnknownTopicOrPartition) {
		t.Errorf("delete adm-a again: %v, want UNKNOWN_TOPIC_OR_PARTITION", firstErr(err, d.Err))
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// listTopics lists topics through a new client: kadm answers from the
// client's metadata cache, which would hide changes made a moment ago.
func listTopics(t *testing.T, k *kafkaCluster) kadm.TopicDetails {
	t.Helper()
	adm := k.admin()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	td, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	return td
}

// checkConfig describes topic and checks key: set to value as a topic
// override (dynamic), or, when dynamic is false, not overridden.
func checkConfig(t *testing.T, adm *kadm.Client, topic, key, value string, dynamic bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatalf("describe configs of %s: %v", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		t.Fatalf("describe configs of %s: %v", topic, err)
	}
	for _, c := range rc.Configs {
		if c.Key != key {
			continue
		}
		isDynamic := c.Source == kmsg.ConfigSourceDynamicTopicConfig
		if isDynamic != dynamic || (dynamic && c.MaybeValue() != value) {
			t.Errorf("%s: %s = %q (source %v), want %q set on the topic: %v", topic, key, c.MaybeValue(), c.Source, value, dynamic)
		}
		return
	}
	t.Errorf("%s: describe configs has no %s", topic, key)
}

// offsetsOf returns a function that turns a kadm ListOffsets answer into
// topic -> partition -> offset, failing t on an error.
func offsetsOf(t *testing.T) func(kadm.ListedOffsets, error) map[string]map[int32]int64 {
	return func(lo kadm.ListedOffsets, err error) map[string]map[int32]int64 {
		t.Helper()
		return listedOffsets(t, lo, err)
	}
}

func listedOffsets(t *testing.T, lo kadm.ListedOffsets, err error) map[string]map[int32]int64 {
	t.Helper()
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		t.Fatalf("list offsets: %v", err)
	}
	out := map[string]map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) {
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.Offset
	})
	return out
}

func checkOffsets(t *testing.T, what string, got, want map[string]map[int32]int64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
}

// rawFetchError fetches one partition at offset and returns the error code.
func rawFetchError(t *testing.T, k *kafkaCluster, topic string, partition int32, offset int64) int16 {
	t.Helper()
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(int16(kmsg.Fetch), 12) // topic names, not ids
	cl := k.client(kgo.MaxVersions(versions))
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = 100
	req.MaxBytes = 1 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.LogStartOffset, rp.CurrentLeaderEpoch = partition, offset, 1<<20, -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("fetch %s/%d@%d: %v", topic, partition, offset, err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch %s/%d@%d: malformed response", topic, partition, offset)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}
