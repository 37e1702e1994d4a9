package distributed

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect/runtime"
)

// Kafka's UtilsTest.testMurmur2 vectors.
func TestMurmur2(t *testing.T) {
	for in, want := range map[string]int32{"21": -973932308, "foobar": -790332482, "a-little-bit-long-string": -985981536,
		"a-little-bit-longer-string": -1486304829, "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107} {
		if got := murmur2([]byte(in)); got != want {
			t.Errorf("murmur2(%q) = %d, want %d", in, got, want)
		}
	}
}

func openOffsets(t *testing.T, brokers []string) *OffsetStore {
	t.Helper()
	s, err := OpenOffsetStore(testCtx(t), Options{Brokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestOffsetStore(t *testing.T) {
	for _, c := range clusters {
		t.Run(c.name, func(t *testing.T) {
			brokers := c.start(t)
			ctx := testCtx(t)
			s := openOffsets(t, brokers)

			// Kafka's FileStreamSource keeps partition {"filename":…} and
			// offset {"position":…}; KafkaOffsetBackingStore's record is
			// ["<connector>",{partition}] → {offset}, compact JSON.
			part := map[string]any{"filename": "test.txt"}
			if err := s.Put(ctx, "local-file-source", []runtime.SourceOffset{{Partition: part, Offset: map[string]any{"position": int64(84)}}}); err != nil {
				t.Fatal(err)
			}
			recs := rawRecords(t, brokers, "connect-offsets")
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			const wantKey, wantValue = `["local-file-source",{"filename":"test.txt"}]`, `{"position":84}`
			if string(recs[0].Key) != wantKey || string(recs[0].Value) != wantValue {
				t.Fatalf("record %s → %s, want %s → %s", recs[0].Key, recs[0].Value, wantKey, wantValue)
			}
			if p := kafkaPartition(recs[0].Key, 25); recs[0].Partition != p {
				t.Fatalf("record in partition %d, Kafka's producer picks %d", recs[0].Partition, p)
			}

			// A second store reads what the first wrote; numbers come back
			// as Kafka's JsonConverter reads them.
			other := openOffsets(t, brokers)
			got, err := other.Get(ctx, "local-file-source", part)
			if err != nil || !reflect.DeepEqual(got, map[string]any{"position": int64(84)}) {
				t.Fatalf("Get = %#v, %v", got, err)
			}

			// The other store's write is seen by the first.
			if err := other.Put(ctx, "local-file-source", []runtime.SourceOffset{{Partition: part, Offset: map[string]any{"position": int64(99)}}}); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Get(ctx, "local-file-source", part); got["position"] != int64(99) {
				t.Fatalf("first store sees %v", got)
			}

			// A key written by a Java worker with its members in another
			// order is the same partition, and later writes reuse its bytes.
			javaKey := []byte(`["multi",{"table":"t1","db":"d"}]`)
			pr := newClient(t, brokers)
			if err := pr.ProduceSync(ctx, &kgo.Record{Topic: "connect-offsets", Key: javaKey, Value: []byte(`{"lsn":1}`)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			multi := map[string]any{"db": "d", "table": "t1"}
			if got, _ := s.Get(ctx, "multi", multi); got["lsn"] != int64(1) {
				t.Fatalf("Java-ordered key not found: %v", got)
			}
			if err := s.Put(ctx, "multi", []runtime.SourceOffset{{Partition: multi, Offset: map[string]any{"lsn": int64(2)}}}); err != nil {
				t.Fatal(err)
			}
			for _, r := range rawRecords(t, brokers, "connect-offsets") {
				if strings.HasPrefix(string(r.Key), `["multi"`) && string(r.Key) != string(javaKey) {
					t.Fatalf("rewrote the key as %s", r.Key)
				}
			}

			// A nil offset is a tombstone.
			if err := s.Put(ctx, "local-file-source", []runtime.SourceOffset{{Partition: part}}); err != nil {
				t.Fatal(err)
			}
			var last *kgo.Record // records of one key share a partition, so keep their order
			for _, r := range rawRecords(t, brokers, "connect-offsets") {
				if string(r.Key) == wantKey {
					last = r
				}
			}
			if last == nil || last.Value != nil {
				t.Fatalf("no tombstone: %v", last)
			}
			if got, _ := other.Get(ctx, "local-file-source", part); got != nil {
				t.Fatalf("deleted offset still read: %v", got)
			}

			// After a restart the store reads back the same view.
			list, _ := s.List(ctx, "multi")
			s.Close()
			again := openOffsets(t, brokers)
			list2, err := again.List(ctx, "multi")
			if err != nil || !reflect.DeepEqual(list, list2) || len(list2) != 1 {
				t.Fatalf("after restart %v (%v), before %v", list2, err, list)
			}
			if got, _ := again.Get(ctx, "local-file-source", part); got != nil {
				t.Fatalf("tombstoned offset back after restart: %v", got)
			}
		})
	}
}

func TestTopicsCreatedCompacted(t *testing.T) {
	for _, c := range clusters {
		t.Run(c.name, func(t *testing.T) {
			brokers := c.start(t)
			ctx := testCtx(t)
			openOffsets(t, brokers)
			cs, err := OpenConfigStore(ctx, ConfigOptions{Options: Options{Brokers: brokers}})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			ss, err := OpenStatusStore(ctx, Options{Brokers: brokers})
			if err != nil {
				t.Fatal(err)
			}
			defer ss.Close()
			adm := kadm.NewClient(newClient(t, brokers))
			details, err := adm.ListTopics(ctx, "connect-offsets", "connect-configs", "connect-status")
			if err != nil {
				t.Fatal(err)
			}
			for topic, want := range map[string]int{"connect-offsets": 25, "connect-configs": 1, "connect-status": 5} {
				if n := len(details[topic].Partitions); n != want {
					t.Errorf("%s has %d partitions, want %d", topic, n, want)
				}
			}
			rcs, err := adm.DescribeTopicConfigs(ctx, "connect-offsets", "connect-configs", "connect-status")
			if err != nil {
				t.Fatal(err)
			}
			for _, rc := range rcs {
				policy := ""
				for _, c := range rc.Configs {
					if c.Key == "cleanup.policy" {
						policy = c.MaybeValue()
					}
				}
				if policy != "compact" {
					t.Errorf("%s cleanup.policy %q", rc.Name, policy)
				}
			}
		})
	}
}

func TestRefusesDeleteTopic(t *testing.T) {
	for _, c := range clusters {
		t.Run(c.name, func(t *testing.T) {
			brokers := c.start(t)
			ctx := testCtx(t)
			adm := kadm.NewClient(newClient(t, brokers))
			del := "delete"
			if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": &del}, "connect-status"); err != nil {
				t.Fatal(err)
			}
			_, err := OpenStatusStore(ctx, Options{Brokers: brokers})
			want := "Topic 'connect-status' supplied via the 'status.storage.topic' property is required to have 'cleanup.policy=compact' to guarantee consistency and durability of connector and task statuses, but found the topic currently has 'cleanup.policy=delete'. Continuing would likely result in eventually losing connector and task statuses and problems restarting this Connect cluster in the future. Change the 'status.storage.topic' property in the Connect worker configurations to use a topic with 'cleanup.policy=compact'."
			if err == nil || err.Error() != want {
				t.Fatalf("err %v", err)
			}
			if _, err := OpenOffsetStore(ctx, Options{Brokers: brokers, Topic: "connect-status"}); err == nil || !strings.Contains(err.Error(), "'offset.storage.topic'") {
				t.Fatalf("offsets over a delete topic: %v", err)
			}
		})
	}
}

// A partition whose records were all deleted (DeleteRecords up to its end)
// has nothing to read: opening a store does not wait for it. Kafka and the
// bridge refuse DeleteRecords on a compact-only topic (POLICY_VIOLATION);
// kfake allows it, which is how such a partition comes about here.
func TestReadToEndAfterDeleteRecords(t *testing.T) {
	brokers := startKfake(t)
	ctx := testCtx(t)
	s := openOffsets(t, brokers)
	must(t, s.Put(ctx, "c", []runtime.SourceOffset{{Partition: map[string]any{"p": "1"}, Offset: map[string]any{"o": "x"}}}))
	adm := kadm.NewClient(newClient(t, brokers))
	ends, err := adm.ListEndOffsets(ctx, "connect-offsets")
	must(t, err)
	toDelete := kadm.Offsets{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			toDelete.Add(kadm.Offset{Topic: o.Topic, Partition: o.Partition, At: o.Offset})
		}
	})
	resp, err := adm.DeleteRecords(ctx, toDelete)
	must(t, err)
	must(t, resp.Error())
	again := openOffsets(t, brokers)
	if got, err := again.Get(ctx, "c", map[string]any{"p": "1"}); err != nil || got != nil {
		t.Fatalf("Get = %v, %v", got, err)
	}
}

// Tasks of several connectors commit at once; each reads back its own.
func TestOffsetStoreConcurrent(t *testing.T) {
	brokers := startKfake(t)
	ctx := testCtx(t)
	s := openOffsets(t, brokers)
	errs := make(chan error, 4)
	for w := range 4 {
		go func() {
			conn := string(rune('a' + w))
			for i := range 10 {
				part := map[string]any{"shard": int64(i)}
				if err := s.Put(ctx, conn, []runtime.SourceOffset{{Partition: part, Offset: map[string]any{"seq": int64(i * w)}}}); err != nil {
					errs <- err
					return
				}
				got, err := s.Get(ctx, conn, part)
				if err != nil || got["seq"] != int64(i*w) {
					errs <- fmt.Errorf("%s shard %d: %v, %v", conn, i, got, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		must(t, <-errs)
	}
	for w := range 4 {
		list, err := s.List(ctx, string(rune('a'+w)))
		if err != nil || len(list) != 10 {
			t.Fatalf("connector %c: %d offsets, %v", 'a'+w, len(list), err)
		}
	}
}
