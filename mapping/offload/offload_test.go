package offload

import (
	"testing"
)

func TestEncodeIsJacksons(t *testing.T) {
	got := string(Encode(Pointer{Bucket: "b", Key: "k/1"}))
	want := `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k/1"}]`
	if got != want {
		t.Fatalf("Encode = %s\nwant      %s", got, want)
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Pointer
		ok   bool
	}{
		{`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]`, Pointer{"b", "k"}, true},
		// Python's json.dumps, and surrounding whitespace.
		{` ["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "b", "s3Key": "k"}]` + "\n", Pointer{"b", "k"}, true},
		// The first Java client's object form.
		{`{"s3BucketName":"b","s3Key":"k"}`, Pointer{"b", "k"}, true},
		{`{"s3Key":"k","s3BucketName":"b"}`, Pointer{"b", "k"}, true},
		// Not pointers.
		{`["other.Class",{"s3BucketName":"b","s3Key":"k"}]`, Pointer{}, false},
		{`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]`, Pointer{}, false},
		{`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"","s3Key":"k"}]`, Pointer{}, false},
		{`{"s3BucketName":"b","s3Key":"k","extra":1}`, Pointer{}, false},
		{`{"s3BucketName":1,"s3Key":"k"}`, Pointer{}, false},
		{`hello`, Pointer{}, false},
		{``, Pointer{}, false},
		{`[]`, Pointer{}, false},
	} {
		got, ok := Decode([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("Decode(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestReceiptHandles(t *testing.T) {
	p := Pointer{Bucket: "bucket-1", Key: "a/b-c"}
	h := EmbedInReceiptHandle(p, "AQEB+orig==")
	if want := "-..s3BucketName..-bucket-1-..s3BucketName..--..s3Key..-a/b-c-..s3Key..-AQEB+orig=="; h != want {
		t.Fatalf("embedded %s\nwant     %s", h, want)
	}
	got, orig, ok := SplitReceiptHandle(h)
	if !ok || got != p || orig != "AQEB+orig==" {
		t.Fatalf("split = %+v %q %v", got, orig, ok)
	}
	for _, h := range []string{"AQEB+orig==", "-..s3BucketName..-b", "-..s3BucketName..--..s3BucketName..--..s3Key..-k-..s3Key..-h", "-..s3BucketName..-b-..s3BucketName..--..s3Key..-k"} {
		if _, orig, ok := SplitReceiptHandle(h); ok || orig != h {
			t.Errorf("SplitReceiptHandle(%q) = %q, %v; want the handle unchanged", h, orig, ok)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(Pointer{Bucket: "b", Key: "k"}))
	f.Add([]byte(`{"s3BucketName":"b","s3Key":"k"}`))
	f.Add([]byte(`["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "b", "s3Key": "\u00e9"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := Decode(b)
		if !ok {
			return
		}
		// What decodes encodes to a pointer that decodes the same.
		if q, ok := Decode(Encode(p)); !ok || q != p {
			t.Fatalf("%q decoded to %+v, which round-trips to %+v, %v", b, p, q, ok)
		}
	})
}

func FuzzSplitReceiptHandle(f *testing.F) {
	f.Add(EmbedInReceiptHandle(Pointer{Bucket: "b", Key: "k"}, "h"))
	f.Add("plain-handle")
	f.Fuzz(func(t *testing.T, h string) {
		p, orig, ok := SplitReceiptHandle(h)
		if ok && EmbedInReceiptHandle(p, orig) != h {
			t.Fatalf("%q split into %+v %q, which embeds back differently", h, p, orig)
		}
	})
}
