package itest

// Shared machinery of the Kinesis tests (kinesis_*_test.go): a bridge whose
// AWS port the third-party Kinesis clients talk to, the environment those
// clients run in, the drivers' record format, and an aws-sdk-go-v2 reader
// that every test uses as the reference view of a stream.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Region and account the bridge is started with, and so the ones in its
// ARNs; deliberately not the defaults, so a test that depends on the
// default would notice.
const (
	kinesisRegion  = "eu-west-3"
	kinesisAccount = "123456789012"
)

// kinesisTimeout bounds one client run or one wait (a hang, not slowness).
const kinesisTimeout = 2 * time.Minute

// kinesisBridge is a running bridge with both the Kafka and the AWS port.
type kinesisBridge struct {
	t *testing.T
	*bridge
	endpoint string // http://127.0.0.1:PORT of the AWS port
	// cliEnv is more environment for the AWS CLI runs of cli and cliJSON.
	cliEnv []string
}

// startKinesisBridge starts `bridge serve` for a Kinesis test: an in-memory
// store is not enough (the tests are about the real binary) so it gets a
// fresh data dir. extraArgs are more serve flags.
func startKinesisBridge(t *testing.T, extraArgs ...string) *kinesisBridge {
	t.Helper()
	return startKinesisBridgeIn(t, t.TempDir(), extraArgs...)
}

// startKinesisBridgeIn is startKinesisBridge on a given data dir, e.g. the
// one of a bridge that was killed.
func startKinesisBridgeIn(t *testing.T, dataDir string, extraArgs ...string) *kinesisBridge {
	t.Helper()
	args := append(loopbackArgs(dataDir), "--region", kinesisRegion, "--account", kinesisAccount)
	b := startBridge(t, nil, append(args, extraArgs...)...)
	return &kinesisBridge{t: t, bridge: b, endpoint: "http://" + b.aws}
}

func (k *kinesisBridge) streamARN(name string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", kinesisRegion, kinesisAccount, name)
}

// client returns an aws-sdk-go-v2 Kinesis client for the bridge with dummy
// credentials. It keeps the SDK's retries: it is the tests' reference
// reader and setup tool, not the client under test.
func (k *kinesisBridge) client() *awskinesis.Client {
	return awskinesis.New(awskinesis.Options{
		Region:       kinesisRegion,
		BaseEndpoint: aws.String(k.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDITEST", "itest-secret", ""),
	})
}

// kafka returns a franz-go client for the bridge's Kafka port.
func (k *kinesisBridge) kafka(opts ...kgo.Opt) *kgo.Client {
	k.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(k.bridge.kafka)}, opts...)...)
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(cl.Close)
	return cl
}

func (k *kinesisBridge) kadm() *kadm.Client { return kadm.NewClient(k.kafka()) }

func kctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), kinesisTimeout)
	t.Cleanup(cancel)
	return ctx
}

// createStream creates a provisioned stream through aws-sdk-go-v2 and
// waits until it is ACTIVE.
func (k *kinesisBridge) createStream(t *testing.T, name string, shards int32) {
	t.Helper()
	cl := k.client()
	ctx := kctx(t)
	if _, err := cl.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatalf("CreateStream %s: %v", name, err)
	}
	k.waitActive(t, name)
}

// waitActive waits for a stream to be ACTIVE (after a create, a reshard).
func (k *kinesisBridge) waitActive(t *testing.T, name string) {
	t.Helper()
	w := awskinesis.NewStreamExistsWaiter(k.client(), func(o *awskinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 500*time.Millisecond
	})
	if err := w.Wait(kctx(t), &awskinesis.DescribeStreamInput{StreamName: aws.String(name)}, kinesisTimeout); err != nil {
		t.Fatalf("waiting for stream %s to be ACTIVE: %v", name, err)
	}
}

// shards lists every shard of a stream, closed ones included.
func (k *kinesisBridge) shards(t *testing.T, name string) []ktypes.Shard {
	t.Helper()
	var out []ktypes.Shard
	in := &awskinesis.ListShardsInput{StreamName: aws.String(name)}
	for {
		page, err := k.client().ListShards(kctx(t), in)
		if err != nil {
			t.Fatalf("ListShards %s: %v", name, err)
		}
		out = append(out, page.Shards...)
		if page.NextToken == nil {
			return out
		}
		// A next page names the stream by its token alone.
		in = &awskinesis.ListShardsInput{NextToken: page.NextToken}
	}
}

// ---- tools ----

var (
	checkBoto3 = cachedCheck("boto3", runCheck(systemPython, "-c", "import boto3"))
	// The Debian AWS CLI, not whatever `aws` is first on PATH: that one is
	// the version the tests were written against (2.9).
	checkAWSCLI      = cachedCheck("awscli", runCheck(awsCLI, "--version"))
	checkNodeKinesis = cachedCheck("node kinesis clients", nodeModules("@aws-sdk/client-kinesis", "aws-kinesis-agg", "kinesalite"))
)

const (
	awsCLI              = "/usr/bin/aws"
	installBoto3        = "apt-get install -y python3-boto3"
	installAWSCLI       = "apt-get install -y awscli"
	installNodeKinesis  = "apt-get install -y nodejs npm && npm ci --prefix itest/node"
	kinesisPythonDriver = "python/kinesis_boto3.py"
	kinesisNodeDriver   = "node/kinesis.js"
	kinesisAggDriver    = "node/kinesis_agg.js"
)

// awsEnv is the environment of an AWS client process: dummy credentials
// and the bridge's region, and nothing from the developer's own AWS setup
// (profiles, config files, instance metadata) that could send a request
// elsewhere or change how it is made.
func awsEnv() []string {
	var env []string
	for _, kv := range cleanEnv() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID=AKIDITEST",
		"AWS_SECRET_ACCESS_KEY=itest-secret",
		"AWS_REGION="+kinesisRegion,
		"AWS_DEFAULT_REGION="+kinesisRegion,
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=3",
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONPATH=",
	)
}

// runAWSTool runs an AWS client program with stdin in awsEnv and returns
// its stdout; a non-zero exit is an error carrying the program's stderr.
func runAWSTool(stdin []byte, name string, args ...string) ([]byte, error) {
	return runAWSToolEnv(nil, stdin, name, args...)
}

// runAWSToolEnv is runAWSTool with env added to awsEnv (and winning).
func runAWSToolEnv(env []string, stdin []byte, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), kinesisTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(awsEnv(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %v after %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err,
			time.Since(start).Round(time.Millisecond), tail(stdout.String(), 2000), tail(stderr.String(), 4000))
	}
	return stdout.Bytes(), nil
}

func mustAWSTool(t *testing.T, env []string, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	out, err := runAWSToolEnv(env, stdin, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ---- records as the Kinesis drivers exchange them ----

// krec is one Kinesis record on the wire to and from the driver scripts
// (itest/python/kinesis_boto3.py, itest/node/kinesis*.js), as JSON lines:
// data as base64, the arrival time in Unix milliseconds. A put reads pk,
// data and ehk and writes shard and seq (or error) per record in input
// order; a read writes every field.
type krec struct {
	PK    string `json:"pk,omitempty"`
	Data  []byte `json:"data,omitempty"`
	EHK   string `json:"ehk,omitempty"` // ExplicitHashKey
	Shard string `json:"shard,omitempty"`
	Seq   string `json:"seq,omitempty"`
	TS    int64  `json:"ts,omitempty"`
	// SubSeq is the user record's index inside a KPL-aggregated record
	// (aws-kinesis-agg reads only); Error is a put's per-record failure.
	SubSeq *int   `json:"subseq,omitempty"`
	Error  string `json:"error,omitempty"`
}

func decodeKrecs(out []byte) ([]krec, error) {
	var rs []krec
	err := parseJSONLines(out, func(line []byte) error {
		var r krec
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		rs = append(rs, r)
		return nil
	})
	return rs, err
}

// runDriver runs a Kinesis driver script (python or node, by extension)
// and decodes its JSON-lines output.
func runDriver(t *testing.T, stdin []byte, script string, args ...string) []krec {
	t.Helper()
	readScript(t, script)
	interp := systemPython
	if strings.HasSuffix(script, ".js") {
		interp = "node"
	}
	out, err := runAWSTool(stdin, interp, append([]string{script}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := decodeKrecs(out)
	if err != nil {
		t.Fatalf("%s %s: %v", script, args[0], err)
	}
	return rs
}

// putWith runs a driver's "put" (PutRecords) and returns recs with the
// shard and sequence number each got, failing on any per-record error.
func putWith(t *testing.T, k *kinesisBridge, script, stream string, recs []krec) []krec {
	t.Helper()
	acks := runDriver(t, jsonLines(recs), script, "put", "--endpoint", k.endpoint, "--stream", stream)
	if len(acks) != len(recs) {
		t.Fatalf("%s put: %d acks for %d records", script, len(acks), len(recs))
	}
	out := slices.Clone(recs)
	for i, a := range acks {
		if a.Error != "" || a.Shard == "" || a.Seq == "" {
			t.Fatalf("%s put: record %d: %+v", script, i, a)
		}
		out[i].Shard, out[i].Seq = a.Shard, a.Seq
	}
	return out
}

// readWith runs a driver's "get": every shard of the stream read from
// TRIM_HORIZON until it has at least min records and every shard is caught
// up (MillisBehindLatest 0) or ended.
func readWith(t *testing.T, k *kinesisBridge, script, stream string, min int) []krec {
	t.Helper()
	return runDriver(t, nil, script, "get", "--endpoint", k.endpoint, "--stream", stream, "--min", strconv.Itoa(min))
}

// sdkRead is readWith done by aws-sdk-go-v2 in process.
func sdkRead(t *testing.T, k *kinesisBridge, stream string, min int) []krec {
	t.Helper()
	cl := k.client()
	ctx := kctx(t)
	iters := map[string]*string{} // shard -> next iterator; nil once ended
	var order []string
	for _, s := range k.shards(t, stream) {
		it, err := cl.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: s.ShardId, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("GetShardIterator %s/%s: %v", stream, *s.ShardId, err)
		}
		iters[*s.ShardId] = it.ShardIterator
		order = append(order, *s.ShardId)
	}
	var out []krec
	for {
		caughtUp := true
		for _, shard := range order {
			it := iters[shard]
			if it == nil {
				continue
			}
			r, err := cl.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: it})
			if err != nil {
				t.Fatalf("GetRecords %s/%s: %v", stream, shard, err)
			}
			for _, x := range r.Records {
				out = append(out, krec{PK: *x.PartitionKey, Data: x.Data, Shard: shard, Seq: *x.SequenceNumber,
					TS: x.ApproximateArrivalTimestamp.UnixMilli()})
			}
			iters[shard] = r.NextShardIterator
			if r.NextShardIterator != nil && (len(r.Records) > 0 || aws.ToInt64(r.MillisBehindLatest) > 0) {
				caughtUp = false
			}
		}
		if caughtUp && len(out) >= min {
			return out
		}
		if ctx.Err() != nil {
			t.Fatalf("aws-sdk-go-v2 read of %s: %d records, want at least %d: %v", stream, len(out), min, ctx.Err())
		}
		if caughtUp {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// compareKrecs checks that a reader saw exactly the wanted records (by
// partition key and data, each once), in sequence order within each shard,
// and, where the want has them, on the same shard with the same sequence
// number. who names the reader in failures.
func compareKrecs(t *testing.T, who string, wants, got []krec) {
	t.Helper()
	type kd struct{ pk, data string }
	want := map[kd]krec{}
	for _, w := range wants {
		want[kd{w.PK, string(w.Data)}] = w
	}
	probs := &problems{t: t, who: who}
	seen := map[kd]int{}
	last := map[string]string{} // shard -> last sequence number
	for _, g := range got {
		id := kd{g.PK, string(g.Data)}
		seen[id]++
		if prev, ok := last[g.Shard]; ok && !seqLess(prev, g.Seq) {
			probs.report("shard %s: sequence number %s after %s", g.Shard, g.Seq, prev)
		}
		last[g.Shard] = g.Seq
		w, ok := want[id]
		switch {
		case !ok:
			probs.report("unexpected record pk %q data %s (%s %s)", g.PK, showBytes(g.Data), g.Shard, g.Seq)
		case seen[id] > 1:
			probs.report("record pk %q data %s read %d times", g.PK, showBytes(g.Data), seen[id])
		case w.Seq != "" && (w.Seq != g.Seq || w.Shard != g.Shard):
			probs.report("record pk %q at %s %s, want %s %s", g.PK, g.Shard, g.Seq, w.Shard, w.Seq)
		}
	}
	for id := range want {
		if seen[id] == 0 {
			probs.report("record pk %q data %s missing", id.pk, showBytes([]byte(id.data)))
		}
	}
	probs.summarize(len(got), len(wants))
}

// seqLess compares decimal sequence numbers.
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// awsErrorCode returns the error code of an aws-sdk-go-v2 error, or "".
func awsErrorCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// h2Sniffer is a TCP proxy on 127.0.0.1 in front of the AWS port that
// records, per connection, whether the client opened it with the HTTP/2
// connection preface (h2c with prior knowledge): proof from the wire, not
// from the client's configuration, of which protocol a client spoke.
type h2Sniffer struct {
	ln     net.Listener
	target string
	conns  chan bool // one per connection: true if HTTP/2
}

func newH2Sniffer(t *testing.T, target string) *h2Sniffer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &h2Sniffer{ln: ln, target: target, conns: make(chan bool, 1024)}
	go s.accept()
	t.Cleanup(func() { ln.Close() })
	return s
}

const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

func (s *h2Sniffer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.serve(c)
	}
}

func (s *h2Sniffer) serve(c net.Conn) {
	defer c.Close()
	first := make([]byte, len(http2Preface))
	n, _ := readFull(c, first)
	first = first[:n]
	select {
	case s.conns <- string(first) == http2Preface:
	default:
	}
	u, err := net.Dial("tcp", s.target)
	if err != nil {
		return
	}
	defer u.Close()
	if _, err := u.Write(first); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { copyConn(u, c); done <- struct{}{} }()
	go func() { copyConn(c, u); done <- struct{}{} }()
	<-done
	<-done
}

// protocols drains what the sniffer saw: the number of HTTP/2 and other
// connections so far.
func (s *h2Sniffer) protocols() (h2, other int) {
	for {
		select {
		case isH2 := <-s.conns:
			if isH2 {
				h2++
			} else {
				other++
			}
		default:
			return h2, other
		}
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	c.SetReadDeadline(time.Now().Add(kinesisTimeout))
	defer c.SetReadDeadline(time.Time{})
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
		// An HTTP/1.1 request line differs from the preface within its
		// first bytes; stop early instead of waiting for 24 bytes a short
		// request may never send.
		if !strings.HasPrefix(http2Preface, string(b[:n])) {
			return n, nil
		}
	}
	return n, nil
}

// copyConn copies one direction and passes the end of it on as a half
// close, so the other direction can finish.
func copyConn(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
