package itest

// Kafka security against the real binary: SASL (PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512) with every Kafka client the project tests, right and wrong
// secrets. A refused client must get the protocol's error and write
// nothing.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	xscram "github.com/xdg-go/scram"
)

// authCase is one connection attempt: which listener, which credentials,
// and whether the bridge must accept it.
type authCase struct {
	listener  string // key of bridge.kafkaListeners
	protocol  string // security.protocol as clients spell it
	mechanism string // "" without SASL
	user      string
	password  string
	ok        bool
}

func (c authCase) String() string {
	outcome := "refused"
	if c.ok {
		outcome = "accepted"
	}
	return fmt.Sprintf("%s/%s/%s/%s", c.protocol, c.mechanism, c.user, outcome)
}

// authClient runs one round trip (produce a record, read it back) and
// returns nil when it worked, or the client's error.
type authClient struct {
	name    string
	check   func() error
	install string
	run     func(t *testing.T, addr, topic string, c authCase) error
}

var authClients = []authClient{
	{name: "franz-go", run: kgoAuthRoundTrip},
	{name: "sarama", run: saramaAuthRoundTrip},
	{name: "kcat", check: checkKcat, install: installKcat, run: kcatAuthRoundTrip},
	{name: "kafka-python", check: checkKafkaPython, install: installKafkaPython, run: pythonAuthRoundTrip("kafka-python")},
	{name: "confluent-kafka", check: checkConfluent, install: installConfluent, run: pythonAuthRoundTrip("confluent")},
	{name: "kafkajs", check: checkKafkajs, install: installKafkajs, run: kafkajsAuthRoundTrip},
}

// writeUsersFile writes a --sasl-users-file with alice and bob.
func writeUsersFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "users.yaml")
	users := "users:\n  - name: alice\n    password: alice-secret\n  - name: bob\n    password: bob-secret\n    mechanisms: [SCRAM-SHA-512]\n    iterations: 8192\n"
	if err := os.WriteFile(path, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKafkaSASLClients(t *testing.T) {
	needsBridge(t)
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()),
		"--kafka-listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
		"--sasl-users-file", writeUsersFile(t))...)
	cases := []authCase{
		{"SASL_PLAINTEXT", "SASL_PLAINTEXT", "PLAIN", "alice", "alice-secret", true},
		{"SASL_PLAINTEXT", "SASL_PLAINTEXT", "SCRAM-SHA-256", "alice", "alice-secret", true},
		{"SASL_PLAINTEXT", "SASL_PLAINTEXT", "SCRAM-SHA-512", "bob", "bob-secret", true},
		{"SASL_PLAINTEXT", "SASL_PLAINTEXT", "PLAIN", "alice", "wrong", false},
		{"SASL_PLAINTEXT", "SASL_PLAINTEXT", "SCRAM-SHA-256", "alice", "wrong", false},
		{"SASL_PLAINTEXT", "SASL_PLAINTEXT", "SCRAM-SHA-256", "bob", "bob-secret", false}, // bob has SCRAM-SHA-512 only
		{"SASL_PLAINTEXT", "SASL_PLAINTEXT", "SCRAM-SHA-512", "mallory", "x", false},
	}
	runAuthMatrix(t, b, cases)
}

// runAuthMatrix runs every case with every client, each on a topic of its
// own, then checks through the PLAINTEXT listener that the accepted ones
// wrote their record and the refused ones wrote nothing.
func runAuthMatrix(t *testing.T, b *bridge, cases []authCase) {
	t.Helper()
	wantRecords := map[string]int64{}
	for _, cl := range authClients {
		t.Run(cl.name, func(t *testing.T) {
			if cl.check != nil {
				need(t, cl.name, cl.check, cl.install)
			}
			for i, c := range cases {
				topic := fmt.Sprintf("auth-%s-%d", cl.name, i)
				addr := b.kafkaListeners[c.listener]
				err := cl.run(t, addr, topic, c)
				switch {
				case c.ok && err != nil:
					t.Errorf("%v: %v", c, err)
				case !c.ok && err == nil:
					t.Errorf("%v: the round trip worked; want it refused", c)
				}
				if c.ok {
					wantRecords[topic] = 1
				} else {
					wantRecords[topic] = 0
				}
			}
		})
	}
	k := &kafkaCluster{t: t, addr: b.kafkaListeners["PLAINTEXT"]}
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	ends, err := k.admin().ListEndOffsets(ctx, keys(wantRecords)...)
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range wantRecords {
		var got int64
		ends.Each(func(o kadm.ListedOffset) {
			if o.Topic == topic && o.Err == nil {
				got += o.Offset
			}
		})
		if got != want {
			t.Errorf("topic %s holds %d records, want %d", topic, got, want)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func kgoAuthRoundTrip(t *testing.T, addr, topic string, c authCase) error {
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.RequestRetries(0), kgo.AllowAutoTopicCreation(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	switch c.mechanism {
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: c.user, Pass: c.password}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.user, Pass: c.password}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.user, Pass: c.password}.AsSha512Mechanism()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		return err
	}
	value := []byte(topic + "-franz")
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: value}).FirstErr(); err != nil {
		return err
	}
	cl.AddConsumeTopics(topic)
	for {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return err
		}
		found := false
		fs.EachRecord(func(r *kgo.Record) { found = found || bytes.Equal(r.Value, value) })
		if found {
			return nil
		}
	}
}

// xdgSCRAM adapts xdg-go/scram's client to sarama's SCRAMClient, as
// sarama's own example does.
type xdgSCRAM struct {
	gen  xscram.HashGeneratorFcn
	conv *xscram.ClientConversation
}

func (x *xdgSCRAM) Begin(user, password, authz string) error {
	cl, err := x.gen.NewClient(user, password, authz)
	if err != nil {
		return err
	}
	x.conv = cl.NewConversation()
	return nil
}
func (x *xdgSCRAM) Step(challenge string) (string, error) { return x.conv.Step(challenge) }
func (x *xdgSCRAM) Done() bool                            { return x.conv.Done() }

func saramaAuthRoundTrip(t *testing.T, addr, topic string, c authCase) error {
	cfg := saramaConfig(sarama.V3_6_0_0)
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Metadata.Retry.Max = 0
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.User, cfg.Net.SASL.Password = c.user, c.password
	switch c.mechanism {
	case "PLAIN":
		cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	case "SCRAM-SHA-256":
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &xdgSCRAM{gen: xscram.SHA256} }
	case "SCRAM-SHA-512":
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &xdgSCRAM{gen: xscram.SHA512} }
	}
	p, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		return err
	}
	value := topic + "-sarama"
	_, _, err = p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(value)})
	p.Close()
	if err != nil {
		return err
	}
	cons, err := sarama.NewConsumer([]string{addr}, cfg)
	if err != nil {
		return err
	}
	defer cons.Close()
	pc, err := cons.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		return err
	}
	defer pc.Close()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m := <-pc.Messages():
			if string(m.Value) == value {
				return nil
			}
		case err := <-pc.Errors():
			return err
		case <-timeout:
			return fmt.Errorf("record not read back")
		}
	}
}

// librdkafkaArgs are the -X settings of a case for kcat.
func librdkafkaArgs(c authCase) []string {
	args := []string{"-X", "security.protocol=" + c.protocol}
	if c.mechanism != "" {
		args = append(args, "-X", "sasl.mechanisms="+c.mechanism, "-X", "sasl.username="+c.user, "-X", "sasl.password="+c.password)
	}
	return args
}

func kcatAuthRoundTrip(t *testing.T, addr, topic string, c authCase) error {
	base := append([]string{"-b", addr, "-t", topic, "-p", "0"}, librdkafkaArgs(c)...)
	value := topic + "-kcat"
	if _, err := runToolErr([]byte(value+"\n"), "kcat", append(base, "-P", "-X", "message.timeout.ms=15000")...); err != nil {
		return err
	}
	out, err := runToolErr(nil, "kcat", append(base, "-C", "-o", "beginning", "-e", "-c", "1", "-m", "15")...)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(out)) != value {
		return fmt.Errorf("kcat read %q, want %q", out, value)
	}
	return nil
}

// authScriptResult reads what kafka_auth.py and kafka_auth.js print.
func authScriptResult(out []byte, err error) error {
	var res struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if jerr := json.Unmarshal(bytes.TrimSpace(out), &res); jerr != nil {
		if err != nil {
			return err
		}
		return fmt.Errorf("unreadable result %q: %v", out, jerr)
	}
	if !res.OK {
		return fmt.Errorf("%s", res.Error)
	}
	return nil
}

func scriptAuthArgs(addr, topic string, c authCase, mechanism string) []string {
	args := []string{"--bootstrap", addr, "--topic", topic}
	if mechanism != "" {
		args = append(args, "--mechanism", mechanism, "--user", c.user, "--password", c.password)
	}
	return args
}

func pythonAuthRoundTrip(client string) func(t *testing.T, addr, topic string, c authCase) error {
	return func(t *testing.T, addr, topic string, c authCase) error {
		args := append([]string{"python/kafka_auth.py", client, "--protocol", c.protocol}, scriptAuthArgs(addr, topic, c, c.mechanism)...)
		return authScriptResult(runToolErr(nil, systemPython, args...))
	}
}

func kafkajsAuthRoundTrip(t *testing.T, addr, topic string, c authCase) error {
	args := append([]string{"node/kafka_auth.js"}, scriptAuthArgs(addr, topic, c, strings.ToLower(c.mechanism))...)
	return authScriptResult(runToolErr(nil, "node", args...))
}
