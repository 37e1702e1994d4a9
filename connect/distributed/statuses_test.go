package distributed

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect/runtime"
)

func TestStatusStore(t *testing.T) {
	for _, c := range clusters {
		t.Run(c.name, func(t *testing.T) {
			brokers := c.start(t)
			ctx := testCtx(t)
			s, err := OpenStatusStore(ctx, Options{Brokers: brokers})
			must(t, err)
			defer s.Close()
			trace := "org.apache.kafka.connect.errors.ConnectException: boom\n\tat X"
			must(t, s.PutConnector(ctx, "src", Status{State: runtime.Running, WorkerID: "127.0.0.1:8083", Generation: 3}))
			must(t, s.PutTask(ctx, runtime.TaskID{Connector: "src", Task: 0}, Status{State: runtime.Failed, Trace: &trace, WorkerID: "127.0.0.1:8084", Generation: 3}))
			must(t, s.PutTopic(ctx, TopicStatus{Topic: "orders", Connector: "src", Task: 0, DiscoverTimestamp: 1700000000000}))

			want := map[string]string{
				"status-connector-src":              `{"state":"RUNNING","trace":null,"worker_id":"127.0.0.1:8083","generation":3}`,
				"status-task-src-0":                 `{"state":"FAILED","trace":"org.apache.kafka.connect.errors.ConnectException: boom\n\tat X","worker_id":"127.0.0.1:8084","generation":3}`,
				"status-topic-orders:connector-src": `{"topic":{"name":"orders","connector":"src","task":0,"discoverTimestamp":1700000000000}}`,
			}
			recs := rawRecords(t, brokers, "connect-status")
			if len(recs) != len(want) {
				t.Fatalf("%d records", len(recs))
			}
			for _, r := range recs {
				if w, ok := want[string(r.Key)]; !ok || string(r.Value) != w {
					t.Errorf("%s → %s, want %s", r.Key, r.Value, w)
				}
				if p := kafkaPartition(r.Key, 5); r.Partition != p {
					t.Errorf("%s in partition %d, want %d", r.Key, r.Partition, p)
				}
			}

			// Another store reads them.
			other, err := OpenStatusStore(ctx, Options{Brokers: brokers})
			must(t, err)
			defer other.Close()
			if st, ok := other.Task(runtime.TaskID{Connector: "src", Task: 0}); !ok || st.State != runtime.Failed || *st.Trace != trace {
				t.Fatalf("task status %+v", st)
			}
			if ts := other.Topics("src"); len(ts) != 1 || ts[0].Topic != "orders" {
				t.Fatalf("topics %+v", ts)
			}

			// A worker of an older generation does not overwrite the new owner.
			must(t, other.PutTaskSafe(ctx, runtime.TaskID{Connector: "src", Task: 0}, Status{State: runtime.Unassigned, WorkerID: "old:1", Generation: 2}))
			must(t, s.ReadToEnd(ctx))
			if st, _ := s.Task(runtime.TaskID{Connector: "src", Task: 0}); st.State != runtime.Failed {
				t.Fatalf("stale write landed: %+v", st)
			}

			must(t, s.DeleteConnector(ctx, "src", 1))
			must(t, other.ReadToEnd(ctx))
			if _, ok := other.Connector("src"); ok {
				t.Fatal("connector status survived its tombstone")
			}
			if len(other.Tasks("src")) != 0 || len(other.Topics("src")) != 0 {
				t.Fatal("task or topic status survived")
			}
		})
	}
}

// Records a Java Connect worker wrote to its status topic (as shown in
// Debezium's tutorials): read back and written again, byte for byte.
func TestStatusValuesMatchJava(t *testing.T) {
	tests := []struct {
		key, value string
	}{
		{"status-task-timescaledb-connector-0", `{"state":"RUNNING","trace":null,"worker_id":"172.17.0.5:8083","generation":31}`},
		{"status-connector-postgres-connector", `{"state":"RUNNING","trace":null,"worker_id":"127.0.0.1:8083","generation":2}`},
		{"status-topic-timescaledb.public.accounts:connector-timescaledb-connector", `{"topic":{"name":"timescaledb.public.accounts","connector":"timescaledb-connector","task":0,"discoverTimestamp":1746009337985}}`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			s := &StatusStore{connectors: map[string]Status{}, tasks: map[runtime.TaskID]Status{}, topics: map[string]map[string]TopicStatus{}}
			s.applyRecord(&kgo.Record{Key: []byte(tt.key), Value: []byte(tt.value)})
			var again string
			switch {
			case len(s.tasks) == 1:
				st, ok := s.Task(runtime.TaskID{Connector: "timescaledb-connector", Task: 0})
				if !ok {
					t.Fatalf("task key parsed as %v", s.tasks)
				}
				again = string(StatusValue(st))
			case len(s.connectors) == 1:
				st, _ := s.Connector("postgres-connector")
				again = string(StatusValue(st))
			default:
				ts := s.Topics("timescaledb-connector")
				if len(ts) != 1 {
					t.Fatalf("topic record parsed as %v", s.topics)
				}
				again = string(topicStatusValue(ts[0]))
			}
			if again != tt.value {
				t.Fatalf("wrote %s\nJava wrote %s", again, tt.value)
			}
		})
	}
}
