package kafka

import (
	"strings"
	"testing"

	"github.com/streambridge/bridge/store/embedded"
)

// TestEnsureTopic walks one topic through the fixture outcomes in order,
// each step first with validateOnly (which must change nothing) and then
// for real.
func TestEnsureTopic(t *testing.T) {
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	for _, tc := range []struct {
		name       string
		f          TopicFixture
		want       string // outcome, or the start of the error
		partitions int    // after the real run
		configs    map[string]string
	}{
		{"create", TopicFixture{Name: "t", Partitions: 2, Configs: map[string]string{"cleanup.policy": "compact"}}, TopicCreated, 2, map[string]string{"cleanup.policy": "compact"}},
		{"same", TopicFixture{Name: "t", Partitions: 2, Configs: map[string]string{"cleanup.policy": "compact"}}, TopicUnchanged, 2, nil},
		{"default value of an unset config", TopicFixture{Name: "t", Partitions: 2, Configs: map[string]string{"compression.type": "producer"}}, TopicUnchanged, 2, nil},
		{"configs left out", TopicFixture{Name: "t", Partitions: 2}, TopicUnchanged, 2, map[string]string{"cleanup.policy": "compact"}},
		{"grow", TopicFixture{Name: "t", Partitions: 4}, TopicPartitionsAdded, 4, nil},
		{"set config", TopicFixture{Name: "t", Partitions: 4, Configs: map[string]string{"retention.ms": "60000"}}, TopicConfigsSet, 4, map[string]string{"retention.ms": "60000", "cleanup.policy": "compact"}},
		{"both", TopicFixture{Name: "t", Partitions: 5, Configs: map[string]string{"retention.ms": "120000"}}, TopicPartitionsAdded + ", " + TopicConfigsSet, 5, map[string]string{"retention.ms": "120000"}},
		{"shrink", TopicFixture{Name: "t", Partitions: 3}, "INVALID_PARTITIONS: Topic currently has 5 partitions, which is higher than the requested 3.", 5, nil},
		{"bad config on an existing topic", TopicFixture{Name: "t", Partitions: 5, Configs: map[string]string{"retention.ms": "soon"}}, "INVALID_CONFIG", 5, nil},
		{"replication factor", TopicFixture{Name: "t", ReplicationFactor: 2}, "INVALID_REPLICATION_FACTOR", 5, nil},
		{"bad name", TopicFixture{Name: "a/b"}, "INVALID_TOPIC_EXCEPTION", 0, nil},
		{"default partitions", TopicFixture{Name: "d"}, TopicCreated, 3, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, validateOnly := range []bool{true, false} {
				before, _ := st.DescribeStream(ctx, tc.f.Name)
				got, err := EnsureTopic(ctx, st, nil, 3, tc.f, validateOnly)
				if err != nil {
					got = err.Error()
				}
				if !strings.HasPrefix(got, tc.want) {
					t.Fatalf("validateOnly %v: got %q, want %q", validateOnly, got, tc.want)
				}
				after, _ := st.DescribeStream(ctx, tc.f.Name)
				if validateOnly {
					if len(after.Partitions) != len(before.Partitions) || len(topicOverrides(&after)) != len(topicOverrides(&before)) {
						t.Fatalf("validateOnly changed the topic: %d → %d partitions", len(before.Partitions), len(after.Partitions))
					}
					continue
				}
				if len(after.Partitions) != tc.partitions {
					t.Errorf("%d partitions, want %d", len(after.Partitions), tc.partitions)
				}
				o := topicOverrides(&after)
				for k, v := range tc.configs {
					if o[k] != v {
						t.Errorf("config %s = %q, want %q (all: %v)", k, o[k], v, o)
					}
				}
			}
		})
	}
}
