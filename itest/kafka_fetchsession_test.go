package itest

// Fetch sessions (KIP-227) with third-party consumers against the bridge
// binary: each client reads every record whether it uses sessions or not,
// and the bridge_kafka_fetches_total{kind} counters show which it used.

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// fetchKinds scrapes bridge_kafka_fetches_total by kind.
func fetchKinds(t *testing.T, k *kafkaCluster) map[string]float64 {
	t.Helper()
	code, body := httpGet(t, "http://"+k.bridge.admin+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, `bridge_kafka_fetches_total{kind="`)
		if !ok {
			continue
		}
		kind, val, _ := strings.Cut(rest, `"} `)
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		out[kind] = f
	}
	return out
}

func kindsDelta(before, after map[string]float64) map[string]float64 {
	d := map[string]float64{}
	for k, v := range after {
		if v-before[k] != 0 {
			d[k] = v - before[k]
		}
	}
	return d
}

func TestKafkaFetchSessionClients(t *testing.T) {
	needsBridge(t)
	k := startKafka(t)
	for _, c := range kafkaClients {
		t.Run(c.name, func(t *testing.T) {
			c.need(t)
			topic := "fetchsess-" + strings.ReplaceAll(c.name, ".", "")
			k.createTopic(topic, 3, nil)
			recs := kgoProduce(t, k.addr, topic, "none", genRecs(kafkaClients[0], "none", 1700000000000))
			ends := k.endOffsets(topic)
			before := fetchKinds(t, k)
			got := c.consume(t, k.addr, topic, ends)
			if len(got) != len(recs) {
				t.Fatalf("%s read %d records, want %d", c.name, len(got), len(recs))
			}
			d := kindsDelta(before, fetchKinds(t, k))
			t.Logf("%s fetches by kind: %v", c.name, d)
			if d["error"] != 0 {
				t.Errorf("%s got %v session errors", c.name, d["error"])
			}
			if c.name == "franz-go" && d["full"] == 0 {
				t.Errorf("franz-go made no full fetch creating a session: %v", d)
			}
		})
	}

	// A consumer that stays: after its first full fetches the records
	// produced later come by incremental ones.
	t.Run("franz-go incremental", func(t *testing.T) {
		const topic = "fetchsess-incremental"
		k.createTopic(topic, 3, nil)
		cl := k.client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DefaultProduceTopic(topic))
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
		defer cancel()
		before := fetchKinds(t, k)
		got := 0
		for round, want := range []int{20, 40} {
			for i := range 20 {
				if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(strconv.Itoa(round*20 + i))}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			for got < want {
				fs := cl.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Fatalf("read %d of %d records", got, want)
				}
				fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
				got += fs.NumRecords()
			}
		}
		d := kindsDelta(before, fetchKinds(t, k))
		if d["full"] == 0 || d["incremental"] == 0 || d["error"] != 0 {
			t.Fatalf("fetches by kind %v, want full and incremental ones, no errors", d)
		}
		t.Logf("fetches by kind: %v", d)
	})
}

// --fetch-session-cache-slots: 0 keeps no sessions, the default does.
func TestKafkaFetchSessionSlotsFlag(t *testing.T) {
	needsBridge(t)
	for _, tt := range []struct {
		args    []string
		session bool
	}{
		{nil, true},
		{[]string{"--fetch-session-cache-slots", "0"}, false},
	} {
		k := startKafka(t, tt.args...)
		k.createTopic("slots", 1, nil)
		versions := kversion.Stable()
		versions.SetMaxKeyVersion(int16(kmsg.Fetch), 12) // topic names
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID, req.MaxBytes, req.SessionEpoch = -1, 1<<20, 0
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = "slots"
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.PartitionMaxBytes = 1 << 20
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
		resp, err := req.RequestWith(ctx, k.client(kgo.MaxVersions(versions)))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode != 0 || (resp.SessionID != 0) != tt.session {
			t.Errorf("%v: error %d session id %d, want a session: %v", tt.args, resp.ErrorCode, resp.SessionID, tt.session)
		}
	}
}
