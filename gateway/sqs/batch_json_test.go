package sqs

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// fuzzFastJSON holds a fast decoder to encoding/json: whatever body it
// accepts must decode to the same input. normalize maps what the two may
// differ in without meaning anything different (an empty list and none).
func fuzzFastJSON[T any, PT interface {
	*T
	fastJSON
}](f *testing.F, seeds []string, normalize func(*T)) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast T
		if !PT(&fast).decodeFastJSON(body) {
			return
		}
		var slow T
		if err := json.Unmarshal(body, &slow); err != nil {
			t.Fatalf("fast decoder took %q, encoding/json refuses it: %v", body, err)
		}
		normalize(&fast)
		normalize(&slow)
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q\nfast: %+v\njson: %+v", body, fast, slow)
		}
	})
}

func nilIfEmpty[E any](s *[]E) {
	if len(*s) == 0 {
		*s = nil
	}
}

func FuzzSendMessageBatchFastJSON(f *testing.F) {
	fuzzFastJSON(f, []string{
		`{"QueueUrl":"http://127.0.0.1:4566/000000000000/q","Entries":[{"Id":"0","MessageBody":"hello"},{"Id":"1","MessageBody":"{\"a\":\"b\\\\c\"}\n","DelaySeconds":5}]}`,
		`{"Entries":[{"Id":"a","MessageBody":"x","MessageGroupId":"g","MessageDeduplicationId":"d"}],"QueueUrl":"q"}`,
		`{"QueueUrl":"q","Entries":[]}`,
		`{"QueueUrl":"q","Entries":[{"Id":"a","MessageBody":"caf\u00e9 ☕"}]}`,
		`{"QueueUrl":"q","Entries":[{"Id":"a","MessageBody":"x","DelaySeconds":-0}]}`,
		`{"QueueUrl":"q","Entries":[{"Id":"a","MessageBody":"x","DelaySeconds":2147483648}]}`,
		`{"QueueUrl":"q","Entries":[{"Id":"a","MessageBody":"x","MessageAttributes":{}}]}`,
		` { "QueueUrl" : "q" , "Entries" : [ { "Id" : "a" , "MessageBody" : "\/\b\f\r\t" } ] } `,
		`{"QueueUrl":"q","QueueUrl":"r"}`,
		`{"QueueUrl":"q","Entries":[{"Id":"a","MessageBody":"x"}],"Entries":[{"Id":"b","MessageBody":"y"}]}`,
		`{"QueueUrl":"q"} x`,
	}, func(in *sendMessageBatchInput) { nilIfEmpty(&in.Entries) })
}

func FuzzDeleteMessageBatchFastJSON(f *testing.F) {
	fuzzFastJSON(f, []string{
		`{"Entries":[{"Id":"0","ReceiptHandle":"AQAAAAAAAAAAAAAAAAAAAAFxzuJnTV8_W8SSMn3GbCcsKw"},{"Id":"1","ReceiptHandle":"h+/="}],"QueueUrl":"http://127.0.0.1:4566/000000000000/q"}`,
		`{"QueueUrl":"q","Entries":[]}`,
		`{"QueueUrl":"q","Entries":[{"Id":"a","ReceiptHandle":"x"}],"Entries":[{"Id":"b"}]}`,
		`{"QueueUrl":"q","Entries":[{"Id":"a","ReceiptHandle":"x","Other":1}]}`,
		`{"QueueUrl":"q","Entries":null}`,
		`{"QueueUrl":"caf\u00e9","Entries":[{"Id":"\t","ReceiptHandle":"\"\\"}]}`,
	}, func(in *deleteMessageBatchInput) { nilIfEmpty(&in.Entries) })
}

func FuzzReceiveMessageFastJSON(f *testing.F) {
	fuzzFastJSON(f, []string{
		`{"MaxNumberOfMessages":10,"QueueUrl":"http://127.0.0.1:4566/000000000000/q","WaitTimeSeconds":5}`,
		`{"QueueUrl":"q","AttributeNames":["All"],"MessageAttributeNames":["a.*","b"],"MessageSystemAttributeNames":["SentTimestamp"],"VisibilityTimeout":30,"ReceiveRequestAttemptId":"r"}`,
		`{"QueueUrl":"q","AttributeNames":[]}`,
		`{"QueueUrl":"q","AttributeNames":["a","b"],"AttributeNames":["c"]}`,
		`{"QueueUrl":"q","MaxNumberOfMessages":1e1}`,
		`{"QueueUrl":"q","WaitTimeSeconds":-1,"MaxNumberOfMessages":0}`,
		`{"QueueUrl":"q","AttributeNames":[1]}`,
		`{"QueueUrl":"q","Unknown":"x"}`,
	}, func(in *receiveMessageInput) {
		nilIfEmpty(&in.AttributeNames)
		nilIfEmpty(&in.MessageSystemAttributeNames)
		nilIfEmpty(&in.MessageAttributeNames)
	})
}

// TestFastJSONTakesTheCommonShape: the bodies SDKs send for the busy
// requests go through the fast decoders, not around them.
func TestFastJSONTakesTheCommonShape(t *testing.T) {
	for _, tc := range []struct {
		in   fastJSON
		body string
	}{
		{&sendMessageBatchInput{}, `{"QueueUrl":"q","Entries":[{"Id":"0","MessageBody":"{\"k\":\"v\"}"}]}`},
		{&sendMessageBatchInput{}, `{"QueueUrl":"q","Entries":[{"Id":"0","MessageBody":"x","MessageGroupId":"g","MessageDeduplicationId":"d","DelaySeconds":0}]}`},
		// aws-sdk-go-v2, boto3 and @aws-sdk/client-sqs order keys differently.
		{&deleteMessageBatchInput{}, `{"Entries":[{"Id":"0","ReceiptHandle":"AQAAAAAAAAAAAAAAAAAAAAFxzuJnTV8_W8SSMn3GbCcsKw"}],"QueueUrl":"http://127.0.0.1:4566/000000000000/q"}`},
		{&receiveMessageInput{}, `{"MaxNumberOfMessages":10,"QueueUrl":"http://127.0.0.1:4566/000000000000/q","WaitTimeSeconds":5}`},
		{&receiveMessageInput{}, `{"QueueUrl": "q", "AttributeNames": ["All"], "MessageAttributeNames": ["All"], "MaxNumberOfMessages": 10}`},
	} {
		if !tc.in.decodeFastJSON([]byte(tc.body)) {
			t.Errorf("%T: fast decoder gave up on %s", tc.in, tc.body)
		}
	}
}

// BenchmarkFastJSON compares each fast decoder with encoding/json on the
// body aws-sdk-go-v2 sends under `bridge bench sqs` (10 entries, 1 KiB
// bodies).
func BenchmarkFastJSON(b *testing.B) {
	body := strings.Repeat("x", 1024)
	send := `{"Entries":[`
	del := `{"Entries":[`
	for i := range 10 {
		if i > 0 {
			send, del = send+",", del+","
		}
		send += `{"Id":"` + strconv.Itoa(i) + `","MessageBody":"` + body + `"}`
		del += `{"Id":"` + strconv.Itoa(i) + `","ReceiptHandle":"AQAAAAAAAAAAAAAAAAAAAAFxzuJnTV8_W8SSMn3GbCcsKw"}`
	}
	const url = `"QueueUrl":"http://127.0.0.1:4566/000000000000/bench-0123456789"`
	send += `],` + url + `}`
	del += `],` + url + `}`
	recv := `{"MaxNumberOfMessages":10,` + url + `,"WaitTimeSeconds":5}`
	for _, tc := range []struct {
		name string
		body []byte
		new  func() fastJSON
	}{
		{"SendMessageBatch", []byte(send), func() fastJSON { return &sendMessageBatchInput{} }},
		{"DeleteMessageBatch", []byte(del), func() fastJSON { return &deleteMessageBatchInput{} }},
		{"ReceiveMessage", []byte(recv), func() fastJSON { return &receiveMessageInput{} }},
	} {
		b.Run(tc.name+"/fast", func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			for b.Loop() {
				if !tc.new().decodeFastJSON(tc.body) {
					b.Fatal("gave up")
				}
			}
		})
		b.Run(tc.name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			for b.Loop() {
				if err := json.Unmarshal(tc.body, tc.new()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
