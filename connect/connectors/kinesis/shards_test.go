package kinesis

import (
	"reflect"
	"testing"

	"github.com/streambridge/bridge/connect"
)

func TestAssignShards(t *testing.T) {
	plain := []shardInfo{{ID: "s0"}, {ID: "s1"}, {ID: "s2"}, {ID: "s3"}, {ID: "s4"}}
	// s0 split into s5 and s6, merged into s7; s1 stays alone; s2's
	// parent s9 is past retention (not listed).
	lineage := []shardInfo{{ID: "s0", Closed: true}, {ID: "s1"}, {ID: "s2", Parent: "s9"},
		{ID: "s5", Parent: "s0", Closed: true}, {ID: "s6", Parent: "s0", Closed: true},
		{ID: "s7", Parent: "s5", AdjacentParent: "s6"}}
	tests := []struct {
		name   string
		shards []shardInfo
		max    int
		want   [][]string
	}{
		{"no shards", nil, 3, nil},
		{"one task", plain, 1, [][]string{{"s0", "s1", "s2", "s3", "s4"}}},
		{"spread", plain, 2, [][]string{{"s0", "s2", "s4"}, {"s1", "s3"}}},
		{"more tasks than shards", plain[:2], 4, [][]string{{"s0"}, {"s1"}}},
		{"lineage together", lineage, 3, [][]string{{"s0", "s5", "s6", "s7"}, {"s1"}, {"s2"}}},
		{"lineage and the rest", lineage, 2, [][]string{{"s0", "s5", "s6", "s7"}, {"s1", "s2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][]string
			for _, task := range assignShards(tt.shards, tt.max) {
				var ids []string
				for _, s := range task {
					ids = append(ids, s.ID)
				}
				got = append(got, ids)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParsePosition(t *testing.T) {
	tests := []struct {
		stored map[string]any
		want   *position
		bad    bool
	}{
		{nil, nil, false},
		{map[string]any{"sequence": "495"}, &position{Sequence: "495", Subsequence: -1}, false},
		{map[string]any{"sequence": "495", "subsequence": float64(3), "closed": true}, &position{Sequence: "495", Subsequence: 3, Closed: true}, false},
		{map[string]any{"sequence": float64(495)}, nil, true},
		{map[string]any{"sequence": "495", "subsequence": 1.5}, nil, true},
		{map[string]any{"sequence": "495", "closed": "yes"}, nil, true},
		{map[string]any{}, nil, true},
	}
	for _, tt := range tests {
		got, err := parsePosition(tt.stored)
		if (err != nil) != tt.bad || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parsePosition(%v) = %+v, %v", tt.stored, got, err)
		}
	}
}

// TestConfigValidation: bad settings are refused with Kafka's wording,
// before any task runs.
func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		def  connect.ConfigDef
		cfg  connect.Config
		want map[string][]string
	}{
		{"source needs stream and topic", SourceDef(), connect.Config{}, map[string][]string{
			StreamConfig: {`Missing required configuration "kinesis.stream" which has no default value.`},
			TopicConfig:  {`Missing required configuration "topic" which has no default value.`}}},
		{"source bad values", SourceDef(), connect.Config{StreamConfig: "s", TopicConfig: "t", PositionConfig: "EARLIEST",
			RecordsLimitConfig: "10001", KafkaPartitionConfig: "hash", PositionTimeConfig: "yesterday"}, map[string][]string{
			PositionConfig:       {"Invalid value EARLIEST for configuration kinesis.position: String must be one of: TRIM_HORIZON, LATEST, AT_TIMESTAMP"},
			RecordsLimitConfig:   {"Invalid value 10001 for configuration kinesis.records.limit: Value must be no more than 10000"},
			KafkaPartitionConfig: {"Invalid value hash for configuration kafka.partition: String must be one of: key, preserve"},
			PositionTimeConfig:   {"Invalid value yesterday for configuration kinesis.position.timestamp: not an RFC 3339 time or milliseconds since the epoch"}}},
		{"sink defaults", SinkDef(), connect.Config{StreamConfig: "s"}, nil},
		{"sink bad values", SinkDef(), connect.Config{StreamConfig: "s", PartitionKeyConfig: "field:", BatchRecordsConfig: "501",
			ExplicitHashKeyConfig: "shard"}, map[string][]string{
			PartitionKeyConfig:    {"Invalid value field: for configuration kinesis.partition.key: must be key, random or field:NAME"},
			BatchRecordsConfig:    {"Invalid value 501 for configuration kinesis.batch.max.records: Value must be no more than 500"},
			ExplicitHashKeyConfig: {"Invalid value shard for configuration kinesis.explicit.hash.key: String must be one of: none, partition"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.def.Validate(tt.cfg); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q\nwant %q", got, tt.want)
			}
		})
	}
	v := (&SourceConnector{}).Validate(connect.Config{PositionConfig: "AT_TIMESTAMP"})
	if len(v[PositionTimeConfig]) != 1 {
		t.Errorf("AT_TIMESTAMP without a timestamp: %v", v)
	}
	var classes []string
	for _, p := range Plugins() {
		classes = append(classes, p.Class)
	}
	if !reflect.DeepEqual(classes, []string{SourceClass, SinkClass}) {
		t.Errorf("plugins %v", classes)
	}
}
