package itest

// Kafka security against the real binary: SASL (PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512) with every Kafka client the project tests, right and wrong
// secrets. A refused client must get the protocol's error and write
// nothing.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
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
	user      string // AWS_MSK_IAM and kafkajs's AWS: the access key id
	password  string // AWS_MSK_IAM and kafkajs's AWS: the secret
	ok        bool
	// sessionToken is the AWS session token AWS_MSK_IAM signs with;
	// token is OAUTHBEARER's bearer token (an MSK IAM token).
	sessionToken, token string
	// ca, cert and key are PEM files for TLS listeners: the CA to trust
	// and the client certificate to present (none when empty).
	ca, cert, key string
	// topicPrefix starts the case's topic name; "auth-" when empty.
	topicPrefix string
}

func (c authCase) String() string {
	outcome := "refused"
	if c.ok {
		outcome = "accepted"
	}
	who := c.user
	if c.protocol == "SSL" {
		who = "cert:" + filepath.Base(c.cert)
	}
	return fmt.Sprintf("%s/%s/%s/%s", c.protocol, c.mechanism, who, outcome)
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
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()),
		"--kafka-listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
		"--sasl-users-file", writeUsersFile(t), "--audit-log", auditPath)...)
	cases := []authCase{
		{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "PLAIN", user: "alice", password: "alice-secret", ok: true},
		{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "SCRAM-SHA-256", user: "alice", password: "alice-secret", ok: true},
		{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "SCRAM-SHA-512", user: "bob", password: "bob-secret", ok: true},
		{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "PLAIN", user: "alice", password: "wrong", ok: false},
		{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "SCRAM-SHA-256", user: "alice", password: "wrong", ok: false},
		{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "SCRAM-SHA-256", user: "bob", password: "bob-secret", ok: false}, // bob has SCRAM-SHA-512 only
		{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "SCRAM-SHA-512", user: "mallory", password: "x", ok: false},
	}
	runAuthMatrix(t, b, cases)
	wantAudited(t, auditPath, `"eventName":"SaslAuthenticate"`, `"outcome":"failed"`, `user \"mallory\": unknown user`, `user \"alice\": invalid proof`, `user \"alice\": wrong password`)
}

// wantAudited checks that the audit log at path holds each of wants.
func wantAudited(t *testing.T, path string, wants ...string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range wants {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

// TestKafkaTLSClients serves SSL with client certificates required (mTLS)
// and SASL_SSL (server certificate only, KIP-684) from `bridge certs`
// files, and has every client connect with and without the right
// certificate or password.
func TestKafkaTLSClients(t *testing.T) {
	needsBridge(t)
	dir, other := t.TempDir(), t.TempDir()
	for _, d := range []string{dir, other} {
		if out, err := exec.Command(bridgeBinary(t), "certs", "--dir", d, "--client", "alice").CombinedOutput(); err != nil {
			t.Fatalf("bridge certs: %v\n%s", err, out)
		}
	}
	ca := filepath.Join(dir, "ca.pem")
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()), "--audit-log", auditPath,
		"--kafka-listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
		"--tls-cert-file", filepath.Join(dir, "server.pem"), "--tls-key-file", filepath.Join(dir, "server-key.pem"),
		"--tls-client-ca-file", ca, "--tls-client-auth", "required",
		"--sasl-users-file", writeUsersFile(t))...)
	alice := [2]string{filepath.Join(dir, "client-alice.pem"), filepath.Join(dir, "client-alice-key.pem")}
	stranger := [2]string{filepath.Join(other, "client-alice.pem"), filepath.Join(other, "client-alice-key.pem")}
	cases := []authCase{
		{listener: "SSL", protocol: "SSL", ok: true, ca: ca, cert: alice[0], key: alice[1]},
		{listener: "SSL", protocol: "SSL", ok: false, ca: ca},                                      // no client certificate
		{listener: "SSL", protocol: "SSL", ok: false, ca: ca, cert: stranger[0], key: stranger[1]}, // another CA's
		{listener: "SASL_SSL", protocol: "SASL_SSL", mechanism: "SCRAM-SHA-512", user: "bob", password: "bob-secret", ok: true, ca: ca},
		{listener: "SASL_SSL", protocol: "SASL_SSL", mechanism: "PLAIN", user: "alice", password: "alice-secret", ok: true, ca: ca},
		{listener: "SASL_SSL", protocol: "SASL_SSL", mechanism: "SCRAM-SHA-256", user: "alice", password: "wrong", ok: false, ca: ca},
	}
	runAuthMatrix(t, b, cases)
	wantAudited(t, auditPath, `"eventName":"TLSHandshake","principal":"User:ANONYMOUS","sourceIPAddress":"127.0.0.1","listener":"SSL","outcome":"failed","errorCode":"SSL_AUTHENTICATION_FAILED"`,
		`certificate signed by unknown authority`, `"listener":"SASL_SSL","outcome":"failed","errorCode":"SASL_AUTHENTICATION_FAILED"`)
}

// TestKafkaACLClients enforces ACLs: alice may do anything with the
// auth- topics and any group, and nothing else; bob has no ACL. Every
// client is refused where she or he may not go, nothing is written there,
// and the audit log names each refusal.
func TestKafkaACLClients(t *testing.T) {
	needsBridge(t)
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()),
		"--kafka-listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
		"--sasl-users-file", writeUsersFile(t),
		// The PLAINTEXT listener is the test's own, for checking what was
		// written: its anonymous principal is a super user.
		"--authorizer", "acl", "--super-users", "User:ANONYMOUS", "--audit-log", auditPath)...)
	k := &kafkaCluster{t: t, addr: b.kafkaListeners["PLAINTEXT"]}
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	res, err := k.admin().CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").AllowHosts().
		Topics("auth-").Operations(kadm.OpAll).ResourcePatternType(kadm.ACLPatternPrefixed))
	if err != nil {
		t.Fatal(err)
	}
	groups, err := k.admin().CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").AllowHosts().
		Groups("*").Operations(kadm.OpAll).ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil {
		t.Fatal(err)
	}
	res = append(res, groups...)
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("CreateACLs: %v", r.Err)
		}
	}
	cases := []authCase{
		{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "SCRAM-SHA-256", user: "alice", password: "alice-secret", ok: true},
		{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "SCRAM-SHA-256", user: "alice", password: "alice-secret", ok: false, topicPrefix: "forbidden-"},
		{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "SCRAM-SHA-512", user: "bob", password: "bob-secret", ok: false},
	}
	runAuthMatrix(t, b, cases)
	data, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range authClients {
		for _, want := range []string{
			fmt.Sprintf(`"principal":"User:alice","sourceIPAddress":"127.0.0.1","listener":"SASL_PLAINTEXT","resource":"topic:forbidden-%s-1"`, cl.name),
			fmt.Sprintf(`"principal":"User:bob","sourceIPAddress":"127.0.0.1","listener":"SASL_PLAINTEXT","resource":"topic:auth-%s-2"`, cl.name),
		} {
			if !bytes.Contains(data, []byte(want)) {
				t.Errorf("audit log lacks a denial with %s", want)
			}
		}
	}
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
				prefix := c.topicPrefix
				if prefix == "" {
					prefix = "auth-"
				}
				topic := fmt.Sprintf("%s%s-%d", prefix, cl.name, i)
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
	checkRecords(t, b, wantRecords)
}

// checkRecords checks through the PLAINTEXT listener that each topic holds
// the number of records want says (0 for a refused client's).
func checkRecords(t *testing.T, b *bridge, wantRecords map[string]int64) {
	t.Helper()
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
	case "AWS_MSK_IAM":
		opts = append(opts, kgo.SASL(aws.Auth{AccessKey: c.user, SecretKey: c.password, SessionToken: c.sessionToken}.AsManagedStreamingIAMMechanism()))
	case "OAUTHBEARER":
		opts = append(opts, kgo.SASL(oauth.Auth{Token: c.token}.AsMechanism()))
	}
	if c.ca != "" {
		tc, err := goTLS(c)
		if err != nil {
			return err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
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

// goTLS is a case's TLS settings for the Go clients.
func goTLS(c authCase) (*tls.Config, error) {
	pem, err := os.ReadFile(c.ca)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tc := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if c.cert != "" {
		pair, err := tls.LoadX509KeyPair(c.cert, c.key)
		if err != nil {
			return nil, err
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
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
	if c.ca != "" {
		tc, err := goTLS(c)
		if err != nil {
			return err
		}
		cfg.Net.TLS.Enable, cfg.Net.TLS.Config = true, tc
	}
	cfg.Net.SASL.Enable = c.mechanism != ""
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
	case "OAUTHBEARER":
		cfg.Net.SASL.Mechanism = sarama.SASLTypeOAuth
		cfg.Net.SASL.TokenProvider = staticToken(c.token)
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
	if c.ca != "" {
		args = append(args, "-X", "ssl.ca.location="+c.ca)
	}
	if c.cert != "" {
		args = append(args, "-X", "ssl.certificate.location="+c.cert, "-X", "ssl.key.location="+c.key)
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
	if c.sessionToken != "" {
		args = append(args, "--session-token", c.sessionToken)
	}
	if c.token != "" {
		args = append(args, "--token", c.token)
	}
	if c.ca != "" {
		args = append(args, "--cafile", c.ca)
	}
	if c.cert != "" {
		args = append(args, "--certfile", c.cert, "--keyfile", c.key)
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
