package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/connect"
)

// pending is a record Put buffered, with its value already encoded: a batch
// element (JSON) or, with batch.format=single, the whole body.
type pending struct {
	rec         connect.Record
	data        []byte
	contentType string // single only
}

// task is HttpSinkTask. The runtime calls it from one goroutine; only Stop
// comes from another, and it only cancels.
type task struct {
	tc     connect.SinkTaskContext
	s      settings
	client *nethttp.Client
	buf    []pending
	bytes  int // sum of len(data) in buf

	stopCtx context.Context
	stop    context.CancelFunc
	// sleep waits between retries; tests replace it to see the waits
	// without spending them.
	sleep func(ctx context.Context, d time.Duration) error
}

func (t *task) Start(_ context.Context, tc connect.SinkTaskContext, cfg connect.Config) error {
	s, err := parseConfig(cfg)
	if err != nil {
		return err
	}
	t.tc, t.s = tc, s
	transport := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
	t.client = &nethttp.Client{Timeout: s.timeout, Transport: transport}
	t.stopCtx, t.stop = context.WithCancel(context.Background())
	if t.sleep == nil {
		t.sleep = sleepCtx
	}
	return nil
}

func (t *task) Open(context.Context, []connect.TopicPartition) error { return nil }

// Close forgets the buffered records of revoked partitions: their next owner
// reads them again from the committed offsets.
func (t *task) Close(_ context.Context, tps []connect.TopicPartition) error {
	revoked := make(map[connect.TopicPartition]bool, len(tps))
	for _, tp := range tps {
		revoked[tp] = true
	}
	kept := t.buf[:0]
	t.bytes = 0
	for _, p := range t.buf {
		if !revoked[topicPartition(p.rec)] {
			kept = append(kept, p)
			t.bytes += len(p.data)
		}
	}
	clear(t.buf[len(kept):])
	t.buf = kept
	return nil
}

// Put encodes recs and sends them, in batches of at most batch.max.size
// records and batch.max.bytes.
func (t *task) Put(ctx context.Context, recs []connect.Record) error {
	ctx, cancel := t.merge(ctx)
	defer cancel()
	for _, rec := range recs {
		p := pending{rec: rec}
		var err error
		if t.s.format == FormatSingle {
			p.data, p.contentType, err = singleBody(rec.ValueSchema, rec.Value)
		} else {
			var b bytes.Buffer
			err = encodeJSON(&b, rec.ValueSchema, rec.Value)
			p.data = b.Bytes()
		}
		if err != nil {
			if err := t.tc.Report(ctx, rec, err); err != nil {
				return err
			}
			continue
		}
		t.buf = append(t.buf, p)
		t.bytes += len(p.data)
		for t.full() {
			if err := t.sendFront(ctx); err != nil {
				return err
			}
		}
	}
	// The rest goes now too, not at the next PreCommit: the worker keeps a
	// record as it was consumed (what its dead letter queue writes) only
	// while the Put of its batch runs, so a refusal must be reported
	// within it; and a trickle of records should not wait a whole
	// offset.flush.interval.ms. Put's batches are a poll's records, up to
	// batch.max.size under load.
	// An endpoint that is down past max.retries keeps the records buffered
	// for PreCommit to try again, as before; a refusal that
	// errors.tolerance=none does not tolerate fails the Put.
	for len(t.buf) > 0 {
		if err := t.sendFront(ctx); err != nil {
			if errors.As(err, new(undelivered)) {
				slog.Warn("http sink: batch not delivered; PreCommit retries it", "err", err)
				return nil
			}
			return err
		}
	}
	return nil
}

// undelivered is a batch's delivery failure once its retries were spent,
// as opposed to an error of the record reporter.
type undelivered struct{ error }

func (u undelivered) Unwrap() error { return u.error }

// full reports whether the buffer holds a whole batch.
func (t *task) full() bool {
	return len(t.buf) >= t.s.maxSize || t.overhead(len(t.buf))+t.bytes >= t.s.maxBytes
}

// overhead is what a body of n records adds to their values: a comma or a
// newline each, and an array's brackets less its last comma.
func (t *task) overhead(n int) int {
	if t.s.format == FormatJSONArray {
		return n + 1
	}
	return n
}

// PreCommit sends everything buffered and returns the offsets delivered: all
// of them, unless sending failed.
func (t *task) PreCommit(ctx context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	ctx, cancel := t.merge(ctx)
	defer cancel()
	var err error
	for len(t.buf) > 0 && err == nil {
		err = t.sendFront(ctx)
	}
	return t.safeOffsets(offsets), err
}

// safeOffsets lowers offsets to the first record still buffered of each
// partition: nothing from it on has been delivered.
func (t *task) safeOffsets(offsets map[connect.TopicPartition]int64) map[connect.TopicPartition]int64 {
	out := make(map[connect.TopicPartition]int64, len(offsets))
	for tp, off := range offsets {
		out[tp] = off
	}
	seen := make(map[connect.TopicPartition]bool)
	for _, p := range t.buf {
		tp := topicPartition(p.rec)
		if seen[tp] {
			continue
		}
		seen[tp] = true
		if off, ok := out[tp]; ok && p.rec.Offset < off {
			out[tp] = p.rec.Offset
		}
	}
	return out
}

// sendFront sends the batch at the front of the buffer and drops the records
// it settled (delivered or reported).
func (t *task) sendFront(ctx context.Context) error {
	n, size := 1, len(t.buf[0].data)
	for n < len(t.buf) && n < t.s.maxSize && size+len(t.buf[n].data)+t.overhead(n+1) <= t.s.maxBytes {
		size += len(t.buf[n].data)
		n++
	}
	done, err := t.send(ctx, t.buf[:n])
	for _, p := range t.buf[:done] {
		t.bytes -= len(p.data)
	}
	clear(t.buf[:done])
	t.buf = t.buf[done:]
	return err
}

// send delivers batch, splitting it when the endpoint refuses it, and
// returns how many of its records (from the front) are settled.
func (t *task) send(ctx context.Context, batch []pending) (int, error) {
	refused, err := t.deliver(ctx, batch)
	if err != nil {
		return 0, undelivered{err}
	}
	if refused == nil {
		return len(batch), nil
	}
	if len(batch) == 1 {
		slog.Debug("http sink: record refused", "topic", batch[0].rec.Topic, "partition", batch[0].rec.Partition, "offset", batch[0].rec.Offset, "error", refused)
		if err := t.tc.Report(ctx, batch[0].rec, refused); err != nil {
			return 0, err
		}
		return 1, nil
	}
	// Some record of the batch is refused: halve until the refused ones
	// are alone, sending the halves in order.
	half := len(batch) / 2
	done, err := t.send(ctx, batch[:half])
	if err != nil {
		return done, err
	}
	more, err := t.send(ctx, batch[half:])
	return done + more, err
}

// deliver sends one request, retrying it on 5xx, 429, connection errors and
// timeouts. It returns refused for another answer that is not 2xx, and err
// when the retries are spent or ctx ends.
func (t *task) deliver(ctx context.Context, batch []pending) (refused, err error) {
	body, contentType := t.body(batch)
	for attempt := 0; ; attempt++ {
		wait, failure := t.attempt(ctx, body, contentType)
		switch {
		case failure == nil:
			return nil, nil
		case wait < 0:
			return failure, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case attempt >= t.s.maxRetries:
			return nil, fmt.Errorf("http sink: %s %s failed after %d retries: %w", t.s.method, t.s.url, attempt, failure)
		}
		if wait == 0 {
			wait = min(t.s.backoff<<attempt, maxBackoff)
			if t.s.backoff<<attempt <= 0 { // shifted past int64
				wait = maxBackoff
			}
		}
		slog.Debug("http sink: retrying", "attempt", attempt+1, "wait", wait, "error", failure)
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// attempt sends one request. failure is nil on 2xx; wait is -1 when the
// failure is not worth retrying, the Retry-After delay when the answer gave
// one, 0 for the backoff.
func (t *task) attempt(ctx context.Context, body []byte, contentType string) (wait time.Duration, failure error) {
	req, err := nethttp.NewRequestWithContext(ctx, t.s.method, t.s.url, bytes.NewReader(body))
	if err != nil {
		return -1, err
	}
	for _, h := range t.s.headers {
		req.Header.Add(h.name, h.value)
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	switch t.s.authType {
	case AuthBasic:
		req.SetBasicAuth(t.s.user, t.s.pass)
	case AuthBearer:
		req.Header.Set("Authorization", "Bearer "+t.s.token)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, err // connection refused or reset, timeout: retry
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	failure = fmt.Errorf("HTTP %d %s: %s", resp.StatusCode, nethttp.StatusText(resp.StatusCode), strings.TrimSpace(string(answer)))
	if resp.StatusCode == nethttp.StatusTooManyRequests || resp.StatusCode >= 500 {
		return retryAfter(resp.Header.Get("Retry-After"), time.Now()), failure
	}
	return -1, failure
}

// retryAfter reads a Retry-After header: delay seconds or an HTTP date. It
// returns 0 (use the backoff) when there is none or it cannot be read.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if at, err := nethttp.ParseTime(v); err == nil {
		if d := at.Sub(now); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}

// maxRetryAfter bounds a server's Retry-After, so a mistaken answer cannot
// park the task for days.
const maxRetryAfter = 15 * time.Minute

// body builds the request body of batch in the configured format.
func (t *task) body(batch []pending) ([]byte, string) {
	switch t.s.format {
	case FormatSingle:
		return batch[0].data, batch[0].contentType
	case FormatNDJSON:
		var b bytes.Buffer
		for _, p := range batch {
			b.Write(p.data)
			b.WriteByte('\n')
		}
		return b.Bytes(), "application/x-ndjson"
	default:
		var b bytes.Buffer
		b.WriteByte('[')
		for i, p := range batch {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(p.data)
		}
		b.WriteByte(']')
		return b.Bytes(), "application/json"
	}
}

// merge returns ctx, also ended by Stop.
func (t *task) merge(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(t.stopCtx, cancel)
	return ctx, func() { stop(); cancel() }
}

func (t *task) Stop() error {
	if t.stop != nil {
		t.stop()
		t.client.CloseIdleConnections()
	}
	return nil
}

func topicPartition(r connect.Record) connect.TopicPartition {
	return connect.TopicPartition{Topic: r.Topic, Partition: r.Partition}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
