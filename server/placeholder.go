package server

// Stand-ins for the front ends that have not landed yet. Each keeps its
// port's contract honest in the meantime: a Kafka client gets a closed
// connection instead of a hang, an AWS client gets a protocol-shaped error
// instead of a 404 page. They remain the answer when a Config leaves
// NewKafka or NewAWS nil.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// closingKafka accepts Kafka connections and closes them at once. It replaces
// nothing and is replaced by gateway/kafka.
type closingKafka struct {
	log *slog.Logger

	mu     sync.Mutex
	ln     net.Listener
	closed bool
}

func newClosingKafka(log *slog.Logger) *closingKafka { return &closingKafka{log: log} }

func (k *closingKafka) Serve(ln net.Listener) error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	k.ln = ln
	k.mu.Unlock()
	defer ln.Close()

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if k.isClosed() {
				return nil
			}
			if retryableAccept(err) {
				// Out of file descriptors or similar: wait and retry, as
				// net/http does, rather than die under load.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				k.log.Warn("kafka accept failed; retrying", "err", err, "retry_in", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		k.log.Debug("kafka protocol not implemented yet; closing connection", "remote", c.RemoteAddr().String())
		_ = c.Close()
	}
}

func (k *closingKafka) Shutdown(context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if k.ln != nil {
		_ = k.ln.Close()
	}
	// Connections are closed as soon as they are accepted: nothing in flight.
	return nil
}

func (k *closingKafka) isClosed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.closed
}

// retryableAccept reports whether an Accept error is a passing resource
// shortage rather than a dead listener.
func retryableAccept(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// maxDiscard bounds how much of a request body the placeholder reads so the
// connection can be reused; beyond it the connection is simply closed.
const maxDiscard = 10 << 20

// unknownOperation answers every request on the AWS port the way AWS answers
// an operation it does not know: HTTP 400 with a JSON 1.1 error body, so SDKs
// surface "UnknownOperationException" instead of a parse error.
func unknownOperation(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get("X-Amz-Target") // JSON protocols: Kinesis_20131202.PutRecord, AmazonSQS.SendMessage
	if op == "" {
		// Query protocol (SQS from boto3 1.26, awscli): Action is a form
		// field. ParseForm reads only url-encoded bodies, at most 10 MB.
		_ = r.ParseForm()
		op = r.Form.Get("Action")
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxDiscard))
	msg := "this bridge does not serve AWS APIs yet (Kinesis, SQS and S3 front ends are coming)"
	if op != "" {
		msg = fmt.Sprintf("operation %s is not supported: %s", op, msg)
	}

	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-ErrorType", "UnknownOperationException")
	h.Set("X-Amzn-RequestId", requestID())
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{"UnknownOperationException", msg})
}

// requestID returns a random UUID-shaped id, the form AWS request ids take.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
