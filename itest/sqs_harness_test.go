package itest

// Shared machinery of the SQS tests (sqs_*_test.go): the SQS server under
// test (the real bridge binary's AWS port, or the local-aws-sqs emulator
// the tests check themselves against), the environment the third-party
// SQS clients run in, raw requests in both SQS protocols, and AWS's MD5 of
// message attributes.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sqsTargetEnv selects what the SQS client tests talk to. Unset (the
// default, and what CI runs) is the real bridge binary. "local-aws-sqs"
// runs the same tests against the local-aws-sqs emulator: that checks the
// tests and their drivers against a reference, it proves nothing about the
// bridge.
const sqsTargetEnv = "ITEST_SQS_TARGET"

func useLocalSQS() bool { return os.Getenv(sqsTargetEnv) == "local-aws-sqs" }

// The bridge's defaults, and so the account in its queue URLs and the
// region and account in its queue ARNs. The emulator is started with the
// same ones.
const (
	sqsRegion  = "us-east-1"
	sqsAccount = "000000000000"
)

// sqsTimeout bounds one client run or one wait (a hang, not slowness).
const sqsTimeout = 2 * time.Minute

// sqsServer is a running SQS endpoint on 127.0.0.1.
type sqsServer struct {
	name     string  // "bridge" or "local-aws-sqs", for messages
	endpoint string  // http://127.0.0.1:PORT
	bridge   *bridge // nil for the emulator
}

// startSQS starts the server under test: `bridge serve` on a fresh data
// dir, or the emulator (see sqsTargetEnv). extraArgs are serve flags,
// ignored by the emulator.
func startSQS(t *testing.T, extraArgs ...string) *sqsServer {
	t.Helper()
	if useLocalSQS() {
		need(t, "local-aws-sqs", checkNodeSQS, installNodeSQS)
		return startLocalSQS(t)
	}
	return startSQSBridge(t, extraArgs...)
}

// startSQSBridge starts the real bridge on a fresh data dir.
func startSQSBridge(t *testing.T, extraArgs ...string) *sqsServer {
	t.Helper()
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()), extraArgs...)...)
	return &sqsServer{name: "bridge", endpoint: "http://" + b.aws, bridge: b}
}

// startLocalSQS starts local-aws-sqs in memory (itest/node/sqs_emulator.js)
// and stops it at the end of the test.
func startLocalSQS(t *testing.T) *sqsServer {
	t.Helper()
	readScript(t, sqsEmulatorScript)
	cmd := exec.Command("node", sqsEmulatorScript, "--account", sqsAccount, "--region", sqsRegion)
	cmd.Env = awsEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // it exits when its stdin closes
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("local-aws-sqs stderr:\n%s", tail(stderr.String(), 4000))
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line, ok := <-lines:
		var ready struct{ Port int }
		if !ok || json.Unmarshal([]byte(line), &ready) != nil || ready.Port == 0 {
			t.Fatalf("local-aws-sqs did not start: %q\n%s", line, stderr.String())
		}
		return &sqsServer{name: "local-aws-sqs", endpoint: fmt.Sprintf("http://127.0.0.1:%d", ready.Port)}
	case <-time.After(startTimeout):
		t.Fatalf("local-aws-sqs did not start within %v\n%s", startTimeout, stderr.String())
	}
	return nil
}

// syncBuffer is a bytes.Buffer a child process writes while the test
// may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
func (l *syncBuffer) Len() int       { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Len() }

// queueURL is the URL the server gives the queue name.
func (s *sqsServer) queueURL(name string) string {
	return s.endpoint + "/" + sqsAccount + "/" + name
}

// queueARN is the ARN the server gives the queue name.
func queueARN(name string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", sqsRegion, sqsAccount, name)
}

// client returns an aws-sdk-go-v2 SQS client (JSON 1.0) for the server
// with dummy credentials and the SDK's MD5 checks on (its default).
func (s *sqsServer) client() *awssqs.Client {
	return awssqs.New(awssqs.Options{
		Region:       sqsRegion,
		BaseEndpoint: aws.String(s.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDITEST", "itest-secret", ""),
	})
}

func sqsCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), sqsTimeout)
	t.Cleanup(cancel)
	return ctx
}

// ---- tools ----

var checkNodeSQS = cachedCheck("node sqs clients", nodeModules("@aws-sdk/client-sqs", "sqs-consumer", "local-aws-sqs"))

const (
	installNodeSQS    = "apt-get install -y nodejs npm && npm ci --prefix itest/node"
	sqsEmulatorScript = "node/sqs_emulator.js"
	sqsPythonDriver   = "python/sqs_boto3.py"
	sqsNodeDriver     = "node/sqs.js"
	sqsConsumerDriver = "node/sqs_consumer.js"
)

// runSQSDriver runs a driver script (python or node, by extension) in
// awsEnv against the server and returns its stdout, JSON lines.
func runSQSDriver(t *testing.T, s *sqsServer, stdin []byte, script string, args ...string) []byte {
	t.Helper()
	readScript(t, script)
	interp := systemPython
	if strings.HasSuffix(script, ".js") {
		interp = "node"
	}
	all := append([]string{script}, args...)
	all = append(all, "--endpoint", s.endpoint)
	out, err := runAWSToolEnv([]string{"AWS_REGION=" + sqsRegion, "AWS_DEFAULT_REGION=" + sqsRegion}, stdin, interp, all...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// driverReport is a line a scenario driver writes: a step it checked (ok),
// one that failed (error), or a measurement (latency_ms).
type driverReport struct {
	Step      string  `json:"step"`
	OK        bool    `json:"ok"`
	Error     string  `json:"error"`
	LatencyMS float64 `json:"latency_ms"`
}

// runScenarioReports runs a driver's scenario against the server and
// returns what it reported; it logs measurements and fails the test when
// no step succeeded. The caller judges failed steps (clientScenario).
func runScenarioReports(t *testing.T, s *sqsServer, script, scenario, prefix string) []driverReport {
	t.Helper()
	out := runSQSDriver(t, s, nil, script, scenario, "--prefix", prefix)
	var reps []driverReport
	if err := parseJSONLines(out, func(line []byte) error {
		var r driverReport
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		reps = append(reps, r)
		return nil
	}); err != nil {
		t.Fatalf("%s %s: %v", script, scenario, err)
	}
	oks := 0
	for _, r := range reps {
		switch {
		case r.LatencyMS > 0:
			t.Logf("%s %s: %s: %.1f ms", script, scenario, r.Step, r.LatencyMS)
		case r.OK:
			oks++
		}
	}
	if oks == 0 {
		t.Errorf("%s %s reported no successful step", script, scenario)
	}
	t.Logf("%s %s against %s: %d of %d steps passed", script, scenario, s.name, oks, len(reps))
	return reps
}

// ---- raw requests ----

// sqsAnswer is a raw SQS answer, normalized across the two protocols.
type sqsAnswer struct {
	status int
	// code is the Query error code (<Code>, or a JSON answer's
	// x-amzn-query-error header before ";"); typ the JSON __type without
	// its namespace ("" for Query answers).
	code, typ, message string
	// fault is the Query <Type> or the x-amzn-query-error part after ";".
	fault string
	// queryErrorHeader is the raw x-amzn-query-error header.
	queryErrorHeader string
	body             []byte
	header           http.Header
}

func (a sqsAnswer) String() string {
	if a.status == 200 {
		return fmt.Sprintf("200 %s", tail(string(a.body), 300))
	}
	s := fmt.Sprintf("%d code=%s", a.status, a.code)
	if a.typ != "" {
		s += " type=" + a.typ
	}
	if a.fault != "" {
		s += " fault=" + a.fault
	}
	return s + fmt.Sprintf(" %q", tail(a.message, 300))
}

// signRequest signs req with SigV4 as the SDKs do (the bridge checks
// signatures only with --aws-credentials-file; real SQS always does).
func signRequest(t *testing.T, req *http.Request, body []byte) {
	t.Helper()
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "AKIDITEST", SecretAccessKey: "itest-secret"}
	if err := v4.NewSigner().SignHTTP(req.Context(), creds, req, hex.EncodeToString(sum[:]), "sqs", sqsRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func doRequest(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL, err)
	}
	return resp.StatusCode, resp.Header, raw
}

// sqsJSON posts one JSON 1.0 request (X-Amz-Target AmazonSQS.op) to the
// endpoint's root.
func sqsJSON(t *testing.T, endpoint, op, body string) sqsAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sqsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AmazonSQS."+op)
	signRequest(t, req, []byte(body))
	status, h, raw := doRequest(t, req)
	a := sqsAnswer{status: status, body: raw, header: h, queryErrorHeader: h.Get("x-amzn-query-error")}
	if status == 200 {
		return a
	}
	var e map[string]any
	if json.Unmarshal(raw, &e) != nil {
		a.message = "non-JSON body: " + tail(string(raw), 200)
	}
	typ, _ := e["__type"].(string)
	if i := strings.LastIndex(typ, "#"); i >= 0 {
		typ = typ[i+1:]
	}
	a.typ = typ
	if m, ok := e["message"].(string); ok {
		a.message = m
	} else if m, ok := e["Message"].(string); ok {
		a.message = m
	}
	a.code, a.fault, _ = strings.Cut(a.queryErrorHeader, ";")
	return a
}

// sqsQuery posts one Query request (a form with Action and Version) to
// endpoint+path: "/" or a queue URL's path.
func sqsQuery(t *testing.T, endpoint, path string, form url.Values) sqsAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sqsTimeout)
	defer cancel()
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	signRequest(t, req, []byte(body))
	status, h, raw := doRequest(t, req)
	a := sqsAnswer{status: status, body: raw, header: h}
	if status == 200 {
		return a
	}
	var e struct {
		Error struct{ Type, Code, Message string }
	}
	if err := xml.Unmarshal(raw, &e); err != nil {
		a.message = "non-XML body: " + tail(string(raw), 200)
		return a
	}
	a.code, a.fault, a.message = e.Error.Code, e.Error.Type, e.Error.Message
	return a
}

// ---- AWS's MD5 of message attributes ----

// msgAttr is a message attribute as the tests send and compare them.
type msgAttr struct {
	DataType    string `json:"type"`
	StringValue string `json:"string,omitempty"`
	BinaryValue []byte `json:"binary,omitempty"`
}

// md5OfAttributes computes MD5OfMessageAttributes as SQS does (and as the
// Java SDK and aws-sdk-go v1 verify it): for each attribute in name order,
// the name, the data type and the value, each as a 4-byte big-endian
// length and the bytes, with a transport byte (1 string, 2 binary) before
// the value. It is written here from AWS's documented algorithm, not taken
// from the bridge, so that the tests check the bridge independently.
func md5OfAttributes(attrs map[string]msgAttr) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	put := func(p []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(p)))
		b.Write(p)
	}
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			b.WriteByte(2)
			put(a.BinaryValue)
		} else {
			b.WriteByte(1)
			put([]byte(a.StringValue))
		}
	}
	sum := md5.Sum(b.Bytes())
	return hex.EncodeToString(sum[:])
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sdkAttrs converts message attributes to and from aws-sdk-go-v2's types.
func sdkAttrs(attrs map[string]msgAttr) map[string]sqstypes.MessageAttributeValue {
	out := make(map[string]sqstypes.MessageAttributeValue, len(attrs))
	for n, a := range attrs {
		v := sqstypes.MessageAttributeValue{DataType: aws.String(a.DataType)}
		if strings.HasPrefix(a.DataType, "Binary") {
			v.BinaryValue = a.BinaryValue
		} else {
			v.StringValue = aws.String(a.StringValue)
		}
		out[n] = v
	}
	return out
}

func fromSDKAttrs(attrs map[string]sqstypes.MessageAttributeValue) map[string]msgAttr {
	out := make(map[string]msgAttr, len(attrs))
	for n, v := range attrs {
		out[n] = msgAttr{DataType: aws.ToString(v.DataType), StringValue: aws.ToString(v.StringValue), BinaryValue: v.BinaryValue}
	}
	return out
}

// sortedKeys returns a map's keys in order, for messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
