package awsapi

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// echoAPI answers with its name, the Query Action it sees and the body it
// got, so a test sees where a request went and what reached it.
type echoAPI struct {
	name      string
	shutdowns atomic.Int32
	err       error
}

func (a *echoAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	io.WriteString(w, a.name+"|"+r.FormValue("Action")+"|"+string(body))
}

func (a *echoAPI) Shutdown(context.Context) error {
	a.shutdowns.Add(1)
	return a.err
}

// plainAPI has no Shutdown method.
type plainAPI struct{}

func (plainAPI) ServeHTTP(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "plain||") }

func testRouter(t testing.TB, withS3 bool) (*Router, map[string]*echoAPI) {
	t.Helper()
	apis := map[string]*echoAPI{"kinesis": {name: "kinesis"}, "sqs": {name: "sqs"}, "s3": {name: "s3"}}
	rt := NewRouter(nil)
	for _, api := range []API{
		{Name: "Kinesis", Handler: apis["kinesis"], TargetPrefixes: []string{"Kinesis_20131202."}},
		{Name: "SQS", Handler: apis["sqs"], TargetPrefixes: []string{"AmazonSQS."}, Actions: []string{"ListQueues", "SendMessage"}},
	} {
		if err := rt.Register(api); err != nil {
			t.Fatal(err)
		}
	}
	if withS3 {
		if err := rt.Register(API{Name: "S3", Handler: apis["s3"], PathPrefixes: []string{"/"}}); err != nil {
			t.Fatal(err)
		}
	}
	return rt, apis
}

func request(method, target, contentType, body string, header ...string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

const form = "application/x-www-form-urlencoded"

func TestRouterDispatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  *http.Request
		want string // the echo: api|Action|body
	}{
		{"kinesis json", request("POST", "/", ContentTypeJSON11, `{"StreamName":"s"}`, "X-Amz-Target", "Kinesis_20131202.PutRecord"), `kinesis||{"StreamName":"s"}`},
		{"kinesis cbor", request("POST", "/", ContentTypeCBOR11, "\xa0", "X-Amz-Target", "Kinesis_20131202.GetRecords"), "kinesis||\xa0"},
		{"sqs json", request("POST", "/", ContentTypeJSON10, `{}`, "X-Amz-Target", "AmazonSQS.SendMessage"), "sqs||{}"},
		{"sqs query form to /", request("POST", "/", form, "Action=ListQueues&Version=2012-11-05", ""), "sqs|ListQueues|"},
		{"sqs query form to a queue url", request("POST", "/000000000000/q", form+"; charset=utf-8", "Action=SendMessage&MessageBody=x", ""), "sqs|SendMessage|"},
		{"sqs query get", request("GET", "/?Action=ListQueues&Version=2012-11-05", "", ""), "sqs|ListQueues|"},
		{"sqs query get to a queue url", request("GET", "/000000000000/q?Action=SendMessage&MessageBody=x", "", ""), "sqs|SendMessage|"},
		{"s3 get", request("GET", "/bucket/key", "", ""), "s3||"},
		{"s3 uncleaned key", request("GET", "/bucket/a//b/../c", "", ""), "s3||"},
		{"s3 put of a form-typed object keeps its body", request("PUT", "/bucket/key", form, "a=b&Action=ListQueues"), "s3||a=b&Action=ListQueues"},
		{"s3 get with an Action-like key", request("GET", "/bucket/key?NotAction=ListQueues", "", ""), "s3||"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt, _ := testRouter(t, true)
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, tc.req)
			if w.Code != 200 || w.Body.String() != tc.want {
				t.Fatalf("got %d %q, want 200 %q", w.Code, w.Body, tc.want)
			}
		})
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRouterFallback(t *testing.T) {
	const serves = "by this bridge, which serves Kinesis, SQS on this port"
	for _, tc := range []struct {
		name        string
		req         *http.Request
		wantCT      string
		wantType    string // __type, or Code in XML
		wantMessage string
		decode      func(body []byte) (typ, msg, requestID string, err error)
	}{
		{"json target of no api", request("POST", "/", ContentTypeJSON11, `{"TableName":"t"}`, "X-Amz-Target", "DynamoDB_20120810.PutItem"),
			ContentTypeJSON11, TypeUnknownOperation, "operation DynamoDB_20120810.PutItem is not supported " + serves, decodeJSONError},
		{"json 1.0 answered in json 1.0", request("POST", "/", ContentTypeJSON10, `{}`, "X-Amz-Target", "AmazonSNS.Publish"),
			ContentTypeJSON10, TypeUnknownOperation, "operation AmazonSNS.Publish is not supported " + serves, decodeJSONError},
		{"cbor answered in cbor", request("POST", "/", ContentTypeCBOR11, "\xa0", "X-Amz-Target", "Other.Op"),
			ContentTypeCBOR11, TypeUnknownOperation, "operation Other.Op is not supported " + serves, decodeCBORError},
		{"query action of no api", request("POST", "/", form, "Action=Publish&TopicArn=x", ""),
			"text/xml", CodeInvalidAction, "operation Publish is not supported " + serves, decodeQueryError},
		{"query get action of no api", request("GET", "/?Action=AssumeRole", "", ""),
			"text/xml", CodeInvalidAction, "operation AssumeRole is not supported " + serves, decodeQueryError},
		{"query without action", request("POST", "/", form, "Version=2012-11-05", ""),
			"text/xml", CodeMissingAction, "a Query request needs an Action parameter", decodeQueryError},
		{"query form that does not parse", request("POST", "/", form, "Action=SendMessage&MessageBody=%zz", ""),
			"text/xml", CodeMalformedQueryString, `the request's parameters do not parse: invalid URL escape "%zz"`, decodeQueryError},
		{"query url that does not parse", request("GET", "/?Action=ListQueues&QueueNamePrefix=%zz", "", ""),
			"text/xml", CodeMalformedQueryString, `the request's parameters do not parse: invalid URL escape "%zz"`, decodeQueryError},
		{"rest path of no api", request("GET", "/bucket/key", "", ""),
			"application/xml", TypeUnknownOperation, "operation GET /bucket/key is not supported " + serves, decodeRESTError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt, apis := testRouter(t, false)
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, tc.req)
			if w.Code != http.StatusBadRequest || w.Header().Get("Content-Type") != tc.wantCT {
				t.Fatalf("got %d %q, want 400 %q", w.Code, w.Header().Get("Content-Type"), tc.wantCT)
			}
			id := w.Header().Get("X-Amzn-RequestId")
			if !uuidV4.MatchString(id) {
				t.Errorf("request id %q is not a version 4 UUID", id)
			}
			typ, msg, bodyID, err := tc.decode(w.Body.Bytes())
			if err != nil || typ != tc.wantType || msg != tc.wantMessage {
				t.Fatalf("body %q: %q %q %v; want %q %q", w.Body, typ, msg, err, tc.wantType, tc.wantMessage)
			}
			if bodyID != "" && bodyID != id {
				t.Errorf("body's request id %q, header's %q", bodyID, id)
			}
			if strings.HasPrefix(tc.wantCT, "application/x-amz") != (w.Header().Get("X-Amzn-ErrorType") == tc.wantType) {
				t.Errorf("x-amzn-ErrorType %q", w.Header().Get("X-Amzn-ErrorType"))
			}
			if n := tc.req.Body.(io.Reader); n != nil {
				if rest, _ := io.ReadAll(n); len(rest) != 0 {
					t.Errorf("body left unread: %q", rest)
				}
			}
			for _, a := range apis {
				if a.shutdowns.Load() != 0 {
					t.Error("shut down")
				}
			}
		})
	}
}

func TestRouterWithoutAPIs(t *testing.T) {
	w := httptest.NewRecorder()
	NewRouter(nil).ServeHTTP(w, request("POST", "/", "", "{}", "X-Amz-Target", "Kinesis_20131202.ListStreams"))
	typ, msg, _, err := decodeJSONError(w.Body.Bytes())
	if w.Code != 400 || err != nil || typ != TypeUnknownOperation ||
		msg != "operation Kinesis_20131202.ListStreams is not supported by this bridge, which serves no AWS API on this port yet" {
		t.Fatalf("%d %q %q %v", w.Code, typ, msg, err)
	}
}

// decodeRPCError reads a JSON or CBOR error body.
func decodeRPCError(c Codec) func([]byte) (typ, msg, id string, err error) {
	return func(b []byte) (typ, msg, id string, err error) {
		var body map[string]string
		err = c.Decode(b, &body)
		return body["__type"], body["message"], "", err
	}
}

var decodeJSONError, decodeCBORError = decodeRPCError(JSON11{}), decodeRPCError(CBOR{})

func decodeQueryError(b []byte) (typ, msg, id string, err error) {
	var body struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Error   struct{ Type, Code, Message string }
		ID      string `xml:"RequestId"`
	}
	if err = xml.Unmarshal(b, &body); err == nil && body.Error.Type != "Sender" {
		err = errors.New("fault " + body.Error.Type)
	}
	return body.Error.Code, body.Error.Message, body.ID, err
}

func decodeRESTError(b []byte) (typ, msg, id string, err error) {
	var body struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
		ID      string `xml:"RequestId"`
	}
	err = xml.Unmarshal(b, &body)
	return body.Code, body.Message, body.ID, err
}

func TestRouterRegisterRefusesConflicts(t *testing.T) {
	rt, _ := testRouter(t, true)
	for _, api := range []API{
		{Handler: plainAPI{}, TargetPrefixes: []string{"X."}},
		{Name: "NoHandler", TargetPrefixes: []string{"X."}},
		{Name: "NoRoutes", Handler: plainAPI{}},
		{Name: "Kinesis2", Handler: plainAPI{}, TargetPrefixes: []string{"Kinesis_20131202."}},
		{Name: "Longer", Handler: plainAPI{}, TargetPrefixes: []string{"AmazonSQS.Fast"}},
		{Name: "Shorter", Handler: plainAPI{}, TargetPrefixes: []string{"Amazon"}},
		{Name: "Empty", Handler: plainAPI{}, TargetPrefixes: []string{""}},
		{Name: "SNS", Handler: plainAPI{}, Actions: []string{"Publish", "ListQueues"}},
		{Name: "S3again", Handler: plainAPI{}, PathPrefixes: []string{"/"}},
		{Name: "Relative", Handler: plainAPI{}, PathPrefixes: []string{"bucket"}},
	} {
		if err := rt.Register(api); err == nil {
			t.Errorf("Register(%+v) succeeded", api)
		}
	}
	// A refused API left nothing behind: Publish is still nobody's.
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, request("GET", "/?Action=Publish", "", ""))
	if w.Code != 400 {
		t.Errorf("Publish answered %d %s", w.Code, w.Body)
	}
}

func TestRouterLongestPathWins(t *testing.T) {
	rt := NewRouter(nil)
	for _, api := range []API{
		{Name: "all", Handler: &echoAPI{name: "all"}, PathPrefixes: []string{"/"}},
		{Name: "special", Handler: &echoAPI{name: "special"}, PathPrefixes: []string{"/_special/"}},
	} {
		if err := rt.Register(api); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{"/_special/x": "special||", "/_specialx": "all||", "/b/k": "all||"} {
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, request("GET", path, "", ""))
		if w.Body.String() != want {
			t.Errorf("%s went to %q, want %q", path, w.Body, want)
		}
	}
}

func TestRouterShutdown(t *testing.T) {
	rt, apis := testRouter(t, true)
	apis["s3"].err = errors.New("s3 would not stop")
	if err := rt.Register(API{Name: "Plain", Handler: plainAPI{}, PathPrefixes: []string{"/plain"}}); err != nil {
		t.Fatal(err)
	}
	err := rt.Shutdown(context.Background())
	if err == nil || !strings.Contains(err.Error(), "s3 would not stop") {
		t.Errorf("Shutdown = %v, want s3's error", err)
	}
	for name, a := range apis {
		// SQS has two kinds of routes and still hears once.
		if n := a.shutdowns.Load(); n != 1 {
			t.Errorf("%s heard Shutdown %d times", name, n)
		}
	}
}

// BenchmarkRouterTarget is the router's cost on the Kinesis data path:
// finding the API of an X-Amz-Target request.
func BenchmarkRouterTarget(b *testing.B) {
	rt, _ := testRouter(b, true)
	rt.targets[0].api.h = plainAPI{}
	req := request("POST", "/", ContentTypeJSON11, "", "X-Amz-Target", "Kinesis_20131202.PutRecords")
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		w.Body.Reset()
		rt.ServeHTTP(w, req)
	}
}

// An API that is the Query fallback gets the Query requests whose Action
// no API serves, and only those; a second fallback is refused.
func TestRouterQueryFallback(t *testing.T) {
	rt := NewRouter(nil)
	kinesis, sqs := &echoAPI{name: "kinesis"}, &echoAPI{name: "sqs"}
	if err := rt.Register(API{Name: "Kinesis", Handler: kinesis, TargetPrefixes: []string{"Kinesis_20131202."}}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Register(API{Name: "SQS", Handler: sqs, Actions: []string{"ListQueues"}, QueryFallback: true}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Register(API{Name: "Other", Handler: plainAPI{}, Actions: []string{"X"}, QueryFallback: true}); err == nil {
		t.Fatal("a second Query fallback was registered")
	}
	for _, tc := range []struct {
		req  *http.Request
		code int
		want string
	}{
		{request("POST", "/", form, "Action=NoSuchOperation"), 200, "sqs|NoSuchOperation|"},
		{request("GET", "/?Action=Other", "", ""), 200, "sqs|Other|"},
		{request("POST", "/", form, "Version=2012-11-05"), 400, ""}, // no Action: the router's MissingAction
		{request("POST", "/", ContentTypeJSON10, "{}", "X-Amz-Target", "AmazonSQS.ListQueues"), 400, ""},
	} {
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, tc.req)
		if w.Code != tc.code || tc.want != "" && w.Body.String() != tc.want {
			t.Errorf("%s %s: got %d %q, want %d %q", tc.req.Method, tc.req.URL, w.Code, w.Body, tc.code, tc.want)
		}
	}
}
