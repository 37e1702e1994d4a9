package awsapi

import (
	"github.com/streambridge/bridge/security/audit"

	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/streambridge/bridge/security/awscreds"
	"github.com/streambridge/bridge/security/sigv4"
)

// principalAPI answers with the principal the router put in the context.
type principalAPI struct{ calls int }

func (a *principalAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.calls++
	p, ok := PrincipalFrom(r.Context())
	body, _ := io.ReadAll(r.Body)
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": ok, "key": p.AccessKeyID, "name": p.Name, "action": r.FormValue("Action"), "body": string(body)})
}

// TestRouterAuthentication drives a router with a verifier through a real
// loopback server: requests signed by aws-sdk-go-v2's signer reach the API
// with their principal; refused ones get each API's wording and never
// reach it, and a log line says why without the secret.
func TestRouterAuthentication(t *testing.T) {
	now := time.Now().UTC() // the verifier's clock and the signer's: no threshold on it
	store, err := awscreds.New(awscreds.Credential{AccessKeyID: "AKIDROUTER", SecretAccessKey: "router-secret", Name: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	rt := NewRouter(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	kin, sqs := &principalAPI{}, &principalAPI{}
	for _, api := range []API{
		{Name: "Kinesis", Handler: kin, TargetPrefixes: []string{"Kinesis_20131202."}, Signing: sigv4.Service{Name: "kinesis"}},
		{Name: "SQS", Handler: sqs, TargetPrefixes: []string{"AmazonSQS."}, Actions: []string{"ListQueues"}, Signing: sigv4.Service{Name: "sqs"}, AuthWording: AuthQuery},
	} {
		if err := rt.Register(api); err != nil {
			t.Fatal(err)
		}
	}
	rt.SetAuthenticator(&sigv4.Verifier{Credentials: store, Region: "us-east-1", Now: func() time.Time { return now }})
	var auditLog bytes.Buffer
	rt.SetAudit(audit.New(&auditLog, nil))
	srv := httptest.NewServer(rt)
	defer srv.Close()

	kinesisReq := func() *http.Request {
		r, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(`{}`))
		r.Header.Set("Content-Type", ContentTypeJSON11)
		r.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
		return r
	}
	sqsJSONReq := func() *http.Request {
		r, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(`{}`))
		r.Header.Set("Content-Type", ContentTypeJSON10)
		r.Header.Set("X-Amz-Target", "AmazonSQS.ListQueues")
		return r
	}
	sqsQueryReq := func() *http.Request {
		r, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader("Action=ListQueues&Version=2012-11-05"))
		r.Header.Set("Content-Type", form)
		return r
	}
	sign := func(svc, secret string) func(*http.Request) {
		return func(r *http.Request) {
			var body []byte
			if r.Body != nil {
				body, _ = io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			sum := sha256.Sum256(body)
			creds := aws.Credentials{AccessKeyID: "AKIDROUTER", SecretAccessKey: secret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), svc, "us-east-1", now); err != nil {
				t.Fatal(err)
			}
		}
	}
	sqsGetReq := func() *http.Request {
		r, _ := http.NewRequest("GET", srv.URL+"/?Action=ListQueues&Version=2012-11-05", nil)
		return r
	}
	presign := func(secret string) func(*http.Request) {
		return func(r *http.Request) {
			q := r.URL.Query()
			q.Set("X-Amz-Expires", "300")
			r.URL.RawQuery = q.Encode()
			creds := aws.Credentials{AccessKeyID: "AKIDROUTER", SecretAccessKey: secret}
			sum := sha256.Sum256(nil)
			signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "sqs", "us-east-1", now)
			if err != nil {
				t.Fatal(err)
			}
			if r.URL, err = url.Parse(signed); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name       string
		req        func() *http.Request
		sign       func(*http.Request)
		api        *principalAPI
		wantStatus int
		wantType   string // __type of a JSON answer, Code of a Query one
		wantQuery  string // x-amzn-query-error
	}{
		{"kinesis signed", kinesisReq, sign("kinesis", "router-secret"), kin, 200, "", ""},
		{"kinesis wrong secret", kinesisReq, sign("kinesis", "nope"), kin, 400, "InvalidSignatureException", ""},
		{"kinesis signed for sqs", kinesisReq, sign("sqs", "router-secret"), kin, 400, "InvalidSignatureException", ""},
		{"kinesis unsigned", kinesisReq, nil, kin, 400, "MissingAuthenticationTokenException", ""},
		{"sqs json signed", sqsJSONReq, sign("sqs", "router-secret"), sqs, 200, "", ""},
		{"sqs json wrong secret", sqsJSONReq, sign("sqs", "nope"), sqs, 403, "com.amazon.coral.service#InvalidSignatureException", "SignatureDoesNotMatch;Sender"},
		{"sqs json unsigned", sqsJSONReq, nil, sqs, 403, "com.amazon.coral.service#MissingAuthenticationTokenException", "MissingAuthenticationToken;Sender"},
		{"sqs query signed", sqsQueryReq, sign("sqs", "router-secret"), sqs, 200, "", ""},
		{"sqs query wrong secret", sqsQueryReq, sign("sqs", "nope"), sqs, 403, "SignatureDoesNotMatch", ""},
		{"sqs query presigned GET", sqsGetReq, presign("router-secret"), sqs, 200, "", ""},
		{"sqs query presigned GET wrong secret", sqsGetReq, presign("nope"), sqs, 403, "SignatureDoesNotMatch", ""},
		{"sqs query incomplete", sqsQueryReq, func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDROUTER/20261204/us-east-1/sqs/aws4_request")
		}, sqs, 400, "IncompleteSignature", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req()
			if tt.sign != nil {
				tt.sign(req)
			}
			calls := tt.api.calls
			logs.Reset()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == 200 {
				var got struct {
					OK           bool
					Key, Name    string
					Action, Body string
				}
				if err := json.Unmarshal(body, &got); err != nil || !got.OK || got.Key != "AKIDROUTER" || got.Name != "ops" {
					t.Fatalf("API saw %s (%v)", body, err)
				}
				if got.Body == "" && got.Action == "" {
					t.Errorf("the API got neither the body nor the form: %s", body)
				}
				if !strings.Contains(logs.String(), `"msg":"aws: request authenticated"`) {
					t.Errorf("no debug line: %s", logs.String())
				}
				return
			}
			if tt.api.calls != calls {
				t.Error("a refused request reached the API")
			}
			var code string
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
				var x struct {
					Error struct{ Code, Message string }
				}
				if err := xml.Unmarshal(body, &x); err != nil {
					t.Fatalf("%v: %s", err, body)
				}
				code = x.Error.Code
			} else {
				var j struct {
					Type string `json:"__type"`
				}
				if err := json.Unmarshal(body, &j); err != nil {
					t.Fatalf("%v: %s", err, body)
				}
				code = j.Type
			}
			if code != tt.wantType || resp.Header.Get(HeaderQueryError) != tt.wantQuery {
				t.Errorf("code %q, x-amzn-query-error %q; want %q, %q: %s", code, resp.Header.Get(HeaderQueryError), tt.wantType, tt.wantQuery, body)
			}
			line := logs.String()
			if !strings.Contains(line, `"level":"WARN"`) || !strings.Contains(line, `"remote":"127.0.0.1:`) || strings.Contains(line, "router-secret") || strings.Contains(line, "Signature=") {
				t.Errorf("log line %s", line)
			}
			if tt.sign != nil && !strings.Contains(line, `"access_key_id":"AKIDROUTER"`) {
				t.Errorf("log line lacks the access key id: %s", line)
			}
			lines := strings.Split(strings.TrimSpace(auditLog.String()), "\n")
			if last := lines[len(lines)-1]; !strings.Contains(last, `"outcome":"failed"`) || !strings.Contains(last, `"sourceIPAddress":"127.0.0.1"`) ||
				!strings.Contains(last, `"eventName":"List`) || strings.Contains(last, "router-secret") {
				t.Errorf("last audit line %s, want this failure", last)
			}
		})
	}

	// Off by default: a router without an authenticator serves unsigned
	// requests and puts no principal in their context.
	rt.SetAuthenticator(nil)
	resp, err := http.Post(srv.URL+"/", form, strings.NewReader(url.Values{"Action": {"ListQueues"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"ok":false`) {
		t.Errorf("without an authenticator: %d %s", resp.StatusCode, body)
	}
}

// BenchmarkRouterAuthenticated is the cost SigV4 adds on the Kinesis data
// path: reading and hashing the body, the canonical request and the
// signature, for a small and a large PutRecords body.
func BenchmarkRouterAuthenticated(b *testing.B) {
	now := time.Now().UTC()
	store, err := awscreds.New(awscreds.Credential{AccessKeyID: "AKIDBENCH", SecretAccessKey: "bench-secret", Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	rt, _ := testRouter(b, false)
	rt.targets[0].api.h, rt.targets[0].api.signing = plainAPI{}, sigv4.Service{Name: "kinesis"}
	rt.SetAuthenticator(&sigv4.Verifier{Credentials: store, Region: "us-east-1", Now: func() time.Time { return now }})
	for _, size := range []int{1 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			body := bytes.Repeat([]byte("a"), size)
			req := request("POST", "/", ContentTypeJSON11, "", "X-Amz-Target", "Kinesis_20131202.PutRecords")
			sum := sha256.Sum256(body)
			creds := aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "bench-secret"}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "kinesis", "us-east-1", now); err != nil {
				b.Fatal(err)
			}
			w := httptest.NewRecorder()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(size)
				w.Body.Reset()
				rt.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
