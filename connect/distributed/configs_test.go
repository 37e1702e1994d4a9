package distributed

import (
	"reflect"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/runtime"
)

type changeLog struct {
	mu  sync.Mutex
	got []ConfigChange
}

func (c *changeLog) add(ch ConfigChange) {
	c.mu.Lock()
	c.got = append(c.got, ch)
	c.mu.Unlock()
}

func (c *changeLog) list() []ConfigChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ConfigChange(nil), c.got...)
}

func openConfigs(t *testing.T, brokers []string, onChange func(ConfigChange)) *ConfigStore {
	t.Helper()
	s, err := OpenConfigStore(testCtx(t), ConfigOptions{Options: Options{Brokers: brokers}, OnChange: onChange})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestConfigStoreRecords(t *testing.T) {
	for _, c := range clusters {
		t.Run(c.name, func(t *testing.T) {
			brokers := c.start(t)
			ctx := testCtx(t)
			s := openConfigs(t, brokers, nil)
			if snap := s.Snapshot(); snap.Offset != -1 || len(snap.Connectors) != 0 {
				t.Fatalf("empty topic snapshot %+v", snap)
			}
			cfg := connect.Config{"connector.class": "FileStreamSource", "name": "src", "file": "<in>&"}
			must(t, s.PutConnectorConfig(ctx, "src", cfg))
			must(t, s.PutTaskConfigs(ctx, "src", []connect.Config{{"task.class": "T", "n": "0"}, {"task.class": "T", "n": "1"}}))
			must(t, s.PutTargetState(ctx, "src", Paused))
			must(t, s.PutTargetState(ctx, "src", Stopped))
			must(t, s.PutRestartRequest(ctx, "src", true, true))
			if !s.Snapshot().Connectors["src"].PendingFencing {
				t.Error("task configs committed after no task count record: not pending fencing")
			}
			must(t, s.PutTaskCountRecord(ctx, "src", 2))

			// KafkaConfigBackingStore's keys and JsonConverter's values
			// (schemas.enable=false): one partition, in write order.
			want := []struct{ key, value string }{
				{"connector-src", `{"properties":{"connector.class":"FileStreamSource","file":"<in>&","name":"src"}}`},
				{"task-src-0", `{"properties":{"n":"0","task.class":"T"}}`},
				{"task-src-1", `{"properties":{"n":"1","task.class":"T"}}`},
				{"commit-src", `{"tasks":2}`},
				{"target-state-src", `{"state":"PAUSED","state.v2":"PAUSED"}`},
				{"target-state-src", `{"state":"PAUSED","state.v2":"STOPPED"}`},
				{"restart-connector-src", `{"include-tasks":true,"only-failed":true}`},
				{"tasks-fencing-src", `{"task-count":2}`},
			}
			recs := rawRecords(t, brokers, "connect-configs")
			if len(recs) != len(want) {
				t.Fatalf("%d records, want %d", len(recs), len(want))
			}
			for i, w := range want {
				if string(recs[i].Key) != w.key || string(recs[i].Value) != w.value || recs[i].Partition != 0 {
					t.Errorf("record %d: %s → %s, want %s → %s", i, recs[i].Key, recs[i].Value, w.key, w.value)
				}
			}
			snap := s.Snapshot()
			wantSnap := Snapshot{Offset: 8, Connectors: map[string]ConnectorSnapshot{"src": {
				Config: cfg, Tasks: []connect.Config{{"task.class": "T", "n": "0"}, {"task.class": "T", "n": "1"}}, TargetState: Stopped,
				TaskCountRecord: 2}}}
			if !reflect.DeepEqual(snap, wantSnap) {
				t.Fatalf("snapshot %+v\nwant %+v", snap, wantSnap)
			}
			if cl := snap.Cluster(); cl.Offset != 8 || cl.Connectors["src"] != 2 {
				t.Fatalf("cluster %+v", cl)
			}

			// After a restart the snapshot is what was written.
			s.Close()
			again := openConfigs(t, brokers, nil)
			if got := again.Snapshot(); !reflect.DeepEqual(got, wantSnap) {
				t.Fatalf("after restart %+v", got)
			}

			must(t, again.RemoveConnector(ctx, "src"))
			recs = rawRecords(t, brokers, "connect-configs")
			if n := len(recs); string(recs[n-2].Key) != "connector-src" || recs[n-2].Value != nil ||
				string(recs[n-1].Key) != "target-state-src" || recs[n-1].Value != nil {
				t.Fatalf("removal records %s=%q %s=%q", recs[n-2].Key, recs[n-2].Value, recs[n-1].Key, recs[n-1].Value)
			}
			if got := again.Snapshot(); len(got.Connectors) != 0 || got.Offset != 10 {
				t.Fatalf("after removal %+v", got)
			}
		})
	}
}

// Records another worker writes: task configs wait for their commit, an
// incomplete commit marks the connector inconsistent, a Kafka < 3.5 target
// state has no state.v2, unknown keys are read past, and OnChange hears it
// all.
func TestConfigStoreReadsOtherWorkers(t *testing.T) {
	for _, c := range clusters {
		t.Run(c.name, func(t *testing.T) {
			brokers := c.start(t)
			ctx := testCtx(t)
			var changes changeLog
			s := openConfigs(t, brokers, changes.add)
			pr := newClient(t, brokers)
			send := func(key, value string) {
				t.Helper()
				var v []byte
				if value != "" {
					v = []byte(value)
				}
				must(t, pr.ProduceSync(ctx, &kgo.Record{Topic: "connect-configs", Key: []byte(key), Value: v}).FirstErr())
				must(t, s.ReadToEnd(ctx))
			}
			send("connector-sink", `{"properties":{"connector.class":"FileStreamSink","topics":"t"}}`)
			send("task-sink-0", `{"properties":{"topics":"t"}}`)
			if got := s.Snapshot().Connectors["sink"]; len(got.Tasks) != 0 {
				t.Fatalf("task visible before its commit: %+v", got)
			}
			send("session-key", `{"key":"AAAA","algorithm":"HmacSHA256","creation-timestamp":1}`)
			send("commit-sink", `{"tasks":1}`)
			if got := s.Snapshot().Connectors["sink"]; len(got.Tasks) != 1 || got.Tasks[0]["topics"] != "t" || got.Inconsistent {
				t.Fatalf("after commit %+v", got)
			}
			send("task-sink-0", `{"properties":{"topics":"u"}}`)
			send("commit-sink", `{"tasks":2}`)
			got := s.Snapshot().Connectors["sink"]
			if !got.Inconsistent || len(got.Tasks) != 1 || got.Tasks[0]["topics"] != "t" {
				t.Fatalf("incomplete commit %+v", got)
			}
			if n := s.Snapshot().Cluster().Connectors["sink"]; n != 0 {
				t.Fatalf("an inconsistent connector offers %d tasks to assign", n)
			}
			send("target-state-sink", `{"state":"PAUSED"}`)
			if got := s.Snapshot().Connectors["sink"].TargetState; got != Paused {
				t.Fatalf("v1 target state %q", got)
			}
			send("target-state-sink", "")
			if got := s.Snapshot().Connectors["sink"].TargetState; got != Started {
				t.Fatalf("after target state tombstone %q", got)
			}
			send("connector-sink", "")
			if _, ok := s.Snapshot().Connectors["sink"]; ok {
				t.Fatal("connector still there after its tombstone")
			}
			send("connector-bad", `{"properties":`) // not JSON: skipped
			send("restart-connector-sink", `{"include-tasks":true,"only-failed":false}`)

			wantChanges := []ConfigChange{
				{Kind: ConnectorConfigUpdated, Connector: "sink"},
				{Kind: TaskConfigsCommitted, Connector: "sink", Tasks: []runtime.TaskID{{Connector: "sink", Task: 0}}},
				{Kind: TargetStateChanged, Connector: "sink"},
				{Kind: ConnectorConfigRemoved, Connector: "sink"},
				{Kind: RestartRequested, Connector: "sink", IncludeTasks: true},
			}
			if got := changes.list(); !reflect.DeepEqual(got, wantChanges) {
				t.Fatalf("changes %+v\nwant %+v", got, wantChanges)
			}

			// Two stores see each other's writes.
			other := openConfigs(t, brokers, nil)
			must(t, other.PutConnectorConfigWithState(ctx, "x", connect.Config{"a": "b"}, Paused))
			must(t, s.ReadToEnd(ctx))
			if got := s.Snapshot().Connectors["x"]; got.TargetState != Paused || got.Config["a"] != "b" {
				t.Fatalf("other store's connector %+v", got)
			}
			if s.Snapshot().Offset != other.Snapshot().Offset {
				t.Fatal("stores at the same point disagree on the offset")
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
