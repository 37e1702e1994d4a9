package kinesis

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
	gwkinesis "github.com/streambridge/bridge/gateway/kinesis"
)

// startSink starts a sink task the way the runtime does (connector, task
// config, Start, Open).
func startSink(t *testing.T, cfg connect.Config, sc *connecttest.SinkContext, tps ...connect.TopicPartition) *SinkTask {
	t.Helper()
	conn := &SinkConnector{}
	if err := conn.Start(t.Context(), nil, cfg); err != nil {
		t.Fatal(err)
	}
	cfgs, err := conn.TaskConfigs(1)
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("TaskConfigs: %v, %v", cfgs, err)
	}
	task := conn.NewTask().(*SinkTask)
	if err := task.Start(t.Context(), sc, cfgs[0]); err != nil {
		t.Fatal(err)
	}
	sc.Assigned = tps
	if err := task.Open(t.Context(), tps); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = task.Stop(); _ = conn.Stop() })
	return task
}

var personSchema = &connect.Schema{Type: connect.TypeStruct, Name: "person", Fields: []connect.Field{
	{Name: "name", Index: 0, Schema: &connect.Schema{Type: connect.TypeString}},
	{Name: "id", Index: 1, Schema: &connect.Schema{Type: connect.TypeInt64}},
	{Name: "tags", Index: 2, Schema: &connect.Schema{Type: connect.TypeArray, Value: &connect.Schema{Type: connect.TypeString}}},
}}

func person(name string, id int64) *connect.Struct {
	s := connect.NewStruct(personSchema)
	_ = s.Put("name", name)
	_ = s.Put("id", id)
	_ = s.Put("tags", []any{"a", "b"})
	return s
}

// TestSinkWritesRecords writes records of every kind of key and value to
// a one-shard stream and reads them back, on the bridge and kinesalite.
func TestSinkWritesRecords(t *testing.T) {
	cases := []struct {
		key, value any
		pk, data   string
	}{
		{"k1", []byte("bytes value"), "k1", "bytes value"},
		{[]byte("k2"), "text value", "k2", "text value"},
		{nil, person("ada", 7), "kafka-null-key", `{"name":"ada","id":7,"tags":["a","b"]}`},
		{[]byte{}, map[string]any{"b": 1.5, "a": true}, "kafka-empty-key", `{"a":true,"b":1.5}`},
		{int64(42), []any{int32(1), "x", nil}, "42", `[1,"x",null]`},
		{[]byte{0xff, 0xfe}, int32(5), "kafka-key-md5-" + md5hex([]byte{0xff, 0xfe}), "5"},
		{strings.Repeat("é", 257), nil, "kafka-key-md5-" + md5hex([]byte(strings.Repeat("é", 257))), ""},
		{"k8", true, "k8", "true"},
	}
	for _, kind := range targetKinds {
		t.Run(kind.name, func(t *testing.T) {
			tg := kind.start(t)
			tg.createStream(t, "sink", 1)
			sc := &connecttest.SinkContext{}
			tp := connect.TopicPartition{Topic: "in", Partition: 0}
			task := startSink(t, tg.config(connect.Config{StreamConfig: "sink", "topics": "in"}), sc, tp)
			var recs []connect.Record
			for i, c := range cases {
				recs = append(recs, connect.Record{Topic: "in", Partition: 0, Offset: int64(i), Key: c.key, Value: c.value})
			}
			if err := task.Put(t.Context(), recs); err != nil {
				t.Fatal(err)
			}
			offsets := map[connect.TopicPartition]int64{tp: int64(len(recs))}
			if got, err := task.PreCommit(t.Context(), offsets); err != nil || !reflect.DeepEqual(got, offsets) {
				t.Fatalf("PreCommit = %v, %v", got, err)
			}
			stored := tg.readAll(t, "sink")["shardId-000000000000"]
			if len(stored) != len(cases) {
				t.Fatalf("%d records in the stream, want %d", len(stored), len(cases))
			}
			for i, c := range cases {
				if pk := aws.ToString(stored[i].PartitionKey); pk != c.pk || string(stored[i].Data) != c.data {
					t.Errorf("record %d: %s=%q, want %s=%q", i, pk, stored[i].Data, c.pk, c.data)
				}
			}
		})
	}
}

// TestSinkPartitionKeys: field:NAME from struct and map values, random.
func TestSinkPartitionKeys(t *testing.T) {
	tests := []struct {
		mode  string
		value any
		want  string
		err   string
	}{
		{"field:name", person("grace", 1), "grace", ""},
		{"field:id", person("grace", 1), "1", ""},
		{"field:tags", person("grace", 1), `["a","b"]`, ""},
		{"field:missing", map[string]any{"other": "x"}, "kafka-null-key", ""},
		{"field:user", map[string]any{"user": "u-9"}, "u-9", ""},
		{"field:user", []byte("raw"), "", "needs a struct or map value"},
		{"key", nil, "kafka-null-key", ""},
	}
	for _, tt := range tests {
		mode, field, _ := strings.Cut(tt.mode, ":")
		got, err := partitionKeyOf(mode, field, &connect.Record{Value: tt.value})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s on %v: err %v, want %q", tt.mode, tt.value, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s on %v = %q, %v; want %q", tt.mode, tt.value, got, err, tt.want)
		}
	}
	a, _ := partitionKeyOf("random", "", &connect.Record{})
	b, _ := partitionKeyOf("random", "", &connect.Record{})
	if a == b || a == "" {
		t.Errorf("random keys %q and %q", a, b)
	}
}

// TestSinkExplicitHashKeyPartition: with kinesis.explicit.hash.key=partition
// every record of Kafka partition P lands on open shard P mod N, whatever
// its key.
func TestSinkExplicitHashKeyPartition(t *testing.T) {
	for _, kind := range targetKinds {
		t.Run(kind.name, func(t *testing.T) {
			tg := kind.start(t)
			tg.createStream(t, "ehk", 3)
			sc := &connecttest.SinkContext{}
			task := startSink(t, tg.config(connect.Config{StreamConfig: "ehk", ExplicitHashKeyConfig: "partition", PartitionKeyConfig: "random"}), sc)
			var recs []connect.Record
			for i := range 60 {
				p := int32(i % 5)
				recs = append(recs, connect.Record{Topic: "in", Partition: p, Offset: int64(i / 5), Value: fmt.Sprintf("%d/%d", p, i/5)})
			}
			if err := task.Put(t.Context(), recs); err != nil {
				t.Fatal(err)
			}
			for shard, stored := range tg.readAll(t, "ehk") {
				idx, _ := shardIndex(shard)
				next := map[string]int{}
				for _, r := range stored {
					p, n, _ := strings.Cut(string(r.Data), "/")
					if pi := int32(p[0] - '0'); pi%3 != idx {
						t.Errorf("partition %d's record on %s", pi, shard)
					}
					if want := fmt.Sprint(next[p]); n != want {
						t.Errorf("%s: partition %s record %s, want %s", shard, p, n, want)
					}
					next[p]++
				}
			}
		})
	}
}

// TestSinkReportsOversizedRecords: a record over Kinesis's 1 MiB goes to
// the error handling, not to a task crash; with errors.tolerance=none the
// error handling's refusal ends Put.
func TestSinkReportsOversizedRecords(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "big", 1)
	huge := bytes.Repeat([]byte("x"), maxRecordBytes)
	recs := []connect.Record{
		{Topic: "in", Offset: 0, Key: "a", Value: "small"},
		{Topic: "in", Offset: 1, Key: "b", Value: huge}, // 1 MiB plus its key
		{Topic: "in", Offset: 2, Key: "c", Value: "small too"},
	}
	sc := &connecttest.SinkContext{Tolerate: true}
	task := startSink(t, tg.config(connect.Config{StreamConfig: "big"}), sc)
	if err := task.Put(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if len(sc.Reported) != 1 || sc.Reported[0].Record.Offset != 1 || !strings.Contains(sc.Reported[0].Err.Error(), "over Kinesis's limit") {
		t.Fatalf("reported %+v", sc.Reported)
	}
	if stored := tg.readAll(t, "big")["shardId-000000000000"]; len(stored) != 2 {
		t.Fatalf("%d records stored, want 2", len(stored))
	}

	strict := startSink(t, tg.config(connect.Config{StreamConfig: "big"}), &connecttest.SinkContext{})
	if err := strict.Put(t.Context(), recs); err == nil || errors.Is(err, connect.ErrRetriable) {
		t.Fatalf("Put with errors.tolerance=none: %v", err)
	}
}

// TestSinkRetriesOnlyRefusedEntries runs the bridge with provisioned
// throughput emulated on a frozen clock: after its 1000 records a second a
// shard refuses every entry until the test moves the clock (which it does
// when it hears of the refusals, so the calls after them would go through:
// only the sink's holding back keeps partition 0 in order). Kafka
// partition 0 goes to that shard, partition 1 to the other. The sink sends
// again only the refused entries (sent = records + refused), holds back
// partition 0's later records meanwhile, and the stream ends up with every
// record once, in order per partition. A Put that runs out of retries
// fails retriably, and the same records handed again write only what
// Kinesis had not taken.
func TestSinkRetriesOnlyRefusedEntries(t *testing.T) {
	tg := startBridge(t, func(c *gwkinesis.Config) { c.EnforceLimits = true })
	tg.createStream(t, "throttled", 2)
	tg.clock.freeze()

	task := startSink(t, tg.config(connect.Config{StreamConfig: "throttled", ExplicitHashKeyConfig: "partition",
		BatchRecordsConfig: "300", PutRetriesConfig: "5"}), &connecttest.SinkContext{})
	var sent, refused, refusals int
	task.onRound = func(s, r int) {
		sent += s
		refused += r
		if r > 0 {
			refusals++
			tg.clock.add(time2s) // the shard's buckets refill
		}
	}
	var recs []connect.Record
	next := [2]int64{}
	for i := range 2000 {
		p := int32(0)
		if i%5 == 4 {
			p = 1
		}
		recs = append(recs, connect.Record{Topic: "in", Partition: p, Offset: next[p], Key: "k", Value: fmt.Sprintf("%d/%05d", p, next[p])})
		next[p]++
	}
	if err := task.Put(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d records: %d entries sent, %d refused in %d calls", len(recs), sent, refused, refusals)
	if refusals == 0 || refused == 0 {
		t.Fatal("Kinesis refused nothing: the test did not throttle")
	}
	if sent != len(recs)+refused {
		t.Errorf("sent %d entries for %d records and %d refusals: taken entries were sent again", sent, len(recs), refused)
	}
	checkPartitionOrder(t, tg, "throttled", next)

	// Out of retries: Put fails retriably; handed again, it writes the rest.
	task.onRound = nil
	task.retries = 0
	var more []connect.Record
	for i := range 1200 {
		more = append(more, connect.Record{Topic: "in", Partition: 0, Offset: next[0] + int64(i), Key: "k", Value: fmt.Sprintf("0/%05d", next[0]+int64(i))})
	}
	next[0] += 1200
	err := task.Put(t.Context(), more)
	if !errors.Is(err, connect.ErrRetriable) {
		t.Fatalf("Put out of retries: %v, want a retriable error", err)
	}
	tg.clock.add(time2s)
	if err := task.Put(t.Context(), more); err != nil {
		t.Fatal(err)
	}
	checkPartitionOrder(t, tg, "throttled", next)
}

// checkPartitionOrder reads the stream and checks that each Kafka
// partition's records ("P/NNNNN") are all there once, in order.
func checkPartitionOrder(t *testing.T, tg *target, stream string, counts [2]int64) {
	t.Helper()
	var got [2][]string
	for _, stored := range tg.readAll(t, stream) {
		for _, r := range stored {
			p := r.Data[0] - '0'
			got[p] = append(got[p], string(r.Data))
		}
	}
	for p := range got {
		if int64(len(got[p])) != counts[p] {
			t.Errorf("partition %d: %d records in the stream, want %d", p, len(got[p]), counts[p])
		}
		for i, v := range got[p] {
			if want := fmt.Sprintf("%d/%05d", p, i); v != want {
				t.Fatalf("partition %d record %d is %s, want %s", p, i, v, want)
			}
		}
	}
}

// TestEncodeValue: Connect data as Kinesis data, logical types as Kafka's
// JsonConverter writes them without schemas.
func TestEncodeValue(t *testing.T) {
	decimal := func(scale string) *connect.Schema {
		return &connect.Schema{Type: connect.TypeBytes, Name: connect.LogicalDecimal, Parameters: map[string]string{"scale": scale}}
	}
	ts := time.Date(2026, 5, 1, 10, 0, 0, 5e6, time.UTC)
	tests := []struct {
		value  any
		schema *connect.Schema
		want   string
	}{
		{nil, nil, ""},
		{[]byte{0, 1}, nil, "\x00\x01"},
		{"naïve", nil, "naïve"},
		{int64(-3), nil, "-3"},
		{3.25, nil, "3.25"},
		{map[string]any{"z": []byte("hi"), "a": nil}, nil, `{"a":null,"z":"aGk="}`},
		{big.NewInt(156), decimal("2"), "1.56"},
		{big.NewInt(-5), decimal("3"), "-0.005"},
		{big.NewInt(7), nil, "7"},
		{ts, &connect.Schema{Type: connect.TypeInt64, Name: connect.LogicalTimestamp}, fmt.Sprint(ts.UnixMilli())},
		{ts, &connect.Schema{Type: connect.TypeInt32, Name: connect.LogicalDate}, fmt.Sprint(ts.Unix() / 86400)},
		{ts, &connect.Schema{Type: connect.TypeInt32, Name: connect.LogicalTime}, "36000005"},
		{ts, nil, `"2026-05-01T10:00:00.005Z"`},
		{time.Date(1969, 12, 31, 12, 0, 0, 0, time.UTC), &connect.Schema{Type: connect.TypeInt32, Name: connect.LogicalDate}, "-1"},
		{[]any{map[string]any{"d": big.NewInt(10)}}, &connect.Schema{Type: connect.TypeArray,
			Value: &connect.Schema{Type: connect.TypeMap, Value: decimal("1")}}, `[{"d":1.0}]`},
	}
	for _, tt := range tests {
		got, err := encodeValue(tt.value, tt.schema)
		if err != nil || string(got) != tt.want {
			t.Errorf("encodeValue(%v) = %q, %v; want %q", tt.value, got, err, tt.want)
		}
	}
	if _, err := encodeValue(make(chan int), nil); err == nil {
		t.Error("a channel value encoded")
	}
}

// TestStopEndsBlockedCalls: Stop from another goroutine ends a Put that
// waits to retry (its backoff here is an hour) and a Poll that waits for
// records.
func TestStopEndsBlockedCalls(t *testing.T) {
	tg := startBridge(t, func(c *gwkinesis.Config) { c.EnforceLimits = true })
	tg.createStream(t, "stop", 1)
	tg.clock.freeze()
	task := startSink(t, tg.config(connect.Config{StreamConfig: "stop", PutBackoffConfig: "3600000"}), &connecttest.SinkContext{})
	refused := make(chan struct{}, 1)
	task.onRound = func(_, r int) {
		if r > 0 {
			select {
			case refused <- struct{}{}:
			default:
			}
		}
	}
	var recs []connect.Record
	for i := range 1001 {
		recs = append(recs, connect.Record{Topic: "in", Offset: int64(i), Key: "k", Value: "v"})
	}
	putErr := make(chan error)
	go func() { putErr <- task.Put(t.Context(), recs) }()
	<-refused
	_ = task.Stop()
	if err := <-putErr; !errors.Is(err, connect.ErrRetriable) {
		t.Fatalf("Put after Stop: %v, want a retriable error", err)
	}

	run := startSource(t, tg.config(connect.Config{StreamConfig: "stop", TopicConfig: "out", PositionConfig: "LATEST"}), 1, nil)
	source := run.tasks[0]
	polled := make(chan error)
	go func() {
		_, err := source.Poll(t.Context())
		polled <- err
	}()
	_ = source.Stop()
	if err := <-polled; err != nil {
		t.Fatalf("Poll after Stop: %v", err)
	}
}
