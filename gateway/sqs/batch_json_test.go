package sqs

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzSendMessageBatchFastJSON holds the fast decoder to encoding/json:
// whatever body it accepts must decode to the same input.
func FuzzSendMessageBatchFastJSON(f *testing.F) {
	for _, s := range []string{
		`{"QueueUrl":"http://127.0.0.1:4566/000000000000/q","Entries":[{"Id":"0","MessageBody":"hello"},{"Id":"1","MessageBody":"{\"a\":\"b\\\\c\"}\n","DelaySeconds":5}]}`,
		`{"Entries":[{"Id":"a","MessageBody":"x","MessageGroupId":"g","MessageDeduplicationId":"d"}],"QueueUrl":"q"}`,
		`{"QueueUrl":"q","Entries":[]}`,
		`{"QueueUrl":"q","Entries":[{"Id":"a","MessageBody":"caf\u00e9 ☕"}]}`,
		`{"QueueUrl":"q","Entries":[{"Id":"a","MessageBody":"x","DelaySeconds":-0}]}`,
		`{"QueueUrl":"q","Entries":[{"Id":"a","MessageBody":"x","DelaySeconds":2147483648}]}`,
		`{"QueueUrl":"q","Entries":[{"Id":"a","MessageBody":"x","MessageAttributes":{}}]}`,
		` { "QueueUrl" : "q" , "Entries" : [ { "Id" : "a" , "MessageBody" : "\/\b\f\r\t" } ] } `,
		`{"QueueUrl":"q","QueueUrl":"r"}`,
		`{"QueueUrl":"q"} x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast sendMessageBatchInput
		if !fast.decodeFastJSON(body) {
			return
		}
		var slow sendMessageBatchInput
		if err := json.Unmarshal(body, &slow); err != nil {
			t.Fatalf("fast decoder took %q, encoding/json refuses it: %v", body, err)
		}
		if len(slow.Entries) == 0 {
			slow.Entries = nil // [] and no Entries mean the same here
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q\nfast: %+v\njson: %+v", body, fast, slow)
		}
	})
}

func TestSendMessageBatchFastJSONTakesTheCommonShape(t *testing.T) {
	for _, body := range []string{
		`{"QueueUrl":"q","Entries":[{"Id":"0","MessageBody":"{\"k\":\"v\"}"}]}`,
		`{"QueueUrl":"q","Entries":[{"Id":"0","MessageBody":"x","MessageGroupId":"g","MessageDeduplicationId":"d","DelaySeconds":0}]}`,
	} {
		var in sendMessageBatchInput
		if !in.decodeFastJSON([]byte(body)) {
			t.Errorf("fast decoder gave up on %s", body)
		}
	}
}
