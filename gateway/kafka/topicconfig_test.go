package kafka

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func TestNormalizeTopicConfig(t *testing.T) {
	tests := []struct {
		name, value string
		want        string      // canonical value when ok
		err         *kerr.Error // nil when ok
		msg         string      // substring of the message
	}{
		{"retention.ms", "-1", "-1", nil, ""},
		{"retention.ms", " 0 ", "0", nil, ""},
		{"retention.ms", "9223372036854775807", "9223372036854775807", nil, ""},
		{"retention.ms", "-2", "", kerr.InvalidConfig, "at least -1"},
		{"retention.ms", "1h", "", kerr.InvalidConfig, "Not a number of type LONG"},
		{"retention.bytes", "1024", "1024", nil, ""},
		{"retention.bytes", "-5", "", kerr.InvalidConfig, "at least -1"},
		{"max.message.bytes", "0", "0", nil, ""},
		{"max.message.bytes", "+2097152", "2097152", nil, ""},
		{"max.message.bytes", "2147483648", "", kerr.InvalidConfig, "type INT"},
		{"max.message.bytes", "-1", "", kerr.InvalidConfig, "at least 0"},
		{"cleanup.policy", "delete", "delete", nil, ""},
		{"cleanup.policy", "delete, delete", "delete", nil, ""},
		{"cleanup.policy", "compact", "compact", nil, ""},
		{"cleanup.policy", "delete, compact", "delete,compact", nil, ""},
		{"cleanup.policy", "compact,shred", "", kerr.InvalidConfig, "one of: compact, delete"},
		{"delete.retention.ms", "0", "0", nil, ""},
		{"delete.retention.ms", "-1", "", kerr.InvalidConfig, "at least 0"},
		{"min.compaction.lag.ms", "60000", "60000", nil, ""},
		{"max.compaction.lag.ms", "0", "", kerr.InvalidConfig, "at least 1"},
		{"max.compaction.lag.ms", "9223372036854775807", "9223372036854775807", nil, ""},
		{"min.cleanable.dirty.ratio", "0.25", "0.25", nil, ""},
		{"min.cleanable.dirty.ratio", "1.5", "", kerr.InvalidConfig, "no more than 1"},
		{"min.cleanable.dirty.ratio", "half", "", kerr.InvalidConfig, "type DOUBLE"},
		{"cleanup.policy", "shred", "", kerr.InvalidConfig, "one of: compact, delete"},
		{"message.timestamp.type", "LogAppendTime", "LogAppendTime", nil, ""},
		{"message.timestamp.type", "CreateTime", "CreateTime", nil, ""},
		{"message.timestamp.type", "logappendtime", "", kerr.InvalidConfig, "one of"},
		{"min.insync.replicas", "1", "1", nil, ""},
		{"min.insync.replicas", "2", "", kerr.InvalidConfig, "fixed at 1"},
		{"compression.type", "producer", "producer", nil, ""},
		{"compression.type", "zstd", "", kerr.InvalidConfig, "fixed at producer"},
		{"segment.bytes", "1048576", "", kerr.InvalidConfig, "Unknown topic config name: segment.bytes"},
		{"", "x", "", kerr.InvalidConfig, "Unknown topic config name"},
	}
	for _, tt := range tests {
		v := tt.value
		got, aerr := normalizeTopicConfig(tt.name, &v)
		if tt.err == nil {
			if aerr != nil || got != tt.want {
				t.Errorf("%s=%q: got %q, %v; want %q", tt.name, tt.value, got, aerr, tt.want)
			}
			continue
		}
		if aerr == nil || aerr.err != tt.err || !strings.Contains(aerr.msg, tt.msg) {
			t.Errorf("%s=%q: got %q, %v; want %s containing %q", tt.name, tt.value, got, aerr, tt.err.Message, tt.msg)
		}
	}
	if _, aerr := normalizeTopicConfig("retention.ms", nil); aerr == nil || aerr.err != kerr.InvalidConfig {
		t.Errorf("null value: %v, want INVALID_CONFIG", aerr)
	}
}

func TestRetentionMapping(t *testing.T) {
	for _, ms := range []int64{-1, 0, 1, 1000, DefaultRetentionMs, maxRetentionMs, maxRetentionMs + 1, math.MaxInt64} {
		st := store.Stream{Name: "t"}
		applyTopicOverrides(&st, map[string]string{cfgRetentionMs: strconv.FormatInt(ms, 10)})
		if st.Retention < 0 {
			t.Fatalf("retention.ms=%d: negative Retention %v", ms, st.Retention)
		}
		if ms == -1 && st.Retention != 0 {
			t.Errorf("retention.ms=-1: Retention %v, want 0 (forever)", st.Retention)
		}
		if ms >= 0 && st.Retention == 0 {
			t.Errorf("retention.ms=%d: Retention 0 would keep records forever", ms)
		}
		if got := TopicConfigFor(&st).RetentionMs; got != ms {
			t.Errorf("retention.ms=%d reads back as %d", ms, got)
		}
	}
	// A stream made by another front end: its retention is reported as set.
	st := store.Stream{Name: "k", Retention: 24 * time.Hour}
	if o := topicOverrides(&st); o[cfgRetentionMs] != "86400000" {
		t.Errorf("24h stream: overrides %v", o)
	}
}

func TestOverridesRoundTrip(t *testing.T) {
	st := store.Stream{Name: "t", Retention: DefaultRetention, Config: map[string]string{
		topicIDKey:            "keep-me",
		"kinesis.stream.mode": "ON_DEMAND",
	}}
	if tc := TopicConfigFor(&st); tc != (TopicConfig{RetentionMs: DefaultRetentionMs, RetentionBytes: -1,
		MaxMessageBytes: DefaultMaxMessageBytes, CleanupPolicy: "delete"}) {
		t.Errorf("defaults: %+v", tc)
	}
	if o := topicOverrides(&st); len(o) != 0 {
		t.Errorf("defaults have overrides %v", o)
	}
	set := map[string]string{
		cfgRetentionMs: "60000", cfgRetentionBytes: "4096", cfgMaxMessageBytes: "2000000",
		cfgTimestampType: timestampLogAppend, cfgCleanupPolicy: "delete",
	}
	applyTopicOverrides(&st, set)
	want := TopicConfig{RetentionMs: 60000, RetentionBytes: 4096, MaxMessageBytes: 2000000, CleanupPolicy: "delete", LogAppendTime: true}
	if tc := TopicConfigFor(&st); tc != want {
		t.Errorf("after set: %+v, want %+v", tc, want)
	}
	if st.Retention != time.Minute {
		t.Errorf("Retention %v", st.Retention)
	}
	o := topicOverrides(&st)
	if len(o) != len(set) {
		t.Errorf("overrides %v, want %v", o, set)
	}
	for _, cv := range topicConfigValues(&st) {
		_, isSet := set[cv.name]
		if isSet != (cv.source == kmsg.ConfigSourceDynamicTopicConfig) {
			t.Errorf("%s: source %v", cv.name, cv.source)
		}
	}
	applyTopicOverrides(&st, nil)
	if o := topicOverrides(&st); len(o) != 0 || st.Retention != DefaultRetention {
		t.Errorf("after reset: %v, retention %v", o, st.Retention)
	}
	if st.Config[topicIDKey] != "keep-me" || st.Config["kinesis.stream.mode"] != "ON_DEMAND" {
		t.Errorf("keys of others touched: %v", st.Config)
	}
}

func TestTopicConfigForToleratesGarbage(t *testing.T) {
	st := store.Stream{Config: map[string]string{cfgMaxMessageBytes: "lots", cfgRetentionBytes: "-9"}}
	tc := TopicConfigFor(&st)
	if tc.MaxMessageBytes != DefaultMaxMessageBytes || tc.RetentionBytes != -1 || tc.RetentionMs != -1 {
		t.Errorf("%+v", tc)
	}
}

func TestCheckNewTopicName(t *testing.T) {
	ok := []string{"a", "orders", "a.b_c-D9", strings.Repeat("x", 249)}
	bad := []string{"", ".", "..", strings.Repeat("x", 250), "a b", "a/b", "é", "a\x00"}
	for _, n := range ok {
		if aerr := checkNewTopicName(n); aerr != nil {
			t.Errorf("%q: %v", n, aerr)
		}
	}
	for _, n := range bad {
		if aerr := checkNewTopicName(n); aerr == nil || aerr.err != kerr.InvalidTopicException {
			t.Errorf("%q: %v, want INVALID_TOPIC_EXCEPTION", n, aerr)
		}
	}
	if aerr := checkTopicCollision("a.b", []string{"a_b"}); aerr == nil {
		t.Error("a.b does not collide with a_b")
	}
	if aerr := checkTopicCollision("a.b", []string{"a.b", "ab"}); aerr != nil {
		t.Errorf("a.b: %v", aerr)
	}
}
