package kinesis

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// fuzzSeeds are real request bodies, one or more per operation, over the
// stream "fuzz" that FuzzDecodeRequest creates.
var fuzzSeeds = map[string][]map[string]any{
	"CreateStream": {
		{"StreamName": "fuzz2", "ShardCount": 2},
		{"StreamName": "od", "StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}, "Tags": map[string]any{"a": "b"}},
	},
	"DeleteStream":          {{"StreamName": "fuzz2", "EnforceConsumerDeletion": true}},
	"DescribeStream":        {{"StreamName": "fuzz", "Limit": 1, "ExclusiveStartShardId": "shardId-000000000000"}},
	"DescribeStreamSummary": {{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz"}},
	"ListStreams":           {{"Limit": 1, "ExclusiveStartStreamName": "a"}, {"NextToken": "eyJhIjoiYSIsImUiOjF9"}},
	"ListShards": {
		{"StreamName": "fuzz", "MaxResults": 1, "ShardFilter": map[string]any{"Type": "AT_TIMESTAMP", "Timestamp": 1700000000.5}},
		{"NextToken": "eyJzIjoiZnV6eiJ9"},
	},
	"SplitShard":                    {{"StreamName": "fuzz", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "85070591730234615865843651857942052864"}},
	"MergeShards":                   {{"StreamName": "fuzz", "ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000001"}},
	"UpdateShardCount":              {{"StreamName": "fuzz", "TargetShardCount": 3, "ScalingType": "UNIFORM_SCALING"}},
	"IncreaseStreamRetentionPeriod": {{"StreamName": "fuzz", "RetentionPeriodHours": 48}},
	"DecreaseStreamRetentionPeriod": {{"StreamName": "fuzz", "RetentionPeriodHours": 24}},
	"UpdateStreamMode":              {{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz", "StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}}},
	"StartStreamEncryption":         {{"StreamName": "fuzz", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}},
	"StopStreamEncryption":          {{"StreamName": "fuzz", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}},
	"EnableEnhancedMonitoring":      {{"StreamName": "fuzz", "ShardLevelMetrics": []string{"ALL"}}},
	"DisableEnhancedMonitoring":     {{"StreamName": "fuzz", "ShardLevelMetrics": []string{"IncomingBytes"}}},
	"DescribeLimits":                {{}},
	"UpdateMaxRecordSize":           {{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz", "MaxRecordSizeInKiB": 2048}},
	"AddTagsToStream":               {{"StreamName": "fuzz", "Tags": map[string]any{"k": "v"}}},
	"RemoveTagsFromStream":          {{"StreamName": "fuzz", "TagKeys": []string{"k"}}},
	"ListTagsForStream":             {{"StreamName": "fuzz", "Limit": 1, "ExclusiveStartTagKey": "a"}},
	"TagResource":                   {{"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz", "Tags": map[string]any{"k": "v"}}},
	"UntagResource":                 {{"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz/consumer/app:1", "TagKeys": []string{"k"}}},
	"ListTagsForResource":           {{"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz"}},
	"RegisterStreamConsumer":        {{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz", "ConsumerName": "app2"}},
	"DeregisterStreamConsumer":      {{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz", "ConsumerName": "app2"}},
	"DescribeStreamConsumer":        {{"ConsumerARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz/consumer/app:1"}},
	"ListStreamConsumers":           {{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz", "MaxResults": 1}},
	"PutRecord":                     {{"StreamName": "fuzz", "Data": "aGVsbG8=", "PartitionKey": "pk", "ExplicitHashKey": "1"}},
	"PutRecords": {{"StreamName": "fuzz", "Records": []map[string]any{
		{"Data": "aGVsbG8=", "PartitionKey": "a"}, {"Data": "", "PartitionKey": "b"},
	}}},
	"GetShardIterator": {
		{"StreamName": "fuzz", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"},
		{"StreamName": "fuzz", "ShardId": "shardId-000000000001", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 1},
	},
	"GetRecords":       {{"ShardIterator": "AAAA", "Limit": 10}},
	"SubscribeToShard": {{"ConsumerARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz/consumer/app:1", "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "LATEST"}}},

	"PutResourcePolicy":                      {{"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz", "Policy": `{"Statement":[]}`}},
	"GetResourcePolicy":                      {{"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz/consumer/app:1"}},
	"DeleteResourcePolicy":                   {{"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz"}},
	"DescribeAccountSettings":                {{}},
	"UpdateAccountSettings":                  {{"MinimumThroughputBillingCommitment": map[string]any{"Status": "ENABLED"}}},
	"UpdateStreamWarmThroughput":             {{"StreamName": "fuzz", "WarmThroughputMiBps": 10}},
	"UpdateStreamRecordDistributionStrategy": {{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz", "RecordDistributionStrategy": "AUTO"}},
}

// FuzzDecodeRequest posts random JSON and CBOR bodies to every registered
// operation: whatever the body, the handler answers (200, or an AWS error
// other than InternalFailure) and never panics.
func FuzzDecodeRequest(f *testing.F) {
	ops := Operations()
	sort.Strings(ops)
	index := map[string]uint16{}
	for i, op := range ops {
		index[op] = uint16(i)
	}
	for op, bodies := range fuzzSeeds {
		i, ok := index[op]
		if !ok {
			continue // an operation not written yet
		}
		for _, b := range bodies {
			j, _ := json.Marshal(b)
			f.Add(i, false, j)
			c, _ := cbor.Marshal(b)
			f.Add(i, true, c)
		}
	}
	for i := range ops {
		f.Add(uint16(i), false, []byte(`{"StreamName":{}}`))
		f.Add(uint16(i), true, []byte{0xa1, 0x61, 0x41, 0xc1, 0xf9, 0x7e, 0x00}) // {"A": tag 1(NaN)}
	}

	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	h, err := New(Config{Store: st})
	if err != nil {
		f.Fatal(err)
	}
	// Long-lived answers (SubscribeToShard) end at once.
	_ = h.Shutdown(context.Background())
	ctx := context.Background()
	if _, err := st.CreateStream(ctx, store.StreamConfig{Name: "fuzz", ShardCount: 2, Retention: 24 * time.Hour}); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, op uint16, useCBOR bool, body []byte) {
		name := ops[int(op)%len(ops)]
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", targetPrefix+name)
		req.Header.Set("Content-Type", contentTypeJSON)
		if useCBOR {
			req.Header.Set("Content-Type", contentTypeCBOR)
		}
		rctx, cancel := context.WithTimeout(req.Context(), 5*time.Second)
		defer cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(rctx))
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", name, body, rec.Code, rec.Body.Bytes())
		}
		if rec.Code != http.StatusOK && rec.Header().Get("x-amzn-ErrorType") == "" {
			t.Fatalf("%s: %d without an error type", name, rec.Code)
		}
	})
}
