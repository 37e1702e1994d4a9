package itest

// The HTTP sink, file connectors, a converter and transform chain, and
// refused configurations of connect_connectors_test.go.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// httpSinkCase sends a topic to an httptest server that refuses the batch
// holding "refused" with 400: the sink splits the batch until that record
// is alone, which goes to the dead letter queue with its
// __connect.errors.* headers; the server gets every other record once.
func connectHttpSinkCase(t *testing.T, cb connectBridge) {
	t.Run("HttpSinkDLQ", func(t *testing.T) {
		t.Parallel()
		const in, dlq = "http-in", "http-dlq"
		var mu sync.Mutex
		var received []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var batch []string
			if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if slices.Contains(batch, "refused") {
				http.Error(w, "no", http.StatusBadRequest)
				return
			}
			mu.Lock()
			received = append(received, batch...)
			mu.Unlock()
		}))
		t.Cleanup(srv.Close)
		createTopic(t, cb.kafka, in, 1)
		values := []string{"v0", "v1", "v2", "refused", "v4", "v5"}
		var recs []*kgo.Record
		for _, v := range values {
			recs = append(recs, &kgo.Record{Topic: in, Value: []byte(v)})
		}
		produceAll(t, cb.kafka, recs)
		createConnector(t, cb, "http-sink", map[string]any{
			"connector.class":                   "io.streambridge.connect.http.HttpSinkConnector",
			"topics":                            in,
			"http.url":                          srv.URL + "/ingest",
			"retry.backoff.ms":                  "10",
			"value.converter":                   "org.apache.kafka.connect.storage.StringConverter",
			"errors.tolerance":                  "all",
			"errors.deadletterqueue.topic.name": dlq,
			"errors.deadletterqueue.context.headers.enable": "true",
		})
		defer func() {
			if t.Failed() {
				mu.Lock()
				t.Logf("server received %q", received)
				mu.Unlock()
			}
		}()
		dead := consumeN(t, cb.kafka, dlq, 1)
		if string(dead[0].Value) != "refused" {
			t.Errorf("dead letter %q, want refused", dead[0].Value)
		}
		headers := map[string]string{}
		for _, h := range dead[0].Headers {
			headers[h.Key] = string(h.Value)
		}
		for k, v := range map[string]string{
			"__connect.errors.topic":          in,
			"__connect.errors.partition":      "0",
			"__connect.errors.offset":         "3",
			"__connect.errors.connector.name": "http-sink",
			"__connect.errors.task.id":        "0",
		} {
			if headers[k] != v {
				t.Errorf("dead letter header %s = %q, want %q (all: %v)", k, headers[k], v, headers)
			}
		}
		for _, k := range []string{"__connect.errors.exception.message", "__connect.errors.exception.class.name", "__connect.errors.stage"} {
			if headers[k] == "" {
				t.Errorf("dead letter has no %s (all: %v)", k, headers)
			}
		}
		assertCount(t, cb.kafka, dlq, 1)
		eventually(t, "server received the accepted records", func() error {
			mu.Lock()
			defer mu.Unlock()
			want := []string{"v0", "v1", "v2", "v4", "v5"}
			got := slices.Clone(received)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				return fmt.Errorf("received %q, want %q", got, want)
			}
			return nil
		})
	})
}

// fileCases: FileStreamSource → topic → FileStreamSink gives the file back
// line for line; TailSource follows a log through a rename rotation.
func connectFileCases(t *testing.T, cb connectBridge) {
	t.Run("FileStreamRoundTrip", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
		var lines []string
		for i := range 25 {
			lines = append(lines, fmt.Sprintf("line %d: ünïcode ok", i))
		}
		if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// StringConverter: the worker's default, ByteArrayConverter, refuses
		// the source's string values ("Invalid schema type for
		// ByteArrayConverter: STRING"), as Kafka's does.
		createConnector(t, cb, "lines-in", map[string]any{"connector.class": "FileStreamSource", "file": in, "topic": "file-lines",
			"value.converter": "org.apache.kafka.connect.storage.StringConverter"})
		createConnector(t, cb, "lines-out", map[string]any{"connector.class": "FileStreamSink", "file": out, "topics": "file-lines",
			"value.converter": "org.apache.kafka.connect.storage.StringConverter"})
		if got := waitLines(t, out, len(lines)); !slices.Equal(got, lines) {
			t.Errorf("sink file:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(lines, "\n"))
		}
	})

	t.Run("TailRotation", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		log := filepath.Join(dir, "app.log")
		appendTo := func(path string, lines ...string) {
			f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
				t.Fatal(err)
			}
		}
		appendTo(log, "a1", "a2", "a3")
		createConnector(t, cb, "app-logs", map[string]any{
			"connector.class":  "io.streambridge.connect.file.TailSourceConnector",
			"file.pattern":     log + "*",
			"topic":            "app-logs",
			"initial.position": "START_OF_FILE",
			"poll.interval.ms": "100",
			"value.converter":  "org.apache.kafka.connect.storage.StringConverter",
		})
		consumeN(t, cb.kafka, "app-logs", 3)
		// logrotate's create: rename, the writer finishes a line into the
		// old file, then a new file.
		if err := os.Rename(log, log+".1"); err != nil {
			t.Fatal(err)
		}
		appendTo(log+".1", "a4")
		appendTo(log, "b1", "b2")
		got := consumeN(t, cb.kafka, "app-logs", 6)
		var values []string
		for _, r := range got {
			values = append(values, string(r.Value))
			if p := headerValue(r, "file.path"); !strings.HasPrefix(p, log) {
				t.Errorf("record %s: file.path %q", r.Value, p)
			}
		}
		if want := []string{"a1", "a2", "a3", "a4", "b1", "b2"}; !slices.Equal(values, want) {
			t.Errorf("tailed %q, want %q", values, want)
		}
		assertCount(t, cb.kafka, "app-logs", 6)
	})
}

func headerValue(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// smtCase: a FileStreamSource whose lines go through HoistField$Value,
// InsertField$Value and RegexRouter and are written by JsonConverter with
// schemas, read back with franz-go.
func connectSmtCase(t *testing.T, cb connectBridge) {
	t.Run("JsonConverterTransforms", func(t *testing.T) {
		t.Parallel()
		in := filepath.Join(t.TempDir(), "smt.txt")
		if err := os.WriteFile(in, []byte("alpha\nbeta\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		createConnector(t, cb, "smt-chain", map[string]any{
			"connector.class":                "FileStreamSource",
			"file":                           in,
			"topic":                          "smt-raw",
			"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
			"transforms":                     "hoist,origin,route",
			"transforms.hoist.type":          "org.apache.kafka.connect.transforms.HoistField$Value",
			"transforms.hoist.field":         "line",
			"transforms.origin.type":         "org.apache.kafka.connect.transforms.InsertField$Value",
			"transforms.origin.static.field": "origin",
			"transforms.origin.static.value": "e2e",
			"transforms.route.type":          "org.apache.kafka.connect.transforms.RegexRouter",
			"transforms.route.regex":         "smt-(.*)",
			"transforms.route.replacement":   "routed-$1",
		})
		got := consumeN(t, cb.kafka, "routed-raw", 2)
		wantSchema := `{"type":"struct","fields":[{"type":"string","optional":false,"field":"line"},{"type":"string","optional":true,"field":"origin"}],"optional":false}`
		for i, line := range []string{"alpha", "beta"} {
			want := fmt.Sprintf(`{"schema":%s,"payload":{"line":%q,"origin":"e2e"}}`, wantSchema, line)
			if string(got[i].Value) != want {
				t.Errorf("record %d:\n%s\nwant\n%s", i, got[i].Value, want)
			}
			if got[i].Key != nil {
				t.Errorf("record %d key %q, want null", i, got[i].Key)
			}
		}
	})
}

// validationCases: for each connector, a missing required setting and a
// bad value are reported on their field by PUT .../config/validate, and
// POST /connectors refuses the same configuration with 400.
func connectValidationCases(t *testing.T, cb connectBridge) {
	aws := map[string]string{"aws.region": kinesisRegion}
	for _, c := range []struct {
		plugin string
		config map[string]string // besides connector.class and name
		field  string
		want   string // in the field's errors
	}{
		{"KafkaSourceConnector", map[string]string{}, "source.bootstrap.servers", `Missing required configuration "source.bootstrap.servers" which has no default value.`},
		{"KafkaSourceConnector", map[string]string{"source.bootstrap.servers": "127.0.0.1:1", "partition.preserve": "maybe"}, "partition.preserve", "Invalid value maybe for configuration partition.preserve"},
		{"KafkaSinkConnector", map[string]string{"topics": "t"}, "target.bootstrap.servers", `Missing required configuration "target.bootstrap.servers" which has no default value.`},
		{"KafkaSinkConnector", map[string]string{"topics": "t", "target.bootstrap.servers": "127.0.0.1:1", "target.compression.type": "brotli"}, "target.compression.type", "Invalid value brotli for configuration target.compression.type"},
		{"KinesisSourceConnector", map[string]string{"topic": "t"}, "kinesis.stream", `Missing required configuration "kinesis.stream" which has no default value.`},
		{"KinesisSourceConnector", map[string]string{"topic": "t", "kinesis.stream": "s", "kinesis.position": "MIDDLE"}, "kinesis.position", "Invalid value MIDDLE for configuration kinesis.position"},
		{"KinesisSinkConnector", map[string]string{"topics": "t"}, "kinesis.stream", `Missing required configuration "kinesis.stream" which has no default value.`},
		{"KinesisSinkConnector", map[string]string{"topics": "t", "kinesis.stream": "s", "kinesis.explicit.hash.key": "shard"}, "kinesis.explicit.hash.key", "Invalid value shard for configuration kinesis.explicit.hash.key"},
		{"SqsSourceConnector", map[string]string{"sqs.queue.name": "q"}, "topic", `Missing required configuration "topic" which has no default value.`},
		{"SqsSourceConnector", map[string]string{"sqs.queue.name": "q", "topic": "t", "sqs.max.messages": "11"}, "sqs.max.messages", "Invalid value 11 for configuration sqs.max.messages"},
		{"SqsSinkConnector", map[string]string{"sqs.queue.name": "q"}, "topics", "Must configure one of topics or topics.regex"},
		{"SqsSinkConnector", map[string]string{"topics": "t", "sqs.queue.name": "q", "sqs.headers.as.attributes": "sometimes"}, "sqs.headers.as.attributes", "Invalid value sometimes for configuration sqs.headers.as.attributes"},
		{"S3SinkConnector", map[string]string{"topics": "t", "flush.size": "3"}, "s3.bucket.name", `Missing required configuration "s3.bucket.name" which has no default value.`},
		{"S3SinkConnector", map[string]string{"topics": "t", "flush.size": "3", "s3.bucket.name": "b", "compression": "zip"}, "compression", "Invalid value zip for configuration compression"},
		{"HttpSinkConnector", map[string]string{"topics": "t"}, "http.url", `Missing required configuration "http.url" which has no default value.`},
		{"HttpSinkConnector", map[string]string{"topics": "t", "http.url": "http://127.0.0.1:1/", "http.method": "DELETE"}, "http.method", "Invalid value DELETE for configuration http.method"},
		{"FileStreamSourceConnector", map[string]string{}, "topic", `Missing required configuration "topic" which has no default value.`},
		{"FileStreamSourceConnector", map[string]string{"topic": "t", "batch.size": "many"}, "batch.size", "Invalid value many for configuration batch.size"},
		{"FileStreamSinkConnector", map[string]string{}, "topics", "Must configure one of topics or topics.regex"},
		{"FileStreamSinkConnector", map[string]string{"topics": "t", "errors.tolerance": "some"}, "errors.tolerance", "Invalid value some for configuration errors.tolerance"},
		{"TailSourceConnector", map[string]string{"topic": "t"}, "file.pattern", `Missing required configuration "file.pattern" which has no default value.`},
		{"TailSourceConnector", map[string]string{"topic": "t", "file.pattern": "/tmp/x*", "initial.position": "MIDDLE"}, "initial.position", "Invalid value MIDDLE for configuration initial.position"},
	} {
		t.Run("Refused/"+c.plugin+"/"+c.field, func(t *testing.T) {
			t.Parallel()
			config := map[string]string{"connector.class": c.plugin, "name": "refused-" + strings.ToLower(c.plugin)}
			if strings.Contains(c.plugin, "Kinesis") || strings.Contains(c.plugin, "Sqs") || strings.Contains(c.plugin, "S3") {
				for k, v := range aws {
					config[k] = v
				}
			}
			for k, v := range c.config {
				config[k] = v
			}
			var answer struct {
				ErrorCount int `json:"error_count"`
				Configs    []struct {
					Value struct {
						Name   string
						Errors []string
					}
				}
			}
			if code := call(t, "PUT", cb.rest+"/connector-plugins/"+c.plugin+"/config/validate", mustJSON(t, config), &answer); code != 200 {
				t.Fatalf("validate: %d", code)
			}
			var fieldErrors []string
			for _, cfg := range answer.Configs {
				if cfg.Value.Name == c.field {
					fieldErrors = cfg.Value.Errors
				}
			}
			if !slices.ContainsFunc(fieldErrors, func(e string) bool { return strings.Contains(e, c.want) }) {
				t.Errorf("validate: %s errors %q, want one with %q", c.field, fieldErrors, c.want)
			}
			if answer.ErrorCount == 0 {
				t.Errorf("validate: error_count 0")
			}
			var refused struct {
				ErrorCode int `json:"error_code"`
				Message   string
			}
			body := mustJSON(t, map[string]any{"name": config["name"], "config": config})
			if code := call(t, "POST", cb.rest+"/connectors", body, &refused); code != 400 || refused.ErrorCode != 400 ||
				!strings.Contains(refused.Message, "Connector configuration is invalid and contains the following") ||
				!strings.Contains(refused.Message, c.want) {
				t.Errorf("POST: %d %+v, want 400 with %q", code, refused, c.want)
			}
			var names []string
			call(t, "GET", cb.rest+"/connectors", "", &names)
			if slices.Contains(names, config["name"]) {
				t.Errorf("refused connector %s exists: %q", config["name"], names)
			}
		})
	}
}
