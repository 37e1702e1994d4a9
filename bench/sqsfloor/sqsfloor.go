// Package sqsfloor is the least an SQS endpoint can do for `bridge bench
// sqs`: standard queues in memory that answer the calls the bench makes
// (CreateQueue, SendMessageBatch, ReceiveMessage with long polls,
// DeleteMessageBatch, GetQueueAttributes, DeleteQueue) over AWS JSON 1.0,
// and nothing else.
//
// It exists to measure what this machine and the load generator allow:
// the bench runs it as more targets (`--compare-floor`), and its figures
// are a ceiling no real server reaches, since it keeps no visibility
// timeouts (a received message stays in flight until deleted), checks no
// receipt handle beyond looking it up, validates nothing the bench does not
// send, and writes to disk either nothing or, with a SyncLog, only a record
// of each call's changes, synced before the answer. What it pays is what any
// SQS endpoint pays: net/http, decoding the requests (encoding/json), the
// MD5s of the bodies the SDK checks, the answers, and with a SyncLog the
// fdatasyncs a durable one needs.
package sqsfloor

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Handler serves the floor's queues. The zero value is ready to use and
// keeps everything in memory only.
type Handler struct {
	// Log, when set, makes the floor durable the least way it can be:
	// each SendMessageBatch, ReceiveMessage that returns messages and
	// DeleteMessageBatch writes what it changed to Log and answers once
	// that is synced, as a server whose answers survive kill -9 must.
	Log *SyncLog

	mu     sync.Mutex
	queues map[string]*queue
	nextID uint64 // message ids, unique across queues
}

type message struct {
	id   string
	body string
}

// queue is one standard queue: the visible messages in order, and the
// received ones by receipt handle until they are deleted.
type queue struct {
	mu       sync.Mutex
	visible  []message
	inFlight map[string]struct{}
	// arrived is closed (and replaced) when messages are sent, waking
	// the long polls waiting on it.
	arrived chan struct{}
}

const (
	targetPrefix = "AmazonSQS."
	account      = "000000000000"
	maxWait      = 20 * time.Second
)

type request struct {
	QueueName           string
	QueueUrl            string
	MaxNumberOfMessages int
	WaitTimeSeconds     int
	Entries             []struct {
		Id            string
		MessageBody   string
		ReceiptHandle string
	}
}

// errorCode is an SQS error: its JSON __type and its query error code.
type errorCode struct{ typ, query string }

var (
	errNoQueue      = errorCode{"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"}
	errInvalidParam = errorCode{"InvalidParameterValue", "InvalidParameterValue"}
	errUnsupported  = errorCode{"UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation"}
	errInternal     = errorCode{"InternalError", "InternalError"}
)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if !ok || r.Method != http.MethodPost {
		writeError(w, errUnsupported, "the floor speaks AWS JSON 1.0 only")
		return
	}
	var in request
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, errInvalidParam, "malformed request: "+err.Error())
		return
	}
	out := make([]byte, 0, 1024)
	var err error
	switch op {
	case "CreateQueue":
		out, err = h.createQueue(out, r.Host, in.QueueName)
	case "DeleteQueue":
		out, err = h.deleteQueue(out, in.QueueUrl)
	case "GetQueueAttributes":
		out, err = h.attributes(out, in.QueueUrl)
	case "SendMessageBatch":
		out, err = h.send(out, &in)
	case "ReceiveMessage":
		out, err = h.receive(r.Context(), out, &in)
	case "DeleteMessageBatch":
		out, err = h.delete(out, &in)
	default:
		err = &sqsError{errUnsupported, op + " is not served by the floor"}
	}
	if e := (*sqsError)(nil); errors.As(err, &e) {
		writeError(w, e.code, e.message)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = w.Write(out)
}

type sqsError struct {
	code    errorCode
	message string
}

func (e *sqsError) Error() string { return e.code.typ + ": " + e.message }

func writeError(w http.ResponseWriter, code errorCode, message string) {
	status, fault := http.StatusBadRequest, "Sender"
	if code == errInternal {
		status, fault = http.StatusInternalServerError, "Receiver"
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-query-error", code.query+";"+fault)
	w.WriteHeader(status)
	b := append([]byte(`{"__type":"com.amazonaws.sqs#`), code.typ...)
	b = append(b, `","message":`...)
	b = appendString(b, message)
	_, _ = w.Write(append(b, '}'))
}

func (h *Handler) createQueue(out []byte, host, name string) ([]byte, error) {
	if name == "" || strings.HasSuffix(name, ".fifo") {
		return nil, &sqsError{errInvalidParam, "the floor serves standard queues only, by a non-empty name"}
	}
	h.mu.Lock()
	if h.queues == nil {
		h.queues = make(map[string]*queue)
	}
	if h.queues[name] == nil {
		h.queues[name] = &queue{inFlight: make(map[string]struct{}), arrived: make(chan struct{})}
	}
	h.mu.Unlock()
	out = append(out, `{"QueueUrl":`...)
	return append(appendString(out, "http://"+host+"/"+account+"/"+name), '}'), nil
}

// lookup finds a queue by URL or by name.
func (h *Handler) lookup(url string) (*queue, error) {
	name := url[strings.LastIndexByte(url, '/')+1:]
	h.mu.Lock()
	q := h.queues[name]
	h.mu.Unlock()
	if q == nil {
		return nil, &sqsError{errNoQueue, "The specified queue does not exist."}
	}
	return q, nil
}

func (h *Handler) deleteQueue(out []byte, url string) ([]byte, error) {
	if _, err := h.lookup(url); err != nil {
		return nil, err
	}
	h.mu.Lock()
	delete(h.queues, url[strings.LastIndexByte(url, '/')+1:])
	h.mu.Unlock()
	return append(out, `{}`...), nil
}

func (h *Handler) attributes(out []byte, url string) ([]byte, error) {
	q, err := h.lookup(url)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	visible, inFlight := len(q.visible), len(q.inFlight)
	q.mu.Unlock()
	out = append(out, `{"Attributes":{"ApproximateNumberOfMessages":"`...)
	out = strconv.AppendInt(out, int64(visible), 10)
	out = append(out, `","ApproximateNumberOfMessagesNotVisible":"`...)
	out = strconv.AppendInt(out, int64(inFlight), 10)
	return append(out, `","ApproximateNumberOfMessagesDelayed":"0"}}`...), nil
}

func (h *Handler) send(out []byte, in *request) ([]byte, error) {
	q, err := h.lookup(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	first := h.nextID
	h.nextID += uint64(len(in.Entries))
	h.mu.Unlock()
	msgs := make([]message, len(in.Entries))
	var rec []byte
	out = append(out, `{"Successful":[`...)
	for i, e := range in.Entries {
		msgs[i] = message{id: "m-" + strconv.FormatUint(first+uint64(i), 10), body: e.MessageBody}
		if h.Log != nil {
			rec = append(append(rec, msgs[i].id...), e.MessageBody...)
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"Id":`...)
		out = appendString(out, e.Id)
		out = append(out, `,"MessageId":"`...)
		out = append(out, msgs[i].id...)
		out = append(out, `","MD5OfMessageBody":"`...)
		out = appendMD5(out, e.MessageBody)
		out = append(out, `"}`...)
	}
	if err := h.sync(rec); err != nil {
		return nil, err
	}
	q.mu.Lock()
	q.visible = append(q.visible, msgs...)
	close(q.arrived)
	q.arrived = make(chan struct{})
	q.mu.Unlock()
	return append(out, `]}`...), nil
}

func (h *Handler) receive(ctx context.Context, out []byte, in *request) ([]byte, error) {
	q, err := h.lookup(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	limit := min(max(in.MaxNumberOfMessages, 1), 10)
	var timeout <-chan time.Time
	if in.WaitTimeSeconds > 0 {
		t := time.NewTimer(min(time.Duration(in.WaitTimeSeconds)*time.Second, maxWait))
		defer t.Stop()
		timeout = t.C
	}
	var got []message
	for {
		q.mu.Lock()
		n := min(limit, len(q.visible))
		got = append(got, q.visible[:n]...)
		q.visible = q.visible[n:]
		for _, m := range got {
			q.inFlight[m.id] = struct{}{}
		}
		arrived := q.arrived
		q.mu.Unlock()
		if len(got) > 0 || timeout == nil {
			break
		}
		select {
		case <-arrived:
		case <-timeout:
			timeout = nil
		case <-ctx.Done():
			timeout = nil
		}
	}
	if h.Log != nil && len(got) > 0 {
		var rec []byte
		for _, m := range got {
			rec = append(rec, m.id...)
		}
		if err := h.sync(rec); err != nil {
			return nil, err // the messages stay in flight, as after a crash
		}
	}
	out = append(out, `{"Messages":[`...)
	for i, m := range got {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"MessageId":"`...)
		out = append(out, m.id...)
		out = append(out, `","ReceiptHandle":"`...)
		out = append(out, m.id...) // the handle is the id: the floor keeps no receipts
		out = append(out, `","MD5OfBody":"`...)
		out = appendMD5(out, m.body)
		out = append(out, `","Body":`...)
		out = appendString(out, m.body)
		out = append(out, '}')
	}
	return append(out, `]}`...), nil
}

func (h *Handler) delete(out []byte, in *request) ([]byte, error) {
	q, err := h.lookup(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	var failed []string
	succeeded := 0
	out = append(out, `{"Successful":[`...)
	q.mu.Lock()
	for _, e := range in.Entries {
		if _, ok := q.inFlight[e.ReceiptHandle]; !ok {
			failed = append(failed, e.Id)
			continue
		}
		delete(q.inFlight, e.ReceiptHandle)
		if succeeded > 0 {
			out = append(out, ',')
		}
		succeeded++
		out = append(out, `{"Id":`...)
		out = appendString(out, e.Id)
		out = append(out, '}')
	}
	q.mu.Unlock()
	if h.Log != nil {
		var rec []byte
		for _, e := range in.Entries {
			rec = append(rec, e.ReceiptHandle...)
		}
		if err := h.sync(rec); err != nil {
			return nil, err
		}
	}
	out = append(out, `],"Failed":[`...)
	for i, id := range failed {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"Id":`...)
		out = appendString(out, id)
		out = append(out, `,"Code":"ReceiptHandleIsInvalid","Message":"The input receipt handle is invalid.","SenderFault":true}`...)
	}
	return append(out, `]}`...), nil
}

// sync writes rec to h.Log, if any, and waits until it is synced.
func (h *Handler) sync(rec []byte) error {
	if h.Log == nil {
		return nil
	}
	if err := h.Log.Write(rec); err != nil {
		return &sqsError{errInternal, "the floor's log: " + err.Error()}
	}
	return nil
}

func appendMD5(out []byte, s string) []byte {
	sum := md5.Sum([]byte(s))
	return hex.AppendEncode(out, sum[:])
}

// appendString appends s as a JSON string: printable ASCII without quotes
// or backslashes as it is, anything else through encoding/json.
func appendString(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b, _ := json.Marshal(s)
			return append(out, b...)
		}
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}
