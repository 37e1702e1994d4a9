package itest

// Machinery of connect_connectors_test.go: the emulators the connectors talk
// to (kfake and gofakes3 as child processes of the bridge binary), creating
// a connector through the REST API as a user would and waiting for it to
// run, and reading topics back with franz-go.

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startBenchChild runs `bridge bench NAME` (kfake-server, gofakes3-server),
// which prints "listening ADDR" on stdout, and returns ADDR; the child is
// stopped with SIGTERM when the test ends.
func startBenchChild(t *testing.T, name string) string {
	t.Helper()
	cmd := exec.Command(bridgeBinary(t), "bench", name)
	cmd.Env = cleanEnv()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	addrs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				addrs <- a
				break
			}
		}
		close(addrs)
		for sc.Scan() {
		}
	}()
	select {
	case a, ok := <-addrs:
		if !ok {
			t.Fatalf("bridge bench %s exited before listening", name)
		}
		return a
	case <-time.After(startTimeout):
		t.Fatalf("bridge bench %s did not listen within %v", name, startTimeout)
	}
	return ""
}

// awsCreds are the dummy credentials every connector and SDK client here
// uses; the bridge, kinesalite and gofakes3 accept any.
const (
	e2eKeyID  = "AKIDITEST"
	e2eSecret = "itest-secret"
)

// awsSettings are the connector settings that point it at endpoint.
func awsSettings(endpoint string) map[string]any {
	return map[string]any{
		"aws.region":            kinesisRegion,
		"aws.endpoint.url":      endpoint,
		"aws.access.key.id":     e2eKeyID,
		"aws.secret.access.key": e2eSecret,
	}
}

func s3ClientAt(endpoint string) *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       kinesisRegion,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(e2eKeyID, e2eSecret, ""),
	})
}

func sqsClientAt(endpoint string) *awssqs.Client {
	return awssqs.New(awssqs.Options{
		Region:       kinesisRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(e2eKeyID, e2eSecret, ""),
	})
}

// createConnector POSTs {"name","config"} and fails the test unless the
// answer is 201; then it waits until the connector and all its tasks are
// RUNNING.
func createConnector(t *testing.T, cb connectBridge, name string, config map[string]any) {
	t.Helper()
	body := mustJSON(t, map[string]any{"name": name, "config": config})
	code, answer := curl(t, "POST", cb.rest+"/connectors", "application/json", body)
	if code != 201 {
		t.Fatalf("POST /connectors %s: %d %s", name, code, answer)
	}
	waitRunning(t, cb, name)
}

type connectorStatus struct {
	Connector struct{ State, Trace string }
	Tasks     []struct {
		ID           int
		State, Trace string
	}
}

// waitRunning waits until the connector and every task (at least one) are
// RUNNING; a FAILED one fails the test with its trace.
func waitRunning(t *testing.T, cb connectBridge, name string) {
	t.Helper()
	deadline := time.Now().Add(kafkaTimeout)
	for {
		var s connectorStatus
		call(t, "GET", cb.rest+"/connectors/"+name+"/status", "", &s)
		running := s.Connector.State == "RUNNING" && len(s.Tasks) > 0
		for _, task := range s.Tasks {
			if task.State == "FAILED" {
				t.Fatalf("%s task %d FAILED: %s", name, task.ID, task.Trace)
			}
			running = running && task.State == "RUNNING"
		}
		if s.Connector.State == "FAILED" {
			t.Fatalf("%s FAILED: %s", name, s.Connector.Trace)
		}
		if running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not RUNNING within %v: %+v", name, kafkaTimeout, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopConnector stops a connector (its tasks make their final commit) and
// waits until the status says STOPPED.
func stopConnector(t *testing.T, cb connectBridge, name string) {
	t.Helper()
	if code := call(t, "PUT", cb.rest+"/connectors/"+name+"/stop", "", nil); code != 202 {
		t.Fatalf("stop %s: %d", name, code)
	}
	deadline := time.Now().Add(kafkaTimeout)
	for {
		var s connectorStatus
		call(t, "GET", cb.rest+"/connectors/"+name+"/status", "", &s)
		if s.Connector.State == "STOPPED" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not STOPPED within %v: %+v", name, kafkaTimeout, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func kafkaClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// createTopic creates topic with partitions on the cluster at addr.
func createTopic(t *testing.T, addr, topic string, partitions int32) {
	t.Helper()
	adm := kadm.NewClient(kafkaClient(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	res, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		t.Fatalf("create topic %s on %s: %v", topic, addr, err)
	}
}

func produceAll(t *testing.T, addr string, recs []*kgo.Record) {
	t.Helper()
	cl := kafkaClient(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", addr, err)
	}
}

// consumeN reads topic from its start until it has n records (failing
// after kafkaTimeout), and then a little longer to notice extra ones only
// if more are already there; it returns them in partition, offset order.
func consumeN(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := kafkaClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	var got []*kgo.Record
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s on %s: %d records within %v, want %d", topic, addr, len(got), kafkaTimeout, n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		got = append(got, fs.Records()...)
	}
	slices.SortStableFunc(got, func(a, b *kgo.Record) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	return got
}

// recView is what a copy must keep of a record.
type recView struct {
	Partition int32
	Key       string
	Value     string
	Headers   string
	Timestamp int64
}

func view(r *kgo.Record) recView {
	var hs []string
	for _, h := range r.Headers {
		hs = append(hs, h.Key+"="+string(h.Value))
	}
	return recView{r.Partition, string(r.Key), string(r.Value), strings.Join(hs, ","), r.Timestamp.UnixMilli()}
}

func views(rs []*kgo.Record) []recView {
	out := make([]recView, len(rs))
	for i, r := range rs {
		out[i] = view(r)
	}
	return out
}

// sortedValues is the values of rs, sorted.
func sortedValues(rs []*kgo.Record) []string {
	var vs []string
	for _, r := range rs {
		vs = append(vs, string(r.Value))
	}
	slices.Sort(vs)
	return vs
}

// compareViews reports the first records that differ.
func compareViews(t *testing.T, what string, got, want []recView) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d records, want %d\ngot  %+v\nwant %+v", what, len(got), len(want), got, want)
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: record %d is %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	t.Cleanup(cancel)
	return ctx
}

// eventually retries check every 100ms until it returns nil, failing the
// test with its last error after kafkaTimeout (a hang, not slowness).
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(kafkaTimeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assertCount checks that topic holds exactly n records (its end offsets
// summed over partitions, from offset 0): a copy duplicated nothing.
func assertCount(t *testing.T, addr, topic string, n int) {
	t.Helper()
	adm := kadm.NewClient(kafkaClient(t, addr))
	ends, err := adm.ListEndOffsets(ctxFor(t), topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Errorf("end offset of %s/%d: %v", topic, o.Partition, o.Err)
		}
		total += o.Offset
	})
	if total != int64(n) {
		t.Errorf("topic %s on %s holds %d records, want %d", topic, addr, total, n)
	}
}
