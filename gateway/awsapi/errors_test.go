package awsapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWriteJSON(t *testing.T) {
	for _, tc := range []struct {
		name                              string
		e                                 Error
		c                                 Codec
		wantStatus                        int
		wantBody, wantType, wantQueryHead string
	}{
		{
			name: "kinesis", c: JSON11{},
			e:          Error{Status: 400, Type: "ResourceNotFoundException", Message: "Stream s under account 000000000000 not found."},
			wantStatus: 400, wantType: "ResourceNotFoundException",
			wantBody: `{"__type":"ResourceNotFoundException","message":"Stream s under account 000000000000 not found."}`,
		},
		{
			name: "no message", c: JSON11{},
			e:          Error{Type: "UnknownOperationException"},
			wantStatus: 400, wantType: "UnknownOperationException",
			wantBody: `{"__type":"UnknownOperationException"}`,
		},
		{
			name: "sqs json", c: JSON10{},
			e:          Error{Status: 400, Type: "com.amazonaws.sqs#QueueDoesNotExist", Message: "The specified queue does not exist.", QueryCode: "AWS.SimpleQueueService.NonExistentQueue"},
			wantStatus: 400, wantType: "com.amazonaws.sqs#QueueDoesNotExist", wantQueryHead: "AWS.SimpleQueueService.NonExistentQueue;Sender",
			wantBody: `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`,
		},
		{
			name: "server fault", c: JSON10{},
			e:          Error{Status: 500, Type: "InternalFailure", Message: "boom", QueryCode: "InternalFailure"},
			wantStatus: 500, wantType: "InternalFailure", wantQueryHead: "InternalFailure;Receiver",
			wantBody: `{"__type":"InternalFailure","message":"boom"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.e.WriteJSON(w, tc.c)
			h := w.Header()
			if w.Code != tc.wantStatus || w.Body.String() != tc.wantBody || h.Get("Content-Type") != tc.c.ContentType() ||
				h.Get("X-Amzn-ErrorType") != tc.wantType || h.Get("X-Amzn-Query-Error") != tc.wantQueryHead {
				t.Fatalf("got %d %v %s", w.Code, h, w.Body)
			}
			if _, ok := h["X-Amzn-Query-Error"]; !ok && tc.wantQueryHead != "" {
				t.Fatal("no x-amzn-query-error")
			}
		})
	}
}

func TestWriteJSONInCBOR(t *testing.T) {
	w := httptest.NewRecorder()
	(&Error{Status: 400, Type: "InvalidArgumentException", Message: "m"}).WriteJSON(w, CBOR{})
	var body map[string]string
	if err := (CBOR{}).Decode(w.Body.Bytes(), &body); err != nil || body["__type"] != "InvalidArgumentException" || body["message"] != "m" {
		t.Fatalf("CBOR body % x: %v %v", w.Body.Bytes(), body, err)
	}
	if ct := w.Header().Get("Content-Type"); ct != ContentTypeCBOR11 {
		t.Fatalf("Content-Type %q", ct)
	}
}

func TestWriteXML(t *testing.T) {
	const id = "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE"
	for _, tc := range []struct {
		name        string
		e           Error
		write       func(e *Error, w http.ResponseWriter)
		wantStatus  int
		wantType    string
		wantBody    string
		wantNoHeads []string
	}{
		{
			name:       "query",
			e:          Error{Status: 400, Type: "com.amazonaws.sqs#QueueDoesNotExist", Message: "The specified queue does not exist.", QueryCode: "AWS.SimpleQueueService.NonExistentQueue"},
			write:      func(e *Error, w http.ResponseWriter) { e.WriteQuery(w, id) },
			wantStatus: 400, wantType: "text/xml",
			wantBody: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ErrorResponse><Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>The specified queue does not exist.</Message></Error><RequestId>` + id + `</RequestId></ErrorResponse>`,
		},
		{
			name:       "query without a query code, server fault, escaped",
			e:          Error{Status: 503, Type: "ServiceUnavailable", Message: `a <b> & "c"`},
			write:      func(e *Error, w http.ResponseWriter) { e.WriteQuery(w, id) },
			wantStatus: 503, wantType: "text/xml",
			wantBody: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>a &lt;b&gt; &amp; &#34;c&#34;</Message></Error><RequestId>` + id + `</RequestId></ErrorResponse>`,
		},
		{
			name:       "rest-xml",
			e:          Error{Status: 404, Type: "NoSuchBucket", Message: "The specified bucket does not exist"},
			write:      func(e *Error, w http.ResponseWriter) { e.WriteRESTXML(w, id) },
			wantStatus: 404, wantType: "application/xml",
			wantBody: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><RequestId>` + id + `</RequestId></Error>`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.write(&tc.e, w)
			if w.Code != tc.wantStatus || w.Header().Get("Content-Type") != tc.wantType || w.Body.String() != tc.wantBody {
				t.Fatalf("got %d %q\n%s\nwant %d %q\n%s", w.Code, w.Header().Get("Content-Type"), w.Body, tc.wantStatus, tc.wantType, tc.wantBody)
			}
			if w.Header().Get("X-Amzn-ErrorType") != "" {
				t.Errorf("an XML error carries x-amzn-ErrorType")
			}
		})
	}
}

var errStoreUnsupported = errors.New("store: unsupported operation")

func TestErrorMap(t *testing.T) {
	kinesis := ErrorMap{Unsupported: Error{Status: 400, Type: "InvalidArgumentException"}}
	sqs := ErrorMap{
		Unsupported: Error{Status: 400, Type: "com.amazonaws.sqs#UnsupportedOperation", QueryCode: "AWS.SimpleQueueService.UnsupportedOperation"},
		IsUnsupported: func(err error) bool {
			return errors.Is(err, errStoreUnsupported)
		},
	}
	s3 := ErrorMap{Unsupported: Error{Status: 501, Type: "NotImplemented"}, Internal: Error{Status: 500, Type: "InternalError"}}
	own := &Error{Status: 409, Type: "BucketAlreadyExists", Message: "taken"}
	unsupported := fmt.Errorf("put to a Kafka backend: %w", errors.ErrUnsupported)
	for _, tc := range []struct {
		name string
		m    ErrorMap
		err  error
		want Error
	}{
		{"own error", kinesis, own, *own},
		{"own error wrapped", s3, fmt.Errorf("ctx: %w", own), *own},
		{"kinesis unsupported", kinesis, unsupported, Error{Status: 400, Type: "InvalidArgumentException", Message: unsupported.Error()}},
		{"kinesis other", kinesis, errors.New("disk on fire"), Error{Status: 500, Type: "InternalFailure", Message: "disk on fire"}},
		{"sqs unsupported by its own test", sqs, fmt.Errorf("x: %w", errStoreUnsupported), Error{Status: 400, Type: "com.amazonaws.sqs#UnsupportedOperation", QueryCode: "AWS.SimpleQueueService.UnsupportedOperation", Message: "x: store: unsupported operation"}},
		{"sqs sees errors.ErrUnsupported as internal", sqs, unsupported, Error{Status: 500, Type: "InternalFailure", Message: unsupported.Error()}},
		{"s3 unsupported", s3, unsupported, Error{Status: 501, Type: "NotImplemented", Message: unsupported.Error()}},
		{"s3 other", s3, errors.New("x"), Error{Status: 500, Type: "InternalError", Message: "x"}},
		{"no unsupported answer", ErrorMap{}, unsupported, Error{Status: 500, Type: "InternalFailure", Message: unsupported.Error()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.Of(tc.err); *got != tc.want {
				t.Fatalf("Of(%v) = %+v, want %+v", tc.err, *got, tc.want)
			}
		})
	}
	if got := kinesis.Of(own); got != own {
		t.Error("Of copied an *Error instead of returning it")
	}
}

func TestErrorStatusAndFault(t *testing.T) {
	for _, tc := range []struct {
		status, want int
		fault        string
	}{{0, 400, "Sender"}, {404, 404, "Sender"}, {500, 500, "Receiver"}, {503, 503, "Receiver"}} {
		e := &Error{Status: tc.status, Type: "T"}
		if e.StatusCode() != tc.want || e.Fault() != tc.fault {
			t.Errorf("status %d: StatusCode %d Fault %s", tc.status, e.StatusCode(), e.Fault())
		}
	}
	if got := Errorf(400, "T", "n=%d", 3).Error(); got != "T: n=3" {
		t.Errorf("Error() = %q", got)
	}
}
