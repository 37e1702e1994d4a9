package awsapi

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseARN: whatever the input, ParseARN does not panic, and an ARN it
// accepts prints back as the same string and stays in its own scope.
func FuzzParseARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:kinesis:us-east-1:000000000000:stream/s",
		"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000",
		"arn:aws:sqs:us-east-1:000000000000:q.fifo",
		"arn:aws:s3:::bucket",
		"arn:aws:s3:::bucket/a:b",
		"arn:::::",
		"arn:aws:kinesis:us-east-1:000000000000:",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := ParseARN(s)
		if !ok {
			return
		}
		if a.String() != s {
			t.Fatalf("ParseARN(%q).String() = %q", s, a.String())
		}
		scope := ARNScope{Partition: a.Partition, Service: a.Service, Region: a.Region, Account: a.Account}
		if res, ok := scope.Resource(s); !ok || res != a.Resource {
			t.Fatalf("Resource(%q) = %q, %v in its own scope", s, res, ok)
		}
		if scope.ARN(a.Resource) != s {
			t.Fatalf("scope.ARN(%q) = %q", a.Resource, scope.ARN(a.Resource))
		}
	})
}

// fuzzInput has the member kinds AWS inputs have.
type fuzzInput struct {
	Name    *string           `json:"Name"`
	Count   *int              `json:"Count"`
	Data    []byte            `json:"Data"`
	When    *Timestamp        `json:"When"`
	Tags    map[string]string `json:"Tags"`
	Entries []struct {
		Key  string `json:"Key"`
		Data []byte `json:"Data"`
	} `json:"Entries"`
}

// FuzzDecode: the codecs never panic; a failure is always a 400
// SerializationException, as an API answers it; and a decoded input
// encodes again and decodes to what it was.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		``, ` `, `{}`, `{"Name":"s","Count":3,"Data":"aGk=","When":1700000000.123,"Tags":{"a":"b"},"Entries":[{"Key":"k","Data":""}]}`,
		`{"When":"2023-11-14T22:13:20Z"}`, `{"When":"x"}`, `{"Name":1}`, `{} {}`, `[`, `{"When":1e400}`, `{"When":-1e30}`,
	} {
		f.Add(false, []byte(s))
	}
	for _, b := range [][]byte{
		{}, {0xa0},
		{0xa1, 0x64, 'W', 'h', 'e', 'n', 0xc1, 0x1b, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x69, 0xf4},
		{0xa1, 0x64, 'W', 'h', 'e', 'n', 0xc1, 0xf9, 0x7e, 0x00}, // tag 1 around NaN
		{0xa1, 0x64, 'D', 'a', 't', 'a', 0x43, 1, 2, 3},
		{0xa2, 0x64, 'N', 'a', 'm', 'e', 0x61, 'x', 0x64, 'N', 'a', 'm', 'e', 0x61, 'y'},
	} {
		f.Add(true, b)
	}
	f.Fuzz(func(t *testing.T, useCBOR bool, body []byte) {
		var c Codec = JSON11{}
		if useCBOR {
			c = CBOR{}
		}
		var in fuzzInput
		if err := c.Decode(body, &in); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Type != TypeSerialization || e.StatusCode() != 400 {
				t.Fatalf("Decode(%q) = %v, want a SerializationException", body, err)
			}
			return
		}
		again, err := c.Encode(&in)
		if err != nil {
			t.Fatalf("Encode after Decode(%q): %v", body, err)
		}
		var back fuzzInput
		if err := c.Decode(again, &back); err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) = %v on %q", body, err, again)
		}
		if in.When != nil && (back.When == nil || back.When.UnixMilli() != in.When.UnixMilli()) {
			t.Fatalf("timestamp %v came back as %v", in.When, back.When)
		}
	})
}

// FuzzRouter: whatever the request, the router sends it to an API or
// answers it with a well-formed error of its protocol, and never panics.
func FuzzRouter(f *testing.F) {
	f.Add("POST", "/", "", "Kinesis_20131202.PutRecord", `{}`)
	f.Add("POST", "/", ContentTypeJSON10, "AmazonSQS.SendMessage", `{}`)
	f.Add("POST", "/", ContentTypeCBOR11, "Nope.Op", "\xa0")
	f.Add("POST", "/000000000000/q", form, "", "Action=SendMessage&MessageBody=%zz")
	f.Add("POST", "/", form+"; charset=\"", "", "Action=Publish")
	f.Add("GET", "/?Action=ListQueues&Action=SendMessage", "", "", "")
	f.Add("GET", "/?Action=%", "", "", "")
	f.Add("PUT", "/bucket/a//b", form, "", "Action=ListQueues")
	f.Add("DELETE", "/bucket", "", "", "")
	rt, _ := testRouter(f, false)
	f.Fuzz(func(t *testing.T, method, target, contentType, amzTarget, body string) {
		req, err := http.NewRequest(method, "http://bridge"+target, strings.NewReader(body))
		if err != nil || req.URL.Path == "" {
			return // not a request a server could receive
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-Amz-Target", amzTarget)
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		if w.Code == http.StatusOK {
			return // an API took it
		}
		decode := map[string]func([]byte) (string, string, string, error){
			ContentTypeJSON10: decodeJSONError, ContentTypeJSON11: decodeJSONError, ContentTypeCBOR11: decodeCBORError,
			"text/xml": decodeQueryError, "application/xml": decodeRESTError,
		}[w.Header().Get("Content-Type")]
		if w.Code != http.StatusBadRequest || decode == nil {
			t.Fatalf("%s %s: %d %q", method, target, w.Code, w.Header().Get("Content-Type"))
		}
		if typ, _, _, err := decode(w.Body.Bytes()); err != nil || typ == "" {
			t.Fatalf("%s %s: body %q: %q, %v", method, target, w.Body, typ, err)
		}
	})
}

// FuzzQueryDecode: whatever the form, the Query decoder does not panic; a
// failure is always a 400 InvalidParameterValue; and a decoded input
// encodes to well-formed XML.
func FuzzQueryDecode(f *testing.F) {
	for _, s := range []string{
		"", "Action=SendMessageBatch&Version=2012-11-05&QueueUrl=u",
		"SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=b&SendMessageBatchRequestEntry.1.DelaySeconds=5",
		"SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=n&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=s&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String",
		"SendMessageBatchRequestEntry.2.MessageAttribute.1.Name=b&SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.BinaryValue=AAE%3D&SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.BinaryListValue.1=eQ%3D%3D",
		"SendMessageBatchRequestEntry.0.Id=a", "SendMessageBatchRequestEntry.x=a", "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=x",
		"B=true&U=1&F=1e400&When=2023-11-14T22%3A13%3A20Z&T=-1e30&Item.member.1=a&Named.n.99999999999=1&Map.entry.1.key=k&Map.entry.1.value=%00&Nested.X=%FF",
		"..=.&.1=&Map.entry.1.value=v", "Named.n.1=9223372036854775808",
	} {
		f.Add(s)
	}
	var p QueryProtocol
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return // the router answers a form that does not parse
		}
		for _, in := range []any{&tSendMessageBatchInput{}, &tKinds{}} {
			if err := p.Decode(form, in); err != nil {
				var e *Error
				if !errors.As(err, &e) || e.StatusCode() != 400 || e.Type != CodeInvalidParameterValue {
					t.Fatalf("Decode(%q) = %v, want a 400 InvalidParameterValue", raw, err)
				}
				continue
			}
			out, err := p.Encode("Echo", "rid", in)
			if err != nil {
				t.Fatalf("Encode after Decode(%q): %v", raw, err)
			}
			d := xml.NewDecoder(bytes.NewReader(out))
			for {
				if _, err := d.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("Encode after Decode(%q): %v in %s", raw, err, out)
				}
			}
		}
	})
}
