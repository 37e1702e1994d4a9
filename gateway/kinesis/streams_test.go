package kinesis

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/fxamacker/cbor/v2"

	"github.com/streambridge/bridge/store"
)

func TestCreateDescribeListDeleteWithSDK(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "orders", 3)

	d := cpDescribe(t, kc, "orders")
	if *d.StreamName != "orders" || *d.StreamARN != "arn:aws:kinesis:us-east-1:000000000000:stream/orders" ||
		d.StreamStatus != types.StreamStatusActive || *d.RetentionPeriodHours != 24 || *d.HasMoreShards ||
		d.EncryptionType != types.EncryptionTypeNone || d.StreamModeDetails.StreamMode != types.StreamModeProvisioned ||
		len(d.EnhancedMonitoring) != 1 || len(d.EnhancedMonitoring[0].ShardLevelMetrics) != 0 || d.StreamCreationTimestamp == nil {
		t.Fatalf("description: %+v", d)
	}
	// AWS's even split, as kinesalite's tests record it.
	wantRanges := [][2]string{
		{"0", "113427455640312821154458202477256070484"},
		{"113427455640312821154458202477256070485", "226854911280625642308916404954512140969"},
		{"226854911280625642308916404954512140970", "340282366920938463463374607431768211455"},
	}
	for i, sh := range d.Shards {
		if *sh.ShardId != shardIDOf(i) || *sh.HashKeyRange.StartingHashKey != wantRanges[i][0] ||
			*sh.HashKeyRange.EndingHashKey != wantRanges[i][1] || sh.ParentShardId != nil ||
			len(*sh.SequenceNumberRange.StartingSequenceNumber) != 56 || sh.SequenceNumberRange.EndingSequenceNumber != nil {
			t.Fatalf("shard %d: %+v %+v %+v", i, sh, *sh.HashKeyRange, *sh.SequenceNumberRange)
		}
	}

	sum, err := kc.DescribeStreamSummary(ctx, &awskinesis.DescribeStreamSummaryInput{StreamARN: d.StreamARN})
	if err != nil {
		t.Fatal(err)
	}
	s := sum.StreamDescriptionSummary
	if *s.OpenShardCount != 3 || *s.ConsumerCount != 0 || *s.MaxRecordSizeInKiB != 1024 || s.StreamStatus != types.StreamStatusActive {
		t.Fatalf("summary: %+v", s)
	}

	for _, name := range []string{"b", "c", "a"} {
		cpCreate(t, kc, name, 1)
	}
	var names []string
	p := awskinesis.NewListStreamsPaginator(kc, &awskinesis.ListStreamsInput{Limit: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.StreamSummaries) != len(page.StreamNames) {
			t.Fatalf("summaries %d, names %d", len(page.StreamSummaries), len(page.StreamNames))
		}
		for i, sum := range page.StreamSummaries {
			if *sum.StreamName != page.StreamNames[i] || sum.StreamStatus != types.StreamStatusActive ||
				*sum.StreamARN != ts.streamARN(page.StreamNames[i]) || sum.StreamCreationTimestamp == nil {
				t.Fatalf("summary %+v", sum)
			}
		}
		names = append(names, page.StreamNames...)
	}
	if strings.Join(names, ",") != "a,b,c,orders" {
		t.Fatalf("listed %v", names)
	}
	page, err := kc.ListStreams(ctx, &awskinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("b"), Limit: aws.Int32(1)})
	if err != nil || strings.Join(page.StreamNames, ",") != "c" || !*page.HasMoreStreams {
		t.Fatalf("after b: %v %v, %v", page.StreamNames, *page.HasMoreStreams, err)
	}

	if _, err := kc.DeleteStream(ctx, &awskinesis.DeleteStreamInput{StreamName: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	_, err = kc.DescribeStream(ctx, &awskinesis.DescribeStreamInput{StreamName: aws.String("orders")})
	cpSDKErr(t, err, errResourceNotFound, "Stream orders under account 000000000000 not found.")
	_, err = kc.DeleteStream(ctx, &awskinesis.DeleteStreamInput{StreamName: aws.String("orders")})
	cpSDKErr(t, err, errResourceNotFound, "Stream orders under account 000000000000 not found.")
}

func TestCreateStreamModesAndOptions(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	_, err := kc.CreateStream(ctx, &awskinesis.CreateStreamInput{
		StreamName:         aws.String("od"),
		StreamModeDetails:  &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand},
		Tags:               map[string]string{"team": "data"},
		MaxRecordSizeInKiB: aws.Int32(2048),
	})
	if err != nil {
		t.Fatal(err)
	}
	d := cpDescribe(t, kc, "od")
	if len(d.Shards) != onDemandShards || d.StreamModeDetails.StreamMode != types.StreamModeOnDemand {
		t.Fatalf("on-demand stream: %d shards, mode %s", len(d.Shards), d.StreamModeDetails.StreamMode)
	}
	tags, err := kc.ListTagsForStream(ctx, &awskinesis.ListTagsForStreamInput{StreamName: aws.String("od")})
	if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" || *tags.Tags[0].Value != "data" {
		t.Fatalf("tags %+v, %v", tags, err)
	}
	st, _ := ts.store.DescribeStream(context.Background(), "od")
	if ts.maxRecordBytes(st) != 2048<<10 || st.Retention != 24*time.Hour {
		t.Fatalf("max record %d, retention %v", ts.maxRecordBytes(st), st.Retention)
	}
}

func TestCreateStreamErrors(t *testing.T) {
	ts := startTestServer(t)
	long := strings.Repeat("a", 129)
	cpCreate(t, ts.client(), "taken", 1)
	for _, tc := range []struct {
		name          string
		body          map[string]any
		typ, message  string
		messagePrefix string
	}{
		{"empty body", map[string]any{}, errValidation,
			"1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null", ""},
		{"provisioned without shards", map[string]any{"StreamName": "x", "StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"}}, errValidation,
			"1 validation error detected: Value null at 'shardCount' failed to satisfy constraint: Member must not be null", ""},
		{"long name", map[string]any{"StreamName": long, "ShardCount": 1}, errValidation,
			"1 validation error detected: Value '" + long + "' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128", ""},
		{"zero shards", map[string]any{"StreamName": "x", "ShardCount": 0}, errValidation,
			"1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1", ""},
		{"bad mode", map[string]any{"StreamName": "x", "StreamModeDetails": map[string]any{"StreamMode": "FAST"}}, errValidation, "",
			"1 validation error detected: Value 'FAST' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set"},
		{"exists", map[string]any{"StreamName": "taken", "ShardCount": 1}, errResourceInUse,
			"Stream taken under account 000000000000 already exists.", ""},
		{"over the shard limit", map[string]any{"StreamName": "big", "ShardCount": accountShardLimit}, errLimitExceeded,
			"This request would exceed the shard limit for the account 000000000000 in us-east-1. Current shard count for the account: 1. " +
				"Limit: 10000. Number of additional shards that would have resulted from this request: 10000. Refer to the AWS Service Limits page " +
				"(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.", ""},
		{"wrong type", map[string]any{"StreamName": 5, "ShardCount": 1}, errSerialization, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ts.call(t, "CreateStream", tc.body)
			cpRawErr(t, status, out, tc.typ, tc.message)
			if msg, _ := out["message"].(string); !strings.HasPrefix(msg, tc.messagePrefix) {
				t.Fatalf("message %q, want prefix %q", msg, tc.messagePrefix)
			}
		})
	}
}

func TestDescribeStreamPagingAndRefs(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "p", 5)
	var got []string
	var start *string
	for {
		out, err := kc.DescribeStream(ctx, &awskinesis.DescribeStreamInput{
			StreamName: aws.String("p"), Limit: aws.Int32(2), ExclusiveStartShardId: start,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range out.StreamDescription.Shards {
			got = append(got, *sh.ShardId)
		}
		if !*out.StreamDescription.HasMoreShards {
			break
		}
		start = out.StreamDescription.Shards[len(out.StreamDescription.Shards)-1].ShardId
	}
	if len(got) != 5 || got[4] != "shardId-000000000004" {
		t.Fatalf("paged %v", got)
	}

	// The ARN works in place of the name; a mismatch or a foreign ARN does not.
	status, out := ts.call(t, "DescribeStream", map[string]any{"StreamARN": ts.streamARN("p")})
	if status != http.StatusOK || out["StreamDescription"].(map[string]any)["StreamName"] != "p" {
		t.Fatalf("by ARN: %d %v", status, out)
	}
	status, out = ts.call(t, "DescribeStream", map[string]any{})
	cpRawErr(t, status, out, errValidation, "1 validation error detected: Either StreamName or StreamARN should be provided.")
	status, out = ts.call(t, "DescribeStream", map[string]any{"StreamName": "p", "Limit": 0})
	cpRawErr(t, status, out, errValidation,
		"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
	status, out = ts.call(t, "DescribeStreamSummary", map[string]any{"StreamName": "nope"})
	cpRawErr(t, status, out, errResourceNotFound, "Stream nope under account 000000000000 not found.")
}

func TestListStreamsTokens(t *testing.T) {
	ts, clock := cpServerWithClock(t, 0)
	kc := ts.client()
	for _, n := range []string{"a", "b", "c"} {
		cpCreate(t, kc, n, 1)
	}
	status, out := ts.call(t, "ListStreams", map[string]any{"Limit": 1})
	if status != http.StatusOK || out["NextToken"] == nil || out["HasMoreStreams"] != true {
		t.Fatalf("%d %v", status, out)
	}
	token := out["NextToken"].(string)
	status, out = ts.call(t, "ListStreams", map[string]any{"NextToken": token, "ExclusiveStartStreamName": "a"})
	cpRawErr(t, status, out, errInvalidArgument, "NextToken and ExclusiveStartStreamName cannot be provided together.")
	status, out = ts.call(t, "ListStreams", map[string]any{"NextToken": token})
	if status != http.StatusOK || len(out["StreamNames"].([]any)) != 2 || out["HasMoreStreams"] != false {
		t.Fatalf("%d %v", status, out)
	}
	clock.add(nextTokenLifetime)
	status, out = ts.call(t, "ListStreams", map[string]any{"NextToken": token})
	cpRawErr(t, status, out, errExpiredNextToken, "")
	status, out = ts.call(t, "ListStreams", map[string]any{"NextToken": "garbage!"})
	cpRawErr(t, status, out, errInvalidArgument, "")
	status, out = ts.call(t, "ListStreams", map[string]any{"Limit": 10001})
	cpRawErr(t, status, out, errValidation,
		"1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000")
}

// TestKafkaStreamsAreKinesisStreams: a stream made through the store (as
// the Kafka front end makes topics) is listed and described, with its
// retention in hours and 8760 for "forever".
func TestKafkaStreamsAreKinesisStreams(t *testing.T) {
	ts := startTestServer(t)
	ctx := context.Background()
	if _, err := ts.store.CreateStream(ctx, store.StreamConfig{Name: "topic", ShardCount: 2, Retention: 168 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.CreateStream(ctx, store.StreamConfig{Name: "forever", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	kc := ts.client()
	if d := cpDescribe(t, kc, "topic"); *d.RetentionPeriodHours != 168 || len(d.Shards) != 2 {
		t.Fatalf("topic: %d h, %d shards", *d.RetentionPeriodHours, len(d.Shards))
	}
	if d := cpDescribe(t, kc, "forever"); *d.RetentionPeriodHours != maxRetentionHours {
		t.Fatalf("forever: %d h", *d.RetentionPeriodHours)
	}
}

// TestCBORCreateAndDescribe posts CBOR bodies, as the Java SDK and KCL do,
// and reads CBOR answers: timestamps as tag 1 around epoch milliseconds.
func TestCBORCreateAndDescribe(t *testing.T) {
	ts := startTestServer(t)
	dec, err := cbor.DecOptions{DefaultMapType: reflect.TypeOf(map[string]any{})}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	var lastBody []byte
	post := func(op string, body any) (int, map[string]any) {
		t.Helper()
		resp := ts.post(t, op, cborCodec{}, body)
		if ct := resp.Header.Get("Content-Type"); ct != contentTypeCBOR {
			t.Fatalf("%s: content type %q", op, ct)
		}
		raw, _ := io.ReadAll(resp.Body)
		lastBody = raw
		var out map[string]any
		if len(raw) > 0 {
			if err := dec.Unmarshal(raw, &out); err != nil {
				t.Fatalf("%s: %v", op, err)
			}
		}
		return resp.StatusCode, out
	}
	before := time.Now().Add(-time.Second)
	if status, out := post("CreateStream", map[string]any{"StreamName": "cb", "ShardCount": 2}); status != http.StatusOK {
		t.Fatalf("CreateStream: %d %v", status, out)
	}
	status, out := post("DescribeStream", map[string]any{"StreamName": "cb"})
	if status != http.StatusOK {
		t.Fatalf("DescribeStream: %d %v", status, out)
	}
	d := out["StreamDescription"].(map[string]any)
	if d["StreamStatus"] != "ACTIVE" || len(d["Shards"].([]any)) != 2 || d["RetentionPeriodHours"] != uint64(24) {
		t.Fatalf("description %v", d)
	}
	// The Java SDK's timestamps: tag 1 around epoch milliseconds (standard
	// CBOR would be seconds, so a generic decoder reads a far future).
	var typed struct {
		StreamDescription struct {
			StreamCreationTimestamp cbor.RawTag
		}
	}
	if err := cbor.Unmarshal(lastBody, &typed); err != nil {
		t.Fatal(err)
	}
	var ms uint64
	tag := typed.StreamDescription.StreamCreationTimestamp
	if err := cbor.Unmarshal(tag.Content, &ms); err != nil || tag.Number != 1 {
		t.Fatalf("creation timestamp tag %d: %v", tag.Number, err)
	}
	if created := time.UnixMilli(int64(ms)); created.Before(before) || created.After(time.Now().Add(time.Second)) {
		t.Fatalf("creation timestamp %v", created)
	}
	status, out = post("DescribeStream", map[string]any{"StreamName": "none"})
	cpRawErr(t, status, out, errResourceNotFound, "Stream none under account 000000000000 not found.")
}
