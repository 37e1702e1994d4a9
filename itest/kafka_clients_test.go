package itest

// The Kafka clients the tests drive: franz-go and sarama in-process, kcat,
// kafka-python, confluent-kafka and kafkajs as child processes. Each can
// produce with a given codec and consume partitions by assignment (no
// consumer group).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var codecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// kclient is one Kafka client program.
type kclient struct {
	name    string
	check   func() error // nil: always there (a Go module)
	install string

	// produce sends recs to topic with codec (acks=all) and returns their
	// positions in input order: Partition and Offset set on copies of recs.
	// A client that cannot report per-record positions returns them -1.
	produce func(t *testing.T, addr, topic, codec string, recs []rec) []rec
	// consume reads each partition in ends from its start up to (not
	// including) its end offset, by assignment, and returns the records.
	consume func(t *testing.T, addr, topic string, ends map[int32]int64) []rec

	// storedCodec, if set, says which codec the client really uses when
	// asked for codec against a server advertising apis, and why when it
	// differs. nil: the codec asked for.
	storedCodec func(t *testing.T, codec string, apis apiVersions) (string, string)

	// What the client can express when producing.
	perRecordHeaders bool // false: kcat sets the same headers on every record
	timestamps       bool // false: kcat lets librdkafka stamp the send time
	nulls            bool // null keys and null values (tombstones)
}

func (c kclient) need(t *testing.T) {
	t.Helper()
	if c.check != nil {
		need(t, c.name, c.check, c.install)
	}
}

var kafkaClients = []kclient{
	{name: "franz-go", produce: kgoProduce, consume: kgoConsume, perRecordHeaders: true, timestamps: true, nulls: true},
	saramaClient("sarama-2.8", sarama.V2_8_0_0),
	saramaClient("sarama-3.6", sarama.V3_6_0_0),
	{name: "kcat", check: checkKcat, install: installKcat, produce: kcatProduce, consume: kcatConsume,
		storedCodec: librdkafkaCodec(kcatLibrdkafkaVersion)},
	{name: "kafka-python", check: checkKafkaPython, install: installKafkaPython,
		produce: scriptProduce(systemPython, "python/kafkapython.py"), consume: scriptConsume(systemPython, "python/kafkapython.py"),
		perRecordHeaders: true, timestamps: true, nulls: true},
	{name: "confluent-kafka", check: checkConfluent, install: installConfluent,
		produce: scriptProduce(systemPython, "python/confluent.py"), consume: scriptConsume(systemPython, "python/confluent.py"),
		storedCodec: librdkafkaCodec(confluentLibrdkafkaVersion), perRecordHeaders: true, timestamps: true, nulls: true},
	{name: "kafkajs", check: checkKafkajs, install: installKafkajs,
		produce: scriptProduce("node", "node/kafka.js"), consume: scriptConsume("node", "node/kafka.js"),
		perRecordHeaders: true, timestamps: true, nulls: true},
}

// ---- franz-go ----

func kgoCodec(codec string) kgo.CompressionCodec {
	switch codec {
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	}
	return kgo.NoCompression()
}

func kgoProduce(t *testing.T, addr, topic, codec string, recs []rec) []rec {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerBatchCompression(kgoCodec(codec)),
		kgo.ProducerLinger(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krs[i] = kgoRecord(topic, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	if err := cl.ProduceSync(ctx, krs...).FirstErr(); err != nil {
		t.Fatalf("franz-go produce (%s): %v", codec, err)
	}
	out := make([]rec, len(recs))
	for i, kr := range krs {
		out[i] = recs[i]
		out[i].Partition, out[i].Offset = kr.Partition, kr.Offset
	}
	return out
}

func kgoConsume(t *testing.T, addr, topic string, ends map[int32]int64) []rec {
	t.Helper()
	offsets := map[int32]kgo.Offset{}
	for p := range ends {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	var out []rec
	next := map[int32]int64{}
	for !reached(next, ends) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("franz-go consume %s: %v; positions %v, want %v", topic, ctx.Err(), next, ends)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("franz-go consume %s/%d: %v", topic, p, err)
		})
		fs.EachRecord(func(kr *kgo.Record) {
			if kr.Offset < ends[kr.Partition] {
				out = append(out, fromKgo(kr))
			}
			next[kr.Partition] = kr.Offset + 1
		})
	}
	return out
}

func reached(next, ends map[int32]int64) bool {
	for p, end := range ends {
		if next[p] < end {
			return false
		}
	}
	return true
}

// ---- sarama ----

func saramaClient(name string, v sarama.KafkaVersion) kclient {
	return kclient{name: name,
		produce: func(t *testing.T, addr, topic, codec string, recs []rec) []rec {
			return saramaProduce(t, v, addr, topic, codec, recs)
		},
		consume: func(t *testing.T, addr, topic string, ends map[int32]int64) []rec {
			return saramaConsume(t, v, addr, topic, ends)
		},
		perRecordHeaders: true, timestamps: true, nulls: true}
}

func saramaConfig(v sarama.KafkaVersion) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = v
	cfg.ClientID = "itest-sarama"
	cfg.Net.DialTimeout = 10 * time.Second
	cfg.Metadata.Retry.Max = 10
	return cfg
}

func saramaProduce(t *testing.T, v sarama.KafkaVersion, addr, topic, codec string, recs []rec) []rec {
	t.Helper()
	cfg := saramaConfig(v)
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Flush.Frequency = 20 * time.Millisecond
	if err := cfg.Producer.Compression.UnmarshalText([]byte(codec)); err != nil {
		t.Fatal(err)
	}
	p, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("sarama %s: %v", v, err)
	}
	defer p.Close()
	msgs := make([]*sarama.ProducerMessage, len(recs))
	for i, r := range recs {
		m := &sarama.ProducerMessage{Topic: topic, Timestamp: time.UnixMilli(r.Timestamp)}
		if r.Key != nil {
			m.Key = sarama.ByteEncoder(r.Key)
		}
		if r.Value != nil {
			m.Value = sarama.ByteEncoder(r.Value)
		}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
		}
		msgs[i] = m
	}
	if err := p.SendMessages(msgs); err != nil {
		var perrs sarama.ProducerErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			err = fmt.Errorf("%d failed, first: %w", len(perrs), perrs[0].Err)
		}
		t.Fatalf("sarama %s produce (%s): %v", v, codec, err)
	}
	out := make([]rec, len(recs))
	for i, m := range msgs {
		out[i] = recs[i]
		out[i].Partition, out[i].Offset = m.Partition, m.Offset
	}
	return out
}

func saramaConsume(t *testing.T, v sarama.KafkaVersion, addr, topic string, ends map[int32]int64) []rec {
	t.Helper()
	cfg := saramaConfig(v)
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.MaxWaitTime = 200 * time.Millisecond
	c, err := sarama.NewConsumer([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("sarama %s: %v", v, err)
	}
	defer c.Close()
	var out []rec
	deadline := time.After(kafkaTimeout)
	for p, end := range ends {
		if end == 0 {
			continue
		}
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("sarama %s consume %s/%d: %v", v, topic, p, err)
		}
	read:
		for {
			select {
			case m := <-pc.Messages():
				if m.Offset < end {
					r := rec{Key: m.Key, Value: m.Value, Timestamp: m.Timestamp.UnixMilli(), Partition: m.Partition, Offset: m.Offset}
					for _, h := range m.Headers {
						r.Headers = append(r.Headers, header{string(h.Key), h.Value})
					}
					out = append(out, r)
				}
				if m.Offset+1 >= end {
					break read
				}
			case err := <-pc.Errors():
				t.Fatalf("sarama %s consume %s/%d: %v", v, topic, p, err)
			case <-deadline:
				t.Fatalf("sarama %s consume %s/%d: timed out", v, topic, p)
			}
		}
		pc.Close()
	}
	return out
}

// ---- kcat ----

// kcatProduce feeds "key:value" lines; kcat sets its -H headers on every
// record and librdkafka stamps the time, so recs must agree (see genRecs).
func kcatProduce(t *testing.T, addr, topic, codec string, recs []rec) []rec {
	t.Helper()
	var in bytes.Buffer
	args := []string{"-b", addr, "-P", "-t", topic, "-K", ":", "-z", codec, "-X", "linger.ms=20", "-X", "acks=all"}
	for _, h := range recs[0].Headers {
		args = append(args, "-H", h.Key+"="+string(h.Value))
	}
	for _, r := range recs {
		if bytes.ContainsAny(r.Key, ":\n") || bytes.ContainsRune(r.Value, '\n') || r.Key == nil || r.Value == nil {
			t.Fatalf("record %q cannot go through kcat's line input", recID(r))
		}
		fmt.Fprintf(&in, "%s:%s\n", r.Key, r.Value)
	}
	runTool(t, in.Bytes(), "kcat", args...)
	out := make([]rec, len(recs))
	for i, r := range recs {
		out[i] = r
		out[i].Partition, out[i].Offset = -1, -1
	}
	return out
}

func kcatConsume(t *testing.T, addr, topic string, ends map[int32]int64) []rec {
	t.Helper()
	return kcatRecords(t, addr, topic, ends, "create")
}

// kcatRecords consumes each partition to its end offset with kcat -J;
// tsType, when not empty, is the timestamp type every record must have.
func kcatRecords(t *testing.T, addr, topic string, ends map[int32]int64, tsType string) []rec {
	t.Helper()
	var out []rec
	for p, end := range ends {
		if end == 0 {
			continue
		}
		// -c stops after the partition's records; -e also stops at its end,
		// so a short partition fails the comparison instead of hanging.
		stdout := runTool(t, nil, "kcat", "-b", addr, "-C", "-q", "-J", "-t", topic, "-p", strconv.Itoa(int(p)),
			"-o", "beginning", "-e", "-c", strconv.FormatInt(end, 10))
		for _, line := range bytes.Split(stdout, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var j struct {
				Partition int32     `json:"partition"`
				Offset    int64     `json:"offset"`
				TSType    string    `json:"tstype"`
				TS        int64     `json:"ts"`
				Headers   []*string `json:"headers"`
				Key       *string   `json:"key"`
				Payload   *string   `json:"payload"`
			}
			if err := json.Unmarshal(line, &j); err != nil {
				t.Fatalf("kcat -J output %q: %v", line, err)
			}
			if j.Offset >= end {
				continue
			}
			r := rec{Timestamp: j.TS, Partition: j.Partition, Offset: j.Offset}
			if j.Key != nil {
				r.Key = []byte(*j.Key)
			}
			if j.Payload != nil {
				r.Value = []byte(*j.Payload)
			}
			if tsType != "" && j.TSType != tsType {
				t.Errorf("kcat: record %d/%d timestamp type %q, want %s", j.Partition, j.Offset, j.TSType, tsType)
			}
			for i := 0; i+1 < len(j.Headers); i += 2 {
				h := header{Key: *j.Headers[i]}
				if j.Headers[i+1] != nil {
					h.Value = []byte(*j.Headers[i+1])
				}
				r.Headers = append(r.Headers, h)
			}
			out = append(out, r)
		}
	}
	return out
}

// ---- scripted clients (itest/python, itest/node) ----

// readScript reads a driver script so that go test's cache counts it as an
// input of the test: a changed script reruns the test.
func readScript(t *testing.T, script string) {
	t.Helper()
	if _, err := os.ReadFile(script); err != nil {
		t.Fatal(err)
	}
}

func scriptProduce(interp, script string) func(*testing.T, string, string, string, []rec) []rec {
	return func(t *testing.T, addr, topic, codec string, recs []rec) []rec {
		t.Helper()
		readScript(t, script)
		stdout := runTool(t, encodeRecs(recs), interp, script, "produce", "--bootstrap", addr, "--topic", topic,
			"--codec", codec, "--timeout", strconv.Itoa(int(kafkaTimeout/time.Second)))
		acks, err := decodeRecs(stdout)
		if err != nil {
			t.Fatalf("%s produce (%s): %v", script, codec, err)
		}
		if len(acks) != len(recs) {
			t.Fatalf("%s produce (%s): %d acks for %d records", script, codec, len(acks), len(recs))
		}
		out := make([]rec, len(recs))
		for i, r := range recs {
			out[i] = r
			out[i].Partition, out[i].Offset = acks[i].Partition, acks[i].Offset
			if out[i].Partition < 0 || out[i].Offset < 0 {
				t.Fatalf("%s produce (%s): record %d acked at %d/%d", script, codec, i, out[i].Partition, out[i].Offset)
			}
		}
		return out
	}
}

func scriptConsume(interp, script string) func(*testing.T, string, string, map[int32]int64) []rec {
	return func(t *testing.T, addr, topic string, ends map[int32]int64) []rec {
		t.Helper()
		readScript(t, script)
		e := map[string]int64{}
		for p, end := range ends {
			e[strconv.Itoa(int(p))] = end
		}
		ej, _ := json.Marshal(e)
		stdout := runTool(t, nil, interp, script, "consume", "--bootstrap", addr, "--topic", topic,
			"--ends", string(ej), "--timeout", strconv.Itoa(int(kafkaTimeout/time.Second)))
		recs, err := decodeRecs(stdout)
		if err != nil {
			t.Fatalf("%s consume: %v", script, err)
		}
		return recs
	}
}

// genRecs makes the records client c produces with codec: keyed (three
// keys, so per-key order matters), values from 1 line to ~70 KB of
// compressible UTF-8 text, three headers (one empty), explicit distinct
// timestamps, and a null key and a tombstone where the client can say so.
// Every record compresses well, so a client never falls back to an
// uncompressed batch and the codec check in the matrix holds.
func genRecs(c kclient, codec string, base int64) []rec {
	const n = 10
	reps := []int{3, 10, 100, 1000, 5000}
	var rs []rec
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s/%s/%d", c.name, codec, i)
		r := rec{
			Key:       []byte(fmt.Sprintf("key-%d", i%3)),
			Value:     []byte(id + " " + strings.Repeat("héllo wörld ✓ ", reps[i%len(reps)])),
			Timestamp: base + int64(i)*1000,
			Partition: -1, Offset: -1,
		}
		if c.perRecordHeaders {
			r.Headers = []header{{"id", []byte(id)}, {"src", []byte(c.name)}, {"empty", []byte{}}}
		} else {
			r.Headers = []header{{"src", []byte(c.name)}, {"codec", []byte(codec)}}
		}
		if c.nulls {
			switch i {
			case 7:
				r.Key = nil
			case 8:
				r.Key = []byte("tombstone-" + strings.Repeat("k", 300))
				r.Value = nil
			}
		}
		rs = append(rs, r)
	}
	return rs
}

// ---- librdkafka's codec gate ----

// apiVersions is a server's ApiVersions answer: key -> [min, max].
type apiVersions map[int16][2]int16

func (a apiVersions) overlaps(key, lo, hi int16) bool {
	v, ok := a[key]
	return ok && v[0] <= hi && lo <= v[1]
}

// librdkafkaCodec models how librdkafka (kcat, confluent-kafka) decides
// whether to compress (rdkafka_msgset_writer.c and rdkafka_feature.c):
//   - zstd needs Produce v7 and Fetch v10 advertised;
//   - lz4 needs FindCoordinator v0 advertised (its "LZ4" feature);
//   - before librdkafka 2.11.1, gzip, snappy and lz4 also need the server to
//     advertise Produce v0: the check asks whether Produce overlaps [0, 0]
//     (fixed by 2.11.1 for Kafka 4.0, which dropped Produce v0-2).
//
// When the gate fails, librdkafka logs "Broker does not support compression
// type X: not compressing batch" and sends the batch uncompressed, so that
// is what the server must store. The bridge advertises Produce v0-11 since
// issue 14, so every gate passes against it and the matrix expects every
// codec stored as asked (TestKafkaLegacyKcat checks it directly).
func librdkafkaCodec(version func(*testing.T) [3]int) func(*testing.T, string, apiVersions) (string, string) {
	return func(t *testing.T, codec string, apis apiVersions) (string, string) {
		v := version(t)
		old := v[0] < 2 || (v[0] == 2 && (v[1] < 11 || (v[1] == 11 && v[2] < 1)))
		ver := fmt.Sprintf("librdkafka %d.%d.%d", v[0], v[1], v[2])
		produce, fetch, findCoord := int16(kmsg.Produce), int16(kmsg.Fetch), int16(kmsg.FindCoordinator)
		switch codec {
		case "gzip", "snappy", "lz4":
			if old && !apis.overlaps(produce, 0, 0) {
				return "none", fmt.Sprintf("%s compresses %s only for servers advertising Produce v0 (server: Produce %v); fixed in librdkafka 2.11.1", ver, codec, apis[produce])
			}
			if codec == "lz4" && !apis.overlaps(findCoord, 0, 0) {
				return "none", fmt.Sprintf("%s compresses lz4 only for servers advertising FindCoordinator v0", ver)
			}
		case "zstd":
			if !apis.overlaps(produce, 7, 7) || !apis.overlaps(fetch, 10, 10) {
				return "none", fmt.Sprintf("%s compresses zstd only for servers advertising Produce v7 and Fetch v10", ver)
			}
		}
		return codec, ""
	}
}

var librdkafkaVersionRE = regexp.MustCompile(`(\d+)\.(\d+)\.(\d+)`)

func parseVersion(t *testing.T, what string, out []byte) [3]int {
	t.Helper()
	m := librdkafkaVersionRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("%s: no version in %q", what, out)
	}
	var v [3]int
	for i := range v {
		v[i], _ = strconv.Atoi(string(m[i+1]))
	}
	return v
}

func kcatLibrdkafkaVersion(t *testing.T) [3]int {
	out, err := exec.Command("kcat", "-V").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -V: %v", err)
	}
	i := bytes.Index(out, []byte("librdkafka "))
	if i < 0 {
		t.Fatalf("kcat -V names no librdkafka: %q", out)
	}
	return parseVersion(t, "kcat -V", out[i:])
}

func confluentLibrdkafkaVersion(t *testing.T) [3]int {
	out, err := exec.Command(systemPython, "-c", "import confluent_kafka; print(confluent_kafka.libversion()[0])").CombinedOutput()
	if err != nil {
		t.Fatalf("confluent_kafka.libversion: %v: %s", err, out)
	}
	return parseVersion(t, "confluent_kafka.libversion", out)
}

// serverAPIVersions asks the server for its ApiVersions.
func serverAPIVersions(t *testing.T, k *kafkaCluster) apiVersions {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, k.client())
	if err != nil {
		t.Fatalf("ApiVersions: %v", err)
	}
	if resp.ErrorCode != 0 {
		t.Fatalf("ApiVersions: error code %d", resp.ErrorCode)
	}
	a := apiVersions{}
	for _, k := range resp.ApiKeys {
		a[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
	}
	return a
}
