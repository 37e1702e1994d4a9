package kinesis

import (
	"bytes"
	"testing"

	"github.com/streambridge/bridge/mapping/offload"
)

// TestPointerOf: only the class form is a pointer in a Kinesis record.
func TestPointerOf(t *testing.T) {
	for _, tc := range []struct {
		data string
		ok   bool
	}{
		{`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]`, true},
		{" \n[\"software.amazon.payloadoffloading.PayloadS3Pointer\", {\"s3BucketName\": \"b\", \"s3Key\": \"k\"}]", true},
		{`{"s3BucketName":"b","s3Key":"k"}`, false}, // the first Java client's form: no mark in Kinesis
		{`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"","s3Key":"k"}]`, false},
		{`["other.Class",{"s3BucketName":"b","s3Key":"k"}]`, false},
		{`["software.amazon.payloadoffloading.PayloadS3Pointer"`, false},
		{"", false},
		{"plain data", false},
	} {
		p, ok := pointerOf([]byte(tc.data))
		if ok != tc.ok || ok && (p.Bucket != "b" || p.Key != "k") {
			t.Errorf("pointerOf(%q) = %+v, %v; want ok=%v", tc.data, p, ok, tc.ok)
		}
	}
}

// FuzzPointerOf: any data gives a pointer or none without panicking, and a
// pointer found encodes back to one naming the same object.
func FuzzPointerOf(f *testing.F) {
	f.Add(offload.Encode(offload.Pointer{Bucket: "payloads", Key: "kafka/in/3f0c"}))
	f.Add([]byte(`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"\u00e9"}]`))
	f.Add([]byte(`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]`))
	f.Add([]byte(`{"s3BucketName":"b","s3Key":"k"}`))
	f.Add([]byte("\xf3\x89\x9a\xc2"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, ok := pointerOf(data)
		if !ok {
			return
		}
		if p.Bucket == "" || p.Key == "" {
			t.Fatalf("pointer with an empty field: %+v", p)
		}
		again, ok := pointerOf(offload.Encode(p))
		if !ok || again != p {
			t.Fatalf("%+v encodes to %q, read back as %+v, %v", p, offload.Encode(p), again, ok)
		}
		if !bytes.Contains(bytes.TrimLeft(data, " \t\r\n"), []byte(offload.PointerClass)) {
			t.Fatalf("pointer without its class name: %q", data)
		}
	})
}
