package itest

// Conformance: one table of bad requests, sent as raw JSON 1.1 (signed
// like an SDK signs them) to the bridge and to kinesalite, the Kinesis
// emulator most projects test against. Every difference in HTTP status,
// __type or message is reported in the test log; the test fails only on
// differences the allow-list below does not explain.
//
// kinesalite (3.3, 2020) reproduces the AWS API of its time closely, down
// to the validation messages, so it is the reference for wording. Where
// AWS changed since (StreamARN, ON_DEMAND streams, 10 MiB records) or
// kinesalite never went (ListShards filters), the bridge follows today's
// AWS and the allow-list says so.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// confCase is one request of the table.
type confCase struct {
	name string
	op   string
	body string // JSON 1.1 body
	// contentType overrides application/x-amz-json-1.1.
	contentType string
	// bridgeOnly, if set, says why the case is not sent to kinesalite; the
	// bridge must then answer it with a 400 and an error type.
	bridgeOnly string
}

// confAllow explains an accepted difference: which parts may differ
// (any of "status", "type", "message") and why.
type confAllow struct {
	parts  string
	reason string
}

// Reasons shared by several entries.
const (
	whyStreamARN = "AWS added StreamARN (Nov 2022): StreamName is no longer a required member, so a request " +
		"without it is not a null-member violation; the bridge says neither StreamName nor StreamARN was " +
		"given (in its own words: AWS's exact text is not published); kinesalite predates StreamARN"
	whyMaxSize = "AWS raised the API's record limit to 10 MiB (UpdateMaxRecordSize, 2025): Data up to 10 MiB " +
		"passes validation and a stream's own limit (1 MiB by default) is an InvalidArgumentException; " +
		"kinesalite predates it"
	whySerialization = "a SerializationException's message is the decoder's own account of the bad JSON " +
		"(AWS's are Java class names, kinesalite copies them); clients act on the type"
	whyOnDemand = "AWS added ON_DEMAND streams (Nov 2021): CreateStream without ShardCount and without " +
		"StreamModeDetails makes an ON_DEMAND stream of 4 shards, so ShardCount is no longer required; " +
		"kinesalite predates it"
)

// conformanceAllow lists the accepted differences by case name.
var conformanceAllow = map[string]confAllow{
	"DescribeStream/missing StreamName":   {"type message", whyStreamARN},
	"DescribeStreamSummary/missing":       {"type message", whyStreamARN},
	"DeleteStream/missing StreamName":     {"type message", whyStreamARN},
	"CreateStream/missing everything":     {"message", whyOnDemand},
	"CreateStream/no ShardCount":          {"status type message", whyOnDemand},
	"PutRecord/missing everything":        {"message", whyStreamARN},
	"PutRecords/missing everything":       {"message", whyStreamARN},
	"GetShardIterator/missing everything": {"message", whyStreamARN},
	"ListTagsForStream/missing":           {"type message", whyStreamARN},
	"SplitShard/missing everything":       {"message", whyStreamARN},
	"MergeShards/missing everything":      {"message", whyStreamARN},
	"AddTagsToStream/missing everything":  {"message", whyStreamARN},
	"PutRecord/Data over 1 MiB":           {"type message", whyMaxSize},
	"PutRecords/Data over 1 MiB":          {"status type message", whyMaxSize},
	"body not JSON":                       {"message", whySerialization + " (AWS sends none here)"},
	"string where a number goes":          {"message", whySerialization},
	"number where a string goes":          {"message", whySerialization},
	"PutRecord/Data not base64":           {"message", whySerialization},
	"body a JSON array": {"status type message", "kinesalite takes a JSON array body for an empty request " +
		"(typeof [] is 'object') and answers 200; AWS rejects a body that is not a JSON object"},
	"PutRecords/bad ExplicitHashKey": {"type message", "kinesalite anchors the pattern 0|([1-9]\\d{0,38}) as " +
		"^0|(...)$, so '-1' passes its validation and reaches its range check; AWS matches the whole " +
		"value and reports the pattern"},
	"ListTagsForStream/Limit 51": {"message", "AWS raised ListTagsForStream's Limit maximum from 10 to 50 " +
		"(botocore 1.29's model says 50); kinesalite has the old bound"},
}

func conformanceCases() []confCase {
	long := strings.Repeat("a", 129)
	over1MiB := `"` + strings.Repeat("A", (1<<20+4)/3*4) + `"` // base64 of just over 1 MiB
	records501 := `[` + strings.TrimSuffix(strings.Repeat(`{"Data":"eA==","PartitionKey":"a"},`, 501), ",") + `]`
	return []confCase{
		// Wire level.
		{name: "unknown operation", op: "NoSuchOperationForTheTests", body: `{}`},
		{name: "body not JSON", op: "ListStreams", body: `{"Limit":`},
		{name: "body a JSON array", op: "ListStreams", body: `[]`},
		{name: "string where a number goes", op: "ListStreams", body: `{"Limit":"ten"}`},
		{name: "number where a string goes", op: "DescribeStream", body: `{"StreamName":5}`},

		// CreateStream.
		{name: "CreateStream/missing everything", op: "CreateStream", body: `{}`},
		{name: "CreateStream/no ShardCount", op: "CreateStream", body: `{"StreamName":"conf-noshards"}`},
		{name: "CreateStream/bad name", op: "CreateStream", body: `{"StreamName":"bad name!","ShardCount":1}`},
		{name: "CreateStream/name too long", op: "CreateStream", body: `{"StreamName":"` + long + `","ShardCount":1}`},
		{name: "CreateStream/ShardCount 0", op: "CreateStream", body: `{"StreamName":"conf-zero","ShardCount":0}`},
		{name: "CreateStream/two violations", op: "CreateStream", body: `{"StreamName":"bad name!","ShardCount":0}`},
		{name: "CreateStream/exists", op: "CreateStream", body: `{"StreamName":"conf","ShardCount":1}`},

		// Describe, list, delete.
		{name: "DescribeStream/missing StreamName", op: "DescribeStream", body: `{}`},
		{name: "DescribeStream/unknown stream", op: "DescribeStream", body: `{"StreamName":"conf-missing"}`},
		{name: "DescribeStream/Limit 0", op: "DescribeStream", body: `{"StreamName":"conf","Limit":0}`},
		{name: "DescribeStream/Limit 10001", op: "DescribeStream", body: `{"StreamName":"conf","Limit":10001}`},
		{name: "DescribeStreamSummary/missing", op: "DescribeStreamSummary", body: `{}`},
		{name: "DescribeStreamSummary/unknown stream", op: "DescribeStreamSummary", body: `{"StreamName":"conf-missing"}`},
		{name: "DeleteStream/missing StreamName", op: "DeleteStream", body: `{}`},
		{name: "DeleteStream/unknown stream", op: "DeleteStream", body: `{"StreamName":"conf-missing"}`},
		{name: "ListStreams/Limit 0", op: "ListStreams", body: `{"Limit":0}`},
		{name: "ListStreams/Limit 10001", op: "ListStreams", body: `{"Limit":10001}`},
		{name: "ListStreams/bad ExclusiveStartStreamName", op: "ListStreams", body: `{"ExclusiveStartStreamName":"bad name!"}`},

		// ListShards.
		{name: "ListShards/unknown stream", op: "ListShards", body: `{"StreamName":"conf-missing"}`},
		{name: "ListShards/MaxResults 0", op: "ListShards", body: `{"StreamName":"conf","MaxResults":0}`},
		{name: "ListShards/MaxResults 10001", op: "ListShards", body: `{"StreamName":"conf","MaxResults":10001}`},
		{name: "ListShards/NextToken and StreamName", op: "ListShards", body: `{"StreamName":"conf","NextToken":"abc"}`},
		{name: "ListShards/bad NextToken", op: "ListShards", body: `{"NextToken":"abc"}`, bridgeOnly: "kinesalite crashes on a NextToken it did not make"},
		{name: "ListShards/bad ExclusiveStartShardId", op: "ListShards", body: `{"StreamName":"conf","ExclusiveStartShardId":"bad id!"}`},

		// PutRecord.
		{name: "PutRecord/missing everything", op: "PutRecord", body: `{}`},
		{name: "PutRecord/no Data", op: "PutRecord", body: `{"StreamName":"conf","PartitionKey":"a"}`},
		{name: "PutRecord/no PartitionKey", op: "PutRecord", body: `{"StreamName":"conf","Data":"eA=="}`},
		{name: "PutRecord/empty PartitionKey", op: "PutRecord", body: `{"StreamName":"conf","Data":"eA==","PartitionKey":""}`},
		{name: "PutRecord/PartitionKey 257 chars", op: "PutRecord", body: `{"StreamName":"conf","Data":"eA==","PartitionKey":"` + strings.Repeat("p", 257) + `"}`},
		{name: "PutRecord/ExplicitHashKey not a number", op: "PutRecord", body: `{"StreamName":"conf","Data":"eA==","PartitionKey":"a","ExplicitHashKey":"abc"}`},
		{name: "PutRecord/ExplicitHashKey 2^128", op: "PutRecord", body: `{"StreamName":"conf","Data":"eA==","PartitionKey":"a","ExplicitHashKey":"340282366920938463463374607431768211456"}`},
		{name: "PutRecord/Data not base64", op: "PutRecord", body: `{"StreamName":"conf","Data":"!!!","PartitionKey":"a"}`},
		{name: "PutRecord/Data over 1 MiB", op: "PutRecord", body: `{"StreamName":"conf","Data":` + over1MiB + `,"PartitionKey":"a"}`},
		{name: "PutRecord/unknown stream", op: "PutRecord", body: `{"StreamName":"conf-missing","Data":"eA==","PartitionKey":"a"}`},
		{name: "PutRecord/bad SequenceNumberForOrdering", op: "PutRecord", body: `{"StreamName":"conf","Data":"eA==","PartitionKey":"a","SequenceNumberForOrdering":"abc"}`},

		// PutRecords.
		{name: "PutRecords/missing everything", op: "PutRecords", body: `{}`},
		{name: "PutRecords/no records", op: "PutRecords", body: `{"StreamName":"conf","Records":[]}`},
		{name: "PutRecords/501 records", op: "PutRecords", body: `{"StreamName":"conf","Records":` + records501 + `}`},
		{name: "PutRecords/record without PartitionKey", op: "PutRecords", body: `{"StreamName":"conf","Records":[{"Data":"eA=="}]}`},
		{name: "PutRecords/bad ExplicitHashKey", op: "PutRecords", body: `{"StreamName":"conf","Records":[{"Data":"eA==","PartitionKey":"a","ExplicitHashKey":"-1"}]}`},
		{name: "PutRecords/Data over 1 MiB", op: "PutRecords", body: `{"StreamName":"conf","Records":[{"Data":` + over1MiB + `,"PartitionKey":"a"}]}`},
		{name: "PutRecords/unknown stream", op: "PutRecords", body: `{"StreamName":"conf-missing","Records":[{"Data":"eA==","PartitionKey":"a"}]}`},

		// GetShardIterator.
		{name: "GetShardIterator/missing everything", op: "GetShardIterator", body: `{}`},
		{name: "GetShardIterator/bad type", op: "GetShardIterator", body: `{"StreamName":"conf","ShardId":"shardId-000000000000","ShardIteratorType":"FIRST"}`},
		{name: "GetShardIterator/unknown stream", op: "GetShardIterator", body: `{"StreamName":"conf-missing","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST"}`},
		{name: "GetShardIterator/unknown shard", op: "GetShardIterator", body: `{"StreamName":"conf","ShardId":"shardId-000000000009","ShardIteratorType":"LATEST"}`},
		{name: "GetShardIterator/malformed shard id", op: "GetShardIterator", body: `{"StreamName":"conf","ShardId":"bad id!","ShardIteratorType":"LATEST"}`},
		{name: "GetShardIterator/AT_SEQUENCE_NUMBER without one", op: "GetShardIterator", body: `{"StreamName":"conf","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER"}`},
		{name: "GetShardIterator/sequence number not a number", op: "GetShardIterator", body: `{"StreamName":"conf","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"abc"}`},
		{name: "GetShardIterator/AT_TIMESTAMP without one", op: "GetShardIterator", body: `{"StreamName":"conf","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP"}`},
		{name: "GetShardIterator/LATEST with a sequence number", op: "GetShardIterator", body: `{"StreamName":"conf","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST","StartingSequenceNumber":"1"}`},

		// GetRecords.
		{name: "GetRecords/missing iterator", op: "GetRecords", body: `{}`},
		{name: "GetRecords/empty iterator", op: "GetRecords", body: `{"ShardIterator":""}`},
		{name: "GetRecords/made-up iterator", op: "GetRecords", body: `{"ShardIterator":"AAAAAAAAAAFmadeupiteratorthatdecodestonothing"}`},
		{name: "GetRecords/iterator too long", op: "GetRecords", body: `{"ShardIterator":"` + strings.Repeat("A", 513) + `"}`},
		{name: "GetRecords/Limit 0", op: "GetRecords", body: `{"ShardIterator":"AAAA","Limit":0}`},
		{name: "GetRecords/Limit 10001", op: "GetRecords", body: `{"ShardIterator":"AAAA","Limit":10001}`},

		// Resharding.
		{name: "SplitShard/missing everything", op: "SplitShard", body: `{}`},
		{name: "SplitShard/unknown shard", op: "SplitShard", body: `{"StreamName":"conf","ShardToSplit":"shardId-000000000009","NewStartingHashKey":"5"}`},
		{name: "SplitShard/hash key outside the shard", op: "SplitShard", body: `{"StreamName":"conf","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"340282366920938463463374607431768211455"}`},
		{name: "SplitShard/bad hash key", op: "SplitShard", body: `{"StreamName":"conf","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"x"}`},
		{name: "SplitShard/unknown stream", op: "SplitShard", body: `{"StreamName":"conf-missing","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"5"}`},
		{name: "MergeShards/missing everything", op: "MergeShards", body: `{}`},
		{name: "MergeShards/unknown shard", op: "MergeShards", body: `{"StreamName":"conf","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000009"}`},
		{name: "MergeShards/same shard twice", op: "MergeShards", body: `{"StreamName":"conf","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000000"}`},

		// Retention.
		{name: "IncreaseStreamRetentionPeriod/below current", op: "IncreaseStreamRetentionPeriod", body: `{"StreamName":"conf","RetentionPeriodHours":12}`},
		{name: "IncreaseStreamRetentionPeriod/0 hours", op: "IncreaseStreamRetentionPeriod", body: `{"StreamName":"conf","RetentionPeriodHours":0}`},
		{name: "IncreaseStreamRetentionPeriod/unknown stream", op: "IncreaseStreamRetentionPeriod", body: `{"StreamName":"conf-missing","RetentionPeriodHours":48}`},
		{name: "DecreaseStreamRetentionPeriod/below 24 hours", op: "DecreaseStreamRetentionPeriod", body: `{"StreamName":"conf","RetentionPeriodHours":23}`},
		{name: "DecreaseStreamRetentionPeriod/above current", op: "DecreaseStreamRetentionPeriod", body: `{"StreamName":"conf","RetentionPeriodHours":48}`},

		// Tags.
		{name: "AddTagsToStream/missing everything", op: "AddTagsToStream", body: `{}`},
		{name: "AddTagsToStream/no tags", op: "AddTagsToStream", body: `{"StreamName":"conf","Tags":{}}`},
		{name: "AddTagsToStream/unknown stream", op: "AddTagsToStream", body: `{"StreamName":"conf-missing","Tags":{"a":"b"}}`},
		{name: "RemoveTagsFromStream/no keys", op: "RemoveTagsFromStream", body: `{"StreamName":"conf","TagKeys":[]}`},
		{name: "ListTagsForStream/missing", op: "ListTagsForStream", body: `{}`},
		{name: "ListTagsForStream/Limit 0", op: "ListTagsForStream", body: `{"StreamName":"conf","Limit":0}`},
		{name: "ListTagsForStream/Limit 51", op: "ListTagsForStream", body: `{"StreamName":"conf","Limit":51}`},
		{name: "ListTagsForStream/unknown stream", op: "ListTagsForStream", body: `{"StreamName":"conf-missing"}`},
	}
}

// confResult is what a server answered, normalized for comparison.
type confResult struct {
	status  int
	typ     string // __type without a "namespace#" prefix
	message string // message (or Message)
}

func (r confResult) String() string {
	return fmt.Sprintf("%d %s %q", r.status, r.typ, tail(r.message, 300))
}

func TestKinesisConformance(t *testing.T) {
	need(t, "kinesalite", checkNodeKinesis, installNodeKinesis)
	readScript(t, "node/kinesis_kinesalite.js")
	bridge := startKinesisBridge(t)
	kinesalite := startKinesalite(t)

	targets := []struct{ name, url string }{{"bridge", bridge.endpoint}, {"kinesalite", kinesalite}}
	for _, tg := range targets {
		if r := signedCall(t, tg.url, "CreateStream", `{"StreamName":"conf","ShardCount":2}`, ""); r.status != 200 {
			t.Fatalf("%s: CreateStream: %s", tg.name, r)
		}
		waitStreamActive(t, tg.name, tg.url, "conf")
	}

	var unexplained, explained []string
	for _, c := range conformanceCases() {
		b := signedCall(t, bridge.endpoint, c.op, c.body, c.contentType)
		if b.status >= 500 {
			unexplained = append(unexplained, fmt.Sprintf("%s: the bridge answered %s", c.name, b))
			continue
		}
		if c.bridgeOnly != "" {
			if b.status != 400 || b.typ == "" {
				unexplained = append(unexplained, fmt.Sprintf("%s: the bridge answered %s, want a 400 error", c.name, b))
			} else {
				t.Logf("%s: bridge only (%s): %s", c.name, c.bridgeOnly, b)
			}
			continue
		}
		k := signedCall(t, kinesalite, c.op, c.body, c.contentType)
		var parts []string
		if b.status != k.status {
			parts = append(parts, "status")
		}
		if b.typ != k.typ {
			parts = append(parts, "type")
		}
		if b.message != k.message {
			parts = append(parts, "message")
		}
		allow, listed := conformanceAllow[c.name]
		if len(parts) == 0 {
			if listed {
				t.Logf("allow-list entry %q is stale: the bridge and kinesalite now agree", c.name)
			}
			continue
		}
		report := fmt.Sprintf("%s (%s %s): %s differ\n    bridge:     %s\n    kinesalite: %s",
			c.name, c.op, tail(c.body, 120), strings.Join(parts, ", "), b, k)
		ok := listed
		for _, p := range parts {
			if !strings.Contains(allow.parts, p) {
				ok = false
			}
		}
		if ok {
			explained = append(explained, report+"\n    allowed: "+allow.reason)
		} else {
			unexplained = append(unexplained, report)
		}
	}
	sort.Strings(explained)
	t.Logf("%d cases; %d differences allowed, %d not", len(conformanceCases()), len(explained), len(unexplained))
	for _, d := range explained {
		t.Log(d)
	}
	for _, d := range unexplained {
		t.Error(d)
	}
}

// startKinesalite starts kinesalite in memory on 127.0.0.1 with the
// bridge's account and region (which it puts in its messages) and state
// changes without delay; it returns its URL.
func startKinesalite(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("node", "node/kinesis_kinesalite.js", "--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0")
	cmd.Env = append(awsEnv(), "AWS_ACCOUNT_ID="+kinesisAccount)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
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
			t.Logf("kinesalite stderr:\n%s", tail(stderr.String(), 4000))
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
			t.Fatalf("kinesalite did not start: %q\n%s", line, stderr.String())
		}
		return fmt.Sprintf("http://127.0.0.1:%d", ready.Port)
	case <-time.After(startTimeout):
		t.Fatalf("kinesalite did not start within %v\n%s", startTimeout, stderr.String())
	}
	return ""
}

// signedPost posts one request, signed with SigV4 as the SDKs sign it
// (kinesalite insists on an Authorization header), and returns the status
// and body of the answer.
func signedPost(t *testing.T, url, op, body, contentType string) (int, []byte) {
	t.Helper()
	if contentType == "" {
		contentType = "application/x-amz-json-1.1"
	}
	ctx, cancel := context.WithTimeout(context.Background(), kinesisTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: "AKIDITEST", SecretAccessKey: "itest-secret"}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "kinesis", kinesisRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", url, op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", url, op, err)
	}
	return resp.StatusCode, raw
}

// signedCall is signedPost with the answer reduced to what is compared.
func signedCall(t *testing.T, url, op, body, contentType string) confResult {
	t.Helper()
	status, raw := signedPost(t, url, op, body, contentType)
	r := confResult{status: status}
	var e map[string]any
	if json.Unmarshal(raw, &e) != nil {
		if len(raw) > 0 {
			r.message = "non-JSON body: " + tail(string(raw), 200)
		}
		return r
	}
	typ, _ := e["__type"].(string)
	if i := strings.LastIndex(typ, "#"); i >= 0 {
		typ = typ[i+1:]
	}
	r.typ = typ
	if m, ok := e["message"].(string); ok {
		r.message = m
	} else if m, ok := e["Message"].(string); ok {
		r.message = m
	}
	// PutRecords reports a record's error inside a 200 answer.
	if recs, ok := e["Records"].([]any); ok && status == 200 {
		for _, x := range recs {
			if m, ok := x.(map[string]any); ok && m["ErrorCode"] != nil {
				r.typ, _ = m["ErrorCode"].(string)
				r.message, _ = m["ErrorMessage"].(string)
				break
			}
		}
	}
	return r
}

// waitStreamActive polls DescribeStreamSummary until the stream is ACTIVE.
func waitStreamActive(t *testing.T, who, url, stream string) {
	t.Helper()
	deadline := time.Now().Add(kinesisTimeout)
	for {
		status, raw := signedPost(t, url, "DescribeStreamSummary", fmt.Sprintf(`{"StreamName":%q}`, stream), "")
		var out struct {
			StreamDescriptionSummary struct{ StreamStatus string }
		}
		if status == 200 && json.Unmarshal(raw, &out) == nil && out.StreamDescriptionSummary.StreamStatus == "ACTIVE" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: stream %s not ACTIVE: %d %s", who, stream, status, tail(string(raw), 300))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
