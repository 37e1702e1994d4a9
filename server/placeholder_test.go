package server

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The AWS placeholder answers in the request's protocol: JSON with
// x-amzn-ErrorType for an X-Amz-Target, Query XML for an Action, S3-style
// XML for anything else.
func TestUnknownOperation(t *testing.T) {
	tests := []struct {
		name     string
		req      func() *http.Request
		wantType string // __type, or Code in XML
		wantMsg  string
		xmlBody  bool
	}{
		{"kinesis json", func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(`{"StreamName":"s"}`))
			r.Header.Set("X-Amz-Target", "Kinesis_20131202.DescribeStream")
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			return r
		}, "UnknownOperationException", "operation Kinesis_20131202.DescribeStream is not supported", false},
		{"sqs query", func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader("Action=ListQueues&Version=2012-11-05"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, "InvalidAction", "operation ListQueues is not supported", true},
		{"no operation", func() *http.Request { return httptest.NewRequest("GET", "/bucket/key", nil) },
			"UnknownOperationException", "operation GET /bucket/key is not supported", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			placeholderAWS(slog.New(slog.DiscardHandler)).ServeHTTP(w, tt.req())
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", w.Code)
			}
			if got := w.Header().Get("X-Amzn-ErrorType"); !tt.xmlBody && got != tt.wantType {
				t.Errorf("X-Amzn-ErrorType = %q", got)
			}
			if id := w.Header().Get("X-Amzn-RequestId"); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
				t.Errorf("X-Amzn-RequestId = %q, want a UUID", id)
			}
			var body struct {
				Type    string `json:"__type"`
				Code    string // XML
				Message string `json:"message"`
				Error   struct{ Code, Message string }
			}
			var err error
			if tt.xmlBody {
				err = xml.Unmarshal(w.Body.Bytes(), &body)
				if body.Error.Code != "" { // Query: <ErrorResponse><Error>
					body.Code, body.Message = body.Error.Code, body.Error.Message
				}
				body.Type = body.Code
			} else {
				err = json.Unmarshal(w.Body.Bytes(), &body)
			}
			if err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if body.Type != tt.wantType || !strings.Contains(body.Message, tt.wantMsg) {
				t.Fatalf("body = %+v, want %s with %q", body, tt.wantType, tt.wantMsg)
			}
		})
	}
}

// The Kafka placeholder must close connections, not leave clients hanging,
// and must return nil from Serve once shut down.
func TestClosingKafka(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := newClosingKafka(slog.New(slog.DiscardHandler))
	served := make(chan error, 1)
	go func() { served <- k.Serve(ln) }()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read from placeholder = %d, %v; want EOF", n, err)
	}
	c.Close()

	if err := k.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after Shutdown = %v, want nil", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("listener still accepts after Shutdown")
	}
}

func TestClosingKafkaShutdownBeforeServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := newClosingKafka(slog.New(slog.DiscardHandler))
	k.Shutdown(t.Context())
	if err := k.Serve(ln); err != nil {
		t.Fatalf("Serve after Shutdown = %v, want nil", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("Serve after Shutdown left the listener open")
	}
}
