package itest

// Third-party Kinesis clients against the bridge's AWS port: boto3 walking
// the API, the AWS CLI, the JavaScript v3 SDK over HTTP/2 (PutRecords,
// GetRecords and SubscribeToShard) and KPL-aggregated records made by
// aws-kinesis-agg, read back by Kafka and by a deaggregating Kinesis reader.
// One bridge serves every subtest; each uses its own streams.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// stateDelay makes streams stay CREATING/UPDATING/DELETING for a moment, so
// the clients' waiters have something to wait for.
const stateDelay = "300ms"

func TestKinesisClients(t *testing.T) {
	k := startKinesisBridge(t, "--kinesis-state-delay", stateDelay)
	t.Run("boto3", func(t *testing.T) { testBoto3Scenario(t, k) })
	t.Run("awscli", func(t *testing.T) { testAWSCLI(t, k) })
	t.Run("js-sdk-http2", func(t *testing.T) { testJSSDK(t, k) })
	t.Run("aws-kinesis-agg", func(t *testing.T) { testAggregation(t, k) })
}

// testBoto3Scenario runs the boto3 walk through the API (its checks are in
// the script) and reads what it left in the stream with aws-sdk-go-v2.
func testBoto3Scenario(t *testing.T, k *kinesisBridge) {
	need(t, "boto3", checkBoto3, installBoto3)
	const stream = "boto3-scenario"
	recs := runDriver(t, nil, kinesisPythonDriver, "scenario", "--endpoint", k.endpoint, "--stream", stream,
		"--region", kinesisRegion, "--account", kinesisAccount)
	if len(recs) < 40 {
		t.Fatalf("boto3 scenario reported %d records put, want at least 40", len(recs))
	}
	compareKrecs(t, "aws-sdk-go-v2 reading boto3's records", recs, sdkRead(t, k, stream, len(recs)))
}

// cli runs the Debian AWS CLI against the bridge with JSON output.
func cli(t *testing.T, k *kinesisBridge, args ...string) []byte {
	t.Helper()
	return mustAWSTool(t, k.cliEnv, nil, awsCLI, append([]string{"--endpoint-url", k.endpoint, "--no-cli-pager", "--output", "json",
		"--cli-binary-format", "raw-in-base64-out", "kinesis"}, args...)...)
}

func cliJSON(t *testing.T, k *kinesisBridge, out any, args ...string) {
	t.Helper()
	b := cli(t, k, args...)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("aws kinesis %s: output %q: %v", strings.Join(args, " "), b, err)
	}
}

// cliRecord is a record in the AWS CLI's get-records output (blobs base64).
type cliRecord struct {
	SequenceNumber              string
	ApproximateArrivalTimestamp json.RawMessage
	Data                        []byte
	PartitionKey                string
}

// cliRead reads one shard with the AWS CLI from TRIM_HORIZON until caught
// up with at least min records.
func cliRead(t *testing.T, k *kinesisBridge, stream, shard string, min int) []krec {
	t.Helper()
	var it struct{ ShardIterator string }
	cliJSON(t, k, &it, "get-shard-iterator", "--stream-name", stream, "--shard-id", shard, "--shard-iterator-type", "TRIM_HORIZON")
	var out []krec
	deadline := time.Now().Add(kinesisTimeout)
	for iter := it.ShardIterator; iter != ""; {
		var page struct {
			Records            []cliRecord
			NextShardIterator  string
			MillisBehindLatest int64
		}
		cliJSON(t, k, &page, "get-records", "--shard-iterator", iter)
		for _, r := range page.Records {
			out = append(out, krec{PK: r.PartitionKey, Data: r.Data, Shard: shard, Seq: r.SequenceNumber})
		}
		// Each CLI run costs a second or more: stop as soon as the
		// expected records are in and the shard is caught up, without the
		// extra empty read.
		if page.MillisBehindLatest == 0 && len(out) >= min {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("aws kinesis get-records on %s/%s: %d records, want %d", stream, shard, len(out), min)
		}
		iter = page.NextShardIterator
	}
	return out
}

func testAWSCLI(t *testing.T, k *kinesisBridge) {
	need(t, "AWS CLI", checkAWSCLI, installAWSCLI)
	const stream = "awscli"
	cli(t, k, "create-stream", "--stream-name", stream, "--shard-count", "1")
	// The CLI's waiter polls every 10 s; wait here with a faster poll so
	// the waiter's first look finds the stream ACTIVE.
	k.waitActive(t, stream)
	cli(t, k, "wait", "stream-exists", "--stream-name", stream)

	// Text through raw-in-base64-out, and bytes from a file (fileb:// is
	// taken as is whatever the binary format).
	binFile := filepath.Join(t.TempDir(), "data.bin")
	binData := []byte{0, 1, 2, 0xfe, 0xff, '\n', 0x80}
	if err := os.WriteFile(binFile, binData, 0o644); err != nil {
		t.Fatal(err)
	}
	wants := []krec{{PK: "cli-text", Data: []byte("hello from the aws cli")}, {PK: "cli-bin", Data: binData}}
	for i, arg := range []string{string(wants[0].Data), "fileb://" + binFile} {
		var ack struct{ ShardId, SequenceNumber string }
		cliJSON(t, k, &ack, "put-record", "--stream-name", stream, "--partition-key", wants[i].PK, "--data", arg)
		if ack.ShardId != "shardId-000000000000" || ack.SequenceNumber == "" {
			t.Errorf("put-record answered %+v", ack)
		}
		wants[i].Shard, wants[i].Seq = ack.ShardId, ack.SequenceNumber
	}
	compareKrecs(t, "aws kinesis get-records", wants, cliRead(t, k, stream, "shardId-000000000000", len(wants)))

	var list struct{ StreamNames []string }
	cliJSON(t, k, &list, "list-streams")
	if !slices.Contains(list.StreamNames, stream) {
		t.Errorf("list-streams: %v lacks %s", list.StreamNames, stream)
	}

	// An error is the CLI's exit status 254 and the AWS error code.
	out, err := runAWSTool(nil, awsCLI, "--endpoint-url", k.endpoint, "--no-cli-pager", "kinesis", "describe-stream", "--stream-name", "awscli-missing")
	if err == nil || !strings.Contains(err.Error(), "exit status 254") || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("describe-stream of a missing stream: %v (stdout %q), want exit status 254 and ResourceNotFoundException", err, out)
	}

	cli(t, k, "delete-stream", "--stream-name", stream)
	deadline := time.Now().Add(kinesisTimeout)
	for {
		_, err := k.client().DescribeStreamSummary(kctx(t), &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		if awsErrorCode(err) == "ResourceNotFoundException" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s still there after delete-stream: %v", stream, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cli(t, k, "wait", "stream-not-exists", "--stream-name", stream)
	cliJSON(t, k, &list, "list-streams")
	if slices.Contains(list.StreamNames, stream) {
		t.Errorf("list-streams after delete-stream: %v still has %s", list.StreamNames, stream)
	}
}

// binaryRecs makes n records over a few partition keys with binary data of
// varied sizes (every byte value occurs), tagged with prefix so that two
// tests' records never compare equal.
func binaryRecs(prefix string, n int) []krec {
	out := make([]krec, n)
	for i := range out {
		data := fmt.Appendf(nil, "%s-%d:", prefix, i)
		for j := 0; j < (i*131)%3000; j++ {
			data = append(data, byte(i*7+j))
		}
		out[i] = krec{PK: fmt.Sprintf("%s-key-%d", prefix, i%5), Data: data}
	}
	return out
}

func testJSSDK(t *testing.T, k *kinesisBridge) {
	need(t, "@aws-sdk/client-kinesis", checkNodeKinesis, installNodeKinesis)
	const stream = "js-sdk"
	k.createStream(t, stream, 2)
	sniff := newH2Sniffer(t, k.aws)
	k2 := *k
	k2.endpoint = "http://" + sniff.ln.Addr().String()

	wants := putWith(t, &k2, kinesisNodeDriver, stream, binaryRecs("js", 120))
	compareKrecs(t, "aws-sdk-go-v2 reading the JS SDK's PutRecords", wants, sdkRead(t, k, stream, len(wants)))
	compareKrecs(t, "JS SDK GetRecords", wants, readWith(t, &k2, kinesisNodeDriver, stream, len(wants)))

	// SubscribeToShard: records already there, then records put while the
	// subscription is open, pushed as they arrive.
	shard := wants[0].Shard
	var onShard []krec
	for _, w := range wants {
		if w.Shard == shard {
			onShard = append(onShard, w)
		}
	}
	live := make([]krec, 10)
	for i := range live {
		live[i] = krec{PK: "live", Data: fmt.Appendf(nil, "live-%d\x00\xff", i)}
	}
	// ExplicitHashKey pins the live records to the subscribed shard.
	shards := k.shards(t, stream)
	for _, s := range shards {
		if *s.ShardId == shard {
			for i := range live {
				live[i].EHK = *s.HashKeyRange.StartingHashKey
			}
		}
	}
	got := subscribeWhile(t, &k2, stream, "js-consumer", shard, len(onShard)+len(live), func() {
		onShard = append(onShard, putWith(t, k, kinesisNodeDriver, stream, live)...)
	})
	compareKrecs(t, "JS SDK SubscribeToShard", onShard, got)

	h2, other := sniff.protocols()
	if h2 == 0 || other != 0 {
		t.Errorf("the JS SDK opened %d HTTP/2 and %d other connections; want HTTP/2 only", h2, other)
	}
}

// subscribeWhile runs the JS driver's subscribe and, once it says the
// subscription is open, calls during; it returns the records pushed.
func subscribeWhile(t *testing.T, k *kinesisBridge, stream, consumer, shard string, min int, during func()) []krec {
	t.Helper()
	readScript(t, kinesisNodeDriver)
	ctx, cancel := context.WithTimeout(context.Background(), kinesisTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", kinesisNodeDriver, "subscribe", "--endpoint", k.endpoint, "--stream", stream,
		"--consumer", consumer, "--shard", shard, "--min", fmt.Sprint(min), "--timeout", "30")
	cmd.Env = awsEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out []krec
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	subscribed := false
	for sc.Scan() {
		var line struct {
			Subscribed bool `json:"subscribed"`
			krec
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("subscribe output %q: %v", sc.Text(), err)
			continue
		}
		if line.Subscribed {
			// during runs here, on the test's goroutine (it may fail the
			// test); the driver meanwhile blocks at most on its stdout.
			subscribed = true
			during()
			continue
		}
		out = append(out, line.krec)
	}
	if err := sc.Err(); err != nil {
		t.Errorf("reading the subscribe driver's output: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node %s subscribe: %v\nstderr:\n%s", kinesisNodeDriver, err, tail(stderr.String(), 4000))
	}
	if !subscribed {
		t.Fatal("the subscribe driver never reported an open subscription")
	}
	return out
}

// testAggregation puts KPL-aggregated records and reads them with Kafka
// and with a deaggregating Kinesis reader.
func testAggregation(t *testing.T, k *kinesisBridge) {
	need(t, "aws-kinesis-agg", checkNodeKinesis, installNodeKinesis)
	const stream = "kpl-agg"
	k.createStream(t, stream, 2)
	users := make([]krec, 60)
	for i := range users {
		users[i] = krec{PK: fmt.Sprintf("user-%d", i%13), Data: fmt.Appendf(nil, "agg-%d\x00%s", i, strings.Repeat("\xab", i*11))}
	}
	acks := runDriver(t, jsonLines(users), kinesisAggDriver, "put", "--endpoint", k.endpoint, "--stream", stream)
	if len(acks) == 0 {
		t.Fatal("aws-kinesis-agg put no aggregated record")
	}
	for _, a := range acks {
		if a.Error != "" || a.Shard == "" {
			t.Fatalf("aggregated PutRecords: %+v", a)
		}
	}

	// A deaggregating Kinesis reader sees every user record.
	compareKrecs(t, "aws-kinesis-agg deaggregating GetRecords", users,
		readWith(t, k, kinesisAggDriver, stream, len(users)))

	// Kafka sees every user record as its own record: its own key and
	// value, its own offset.
	got := kafkaRead(t, k, stream)
	if len(got) != len(users) {
		t.Errorf("Kafka consumer read %d records, want the %d user records", len(got), len(users))
	}
	seen := map[string]bool{}
	for _, r := range got {
		id := string(r.Key) + "\x00" + string(r.Value)
		if seen[id] {
			t.Errorf("Kafka record key %q value %s read twice", r.Key, showBytes(r.Value))
		}
		seen[id] = true
	}
	for _, u := range users {
		if !seen[u.PK+"\x00"+string(u.Data)] {
			t.Errorf("Kafka consumer lacks user record key %q value %s", u.PK, showBytes(u.Data))
		}
	}
	// All user records of one aggregated record share its shard, so its
	// partition; offsets there are dense and distinct.
	byPart := map[int32][]int64{}
	for _, r := range got {
		byPart[r.Partition] = append(byPart[r.Partition], r.Offset)
	}
	for p, offs := range byPart {
		for i, o := range offs {
			if i > 0 && o != offs[i-1]+1 {
				t.Errorf("partition %d: offset %d after %d", p, o, offs[i-1])
			}
		}
	}
}

// kafkaEndOffsets returns every partition's end offset of a topic.
func kafkaEndOffsets(t *testing.T, k *kinesisBridge, topic string) map[int32]int64 {
	t.Helper()
	lo, err := k.kadm().ListEndOffsets(kctx(t), topic)
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	ends := map[int32]int64{}
	for _, ps := range lo {
		for p, o := range ps {
			ends[p] = o.Offset
		}
	}
	return ends
}

// kafkaRead consumes every partition of a topic from its start to its
// current end with franz-go.
func kafkaRead(t *testing.T, k *kinesisBridge, topic string) []rec {
	t.Helper()
	return kgoConsume(t, k.bridge.kafka, topic, kafkaEndOffsets(t, k, topic))
}
