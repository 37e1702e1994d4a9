package kinesis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// putRecordsBody is a PutRecords body as aws-sdk-go-v2 writes it.
func putRecordsBody(n, size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		data, _ := json.Marshal(bytes.Repeat([]byte{byte(i)}, size))
		fmt.Fprintf(&b, `{"Data":%s,"PartitionKey":"key-%d"}`, data, i)
	}
	b.WriteString(`],"StreamName":"s"}`)
	return b.Bytes()
}

func TestPutRecordsFastJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		fast bool // taken by the fast decoder (else left to encoding/json)
	}{
		{"sdk body", string(putRecordsBody(3, 10)), true},
		{"spaces and every member", ` { "Records" : [ { "Data" : "AAE=" , "PartitionKey" : "k" , "ExplicitHashKey" : "12" } ] , "StreamARN" : "arn:aws:kinesis:us-east-1:000000000000:stream/s" , "StreamId" : "x" , "DryRun" : false } `, true},
		{"empty records", `{"Records":[],"StreamName":"s"}`, true},
		{"empty data", `{"Records":[{"Data":"","PartitionKey":"k"}]}`, true},
		{"empty object", `{}`, true},
		{"escaped slash in data", `{"Records":[{"Data":"\/w==","PartitionKey":"k"}]}`, false},
		{"non-ASCII key", `{"Records":[{"Data":"AA==","PartitionKey":"ключ"}]}`, false},
		{"null data", `{"Records":[{"Data":null,"PartitionKey":"k"}]}`, false},
		{"unknown member", `{"Records":[],"Extra":1}`, false},
		{"lower-case member", `{"records":[]}`, false},
		{"duplicate member", `{"StreamName":"a","StreamName":"b"}`, false},
		{"bad base64", `{"Records":[{"Data":"!!","PartitionKey":"k"}]}`, false},
		{"raw newlines in data", "{\"Records\":[{\"Data\":\"AAAA\n\n\r\nAAAA\",\"PartitionKey\":\"k\"}]}", false},
		{"escaped quote in data", `{"Records":[{"Data":"AAA\"AAAA","PartitionKey":"k"}]}`, false},
		{"padding inside data", `{"Records":[{"Data":"AA==AAAA","PartitionKey":"k"}]}`, false},
		{"three padding characters", `{"Records":[{"Data":"A===","PartitionKey":"k"}]}`, false},
		{"many records", string(putRecordsBody(500, 1)), true},
		{"trailing garbage", `{"Records":[]} x`, false},
		{"truncated", `{"Records":[{"Data":"AA==","PartitionKey":"k"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fast putRecordsInput
			if got := fast.decodeFastJSON([]byte(tc.body), nil); got != tc.fast {
				t.Fatalf("fast decoder took it: %v, want %v", got, tc.fast)
			}
			if !tc.fast {
				if !reflect.DeepEqual(fast, putRecordsInput{}) {
					t.Fatalf("refused body left %+v behind", fast)
				}
				return
			}
			var std putRecordsInput
			if err := json.Unmarshal([]byte(tc.body), &std); err != nil {
				t.Fatalf("encoding/json refused what the fast decoder took: %v", err)
			}
			if !reflect.DeepEqual(fast, std) {
				t.Fatalf("fast %+v\nstd  %+v", fast, std)
			}
		})
	}
}

// FuzzPutRecordsFastJSON holds the fast decoder to encoding/json: whatever
// it accepts, encoding/json accepts too and decodes to the same value.
func FuzzPutRecordsFastJSON(f *testing.F) {
	f.Add(putRecordsBody(2, 5))
	f.Add([]byte(`{"Records":[{"Data":"AAE=","PartitionKey":"k","ExplicitHashKey":"1"}],"StreamARN":"a","DryRun":true}`))
	f.Add([]byte(`{"Records":[],"StreamName":"s","StreamId":"i"}`))
	f.Add([]byte(`{"Records":[{"Data":"","PartitionKey":""}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast putRecordsInput
		if !fast.decodeFastJSON(body, nil) {
			return
		}
		var std putRecordsInput
		if err := json.Unmarshal(body, &std); err != nil {
			t.Fatalf("fast decoder took %q, encoding/json says %v", body, err)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("%q:\nfast %+v\nstd  %+v", body, fast, std)
		}
	})
}

func BenchmarkPutRecordsDecode(b *testing.B) {
	body := putRecordsBody(500, 1024)
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		var scratch []byte // pooled by the handler
		for range b.N {
			var in putRecordsInput
			if !in.decodeFastJSON(body, &scratch) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for range b.N {
			var in putRecordsInput
			if err := (jsonCodec{}).Decode(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
