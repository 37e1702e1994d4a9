package distributed

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
	"github.com/streambridge/bridge/connect/runtime"
)

// The record readers see whatever any worker or tool wrote to the topics:
// they skip what they cannot parse and never panic.

func FuzzConfigRecord(f *testing.F) {
	f.Add("connector-a", []byte(`{"properties":{"x":"y"}}`))
	f.Add("task-a-0", []byte(`{"properties":{"x":null}}`))
	f.Add("commit-a", []byte(`{"tasks":1}`))
	f.Add("target-state-a", []byte(`{"state":"PAUSED","state.v2":"STOPPED"}`))
	f.Add("task--1", []byte(`{}`))
	f.Add("tasks-fencing-a", []byte(`{"task-count":3}`))
	f.Add("tasks-fencing-a", []byte(`{"task-count":-1}`))
	f.Add("tasks-fencing-", []byte(`{"task-count":"x"}`))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		s := &ConfigStore{offset: -1, conns: map[string]*ConnectorSnapshot{}, deferred: map[string]map[int]connect.Config{}, started: true,
			onChange: func(ConfigChange) {}}
		s.applyRecord(&kgo.Record{Key: []byte("task-a-0"), Value: []byte(`{"properties":{}}`)})
		s.applyRecord(&kgo.Record{Key: []byte(key), Value: value, Offset: 1})
		s.applyRecord(&kgo.Record{Key: []byte(key), Offset: 2})
		_ = s.Snapshot().Cluster()
	})
}

func FuzzStatusRecord(f *testing.F) {
	f.Add("status-task-a-1", []byte(`{"state":"RUNNING","trace":null,"worker_id":"w","generation":1}`))
	f.Add("status-topic-t:connector-c", []byte(`{"topic":{"name":"t","connector":"c","task":0,"discoverTimestamp":1}}`))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		s := &StatusStore{connectors: map[string]Status{}, tasks: map[runtime.TaskID]Status{}, topics: map[string]map[string]TopicStatus{}}
		s.applyRecord(&kgo.Record{Key: []byte(key), Value: value})
		s.applyRecord(&kgo.Record{Key: []byte(key)})
	})
}

func FuzzOffsetRecord(f *testing.F) {
	f.Add([]byte(`["c",{"filename":"x"}]`), []byte(`{"position":1}`))
	f.Add([]byte(`["c",null]`), []byte(`{"a":[1,2.5,"x"]}`))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		conv := convert.NewJSONConverter()
		if err := conv.Configure(connect.Config{"schemas.enable": "false"}, true); err != nil {
			t.Fatal(err)
		}
		s := &OffsetStore{conv: conv, data: map[string]map[string]offsetEntry{}}
		s.applyRecord(&kgo.Record{Key: key, Value: value})
		s.applyRecord(&kgo.Record{Key: key})
	})
}
