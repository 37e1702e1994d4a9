package kafka

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxInFlight bounds the requests of one connection that are read but not
// yet answered. Kafka clients pipeline at most 5 produce requests per
// connection by default; 32 leaves room for ones configured higher without
// letting one connection queue unbounded work.
const maxInFlight = 32

// minFrame is the smallest request frame that can hold a request header:
// key, version, correlation id and a client id length.
const minFrame = 2 + 2 + 4 + 2

// conn is one client connection. Its receiving goroutine reads frames one
// ahead of its reader goroutine, which decodes them and runs their handlers
// in order; its writer goroutine completes the deferred replies and writes
// responses in that same order. The queue between reader and writer
// carries every request read, so the writer sees each one,
// including those it will not answer (acks=0) and, after a write error,
// those it can no longer answer: deferred work such as pending appends is
// always completed, which the store requires.
type conn struct {
	s        *Server
	listener *Listener
	nc       net.Conn
	out      io.Writer // what the writer goroutine writes to: nc, or batchedTLS over it
	remote   net.Addr
	auth     connAuth // reader goroutine only
	ctx      context.Context
	cancel   context.CancelFunc
	queue    chan *inflight

	// fetchBuf carries fetch responses to the socket (writeFetch); the
	// writer goroutine allocates it on the first large fetch.
	fetchBuf []byte

	// stopping is set when Shutdown asked the reader to stop: its read
	// then fails with a deadline error that is no cause for a log line.
	stopping atomic.Bool
}

// inflight is one request between reader and writer.
type inflight struct {
	key      int16
	version  int16 // the response's version
	corr     int32
	reply    Reply
	received time.Time
	frame    []byte // the request's buffer, pooled again once answered
	// raw, when not nil, is a raw SASL token to send as it is (after
	// SaslHandshake v0); key is then -1 and there is no reply.
	raw []byte
}

func newConn(s *Server, nc net.Conn, l *Listener) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	remote := nc.RemoteAddr()
	var out io.Writer = nc
	if l.TLS != nil {
		under := &coalescingConn{Conn: nc}
		tc := tls.Server(under, l.TLS)
		nc, out = tc, batchedTLS{tls: tc, under: under}
	}
	return &conn{
		s:        s,
		listener: l,
		nc:       nc,
		out:      out,
		remote:   remote,
		auth:     connAuth{user: anonymous, authenticated: !l.Protocol.SASL()},
		ctx:      ctx,
		cancel:   cancel,
		queue:    make(chan *inflight, maxInFlight),
	}
}

// stopReading makes the reader stop before its next request (Shutdown).
func (c *conn) stopReading() {
	c.stopping.Store(true)
	_ = c.nc.SetReadDeadline(time.Now())
}

// kill closes the connection and cancels its requests.
func (c *conn) kill() {
	c.cancel()
	_ = c.nc.Close()
}

// readLoop decodes the frames receive reads and runs their handlers, in
// order, queueing each request for the writer.
func (c *conn) readLoop() {
	defer c.s.wg.Done()
	defer close(c.queue)
	if err := c.startTLS(); err != nil {
		return
	}
	frames := make(chan receivedFrame)
	stop := make(chan struct{})
	defer close(stop)
	c.s.wg.Add(1)
	go c.receive(frames, stop)
	for in := range frames {
		frame := in.frame
		if len(frame) < minFrame && !c.auth.raw {
			putFrame(frame)
			c.s.log.Warn("kafka: bad request size; closing connection",
				"remote", c.remote.String(), "size", len(frame), "max", c.s.cfg.MaxRequestBytes)
			c.s.m.malformed.Inc()
			return
		}
		var (
			inf *inflight
			err error
		)
		if c.auth.raw {
			inf, err = c.rawToken(frame, in.received)
		} else {
			inf, err = c.dispatch(frame, in.received)
		}
		if err != nil {
			// A failed (or panicked) handler may have kept slices of
			// the frame; only a frame that never reached one is reused.
			if inf == nil {
				putFrame(frame)
			}
			c.s.log.Warn("kafka: closing connection", "remote", c.remote.String(), "err", err)
			return
		}
		if inf.key == int16(kmsg.Produce) {
			// Only Produce frames are recycled: its handler copies the
			// records into the store before answering, and nothing
			// else of the request outlives the reply. Other handlers
			// may keep request bytes (a group member's metadata), so
			// their frames are left to the garbage collector.
			inf.frame = frame
		}
		c.queue <- inf // the writer drains the queue until it is closed
		if inf.reply.close {
			return
		}
	}
}

// receivedFrame is one request frame as it came off the socket.
type receivedFrame struct {
	frame    []byte
	received time.Time
}

// receive reads request frames into frames, one frame ahead of readLoop:
// while a handler waits (a produce for its offloaded records' fsync, say),
// the next request comes off the socket instead of waiting in the kernel's
// buffer, so one connection's pipelined requests overlap their transfer
// with the previous one's handling. One frame ahead, not more: a connection
// holds at most one request beyond those being handled. Whether a frame is
// a request or a raw SASL token depends on the requests before it, so the
// frame's smallest size is readLoop's to check. It stops at the first read
// error (the writer's close of the connection included) or when readLoop
// is done (stop).
func (c *conn) receive(frames chan<- receivedFrame, stop <-chan struct{}) {
	defer c.s.wg.Done()
	defer close(frames)
	var size [4]byte
	for {
		if _, err := io.ReadFull(c.nc, size[:]); err != nil {
			c.readFailed(err)
			return
		}
		n := int32(binary.BigEndian.Uint32(size[:]))
		if n < 0 || n > c.s.cfg.MaxRequestBytes {
			c.s.log.Warn("kafka: bad request size; closing connection",
				"remote", c.remote.String(), "size", n, "max", c.s.cfg.MaxRequestBytes)
			c.s.m.malformed.Inc()
			return
		}
		// A frame of its own per request: decoded requests alias it (a
		// produce's records go to the store without a copy).
		frame := getFrame(int(n))
		if _, err := io.ReadFull(c.nc, frame); err != nil {
			putFrame(frame)
			c.readFailed(err)
			return
		}
		c.s.m.bytesIn.Add(float64(4 + n))
		select {
		case frames <- receivedFrame{frame: frame, received: time.Now()}:
		case <-stop:
			putFrame(frame)
			return
		}
	}
}

func (c *conn) readFailed(err error) {
	switch {
	case c.stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded):
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case errors.Is(err, io.ErrUnexpectedEOF):
		c.s.log.Debug("kafka: connection closed mid-request", "remote", c.remote.String())
	default:
		c.s.log.Debug("kafka: connection read failed", "remote", c.remote.String(), "err", err)
	}
}

// errMalformed marks requests that cannot be decoded.
var errMalformed = errors.New("malformed request")

// dispatch decodes one frame and runs its handler. An error closes the
// connection: the frame could not be decoded, names an API we do not have,
// or its handler failed.
func (c *conn) dispatch(frame []byte, received time.Time) (*inflight, error) {
	key, version, corr, body, err := decodeRequest(frame)
	if err != nil {
		c.s.m.malformed.Inc()
		return nil, err
	}
	inf := &inflight{key: key, version: version, corr: corr, received: received}
	if err := c.gate(key, received); err != nil {
		return nil, err
	}
	api, ok := lookup(key)
	switch {
	case !ok:
		c.s.m.malformed.Inc()
		return nil, fmt.Errorf("unknown API key %d (version %d)", key, version)
	case version < api.MinVersion || version > api.MaxVersion:
		if key == int16(kmsg.ApiVersions) {
			// KIP-511: a client tries its newest ApiVersions first;
			// answer in v0, which every client reads, so it retries
			// at a version we list.
			inf.version = 0
			inf.reply = Respond(unsupportedAPIVersions())
			return inf, nil
		}
		c.s.m.malformed.Inc()
		return nil, fmt.Errorf("%s v%d is not supported (v%d-v%d are)", api.Key.Name(), version, api.MinVersion, api.MaxVersion)
	}
	if err := body.req.ReadFrom(body.rest); err != nil {
		c.s.m.malformed.Inc()
		return nil, fmt.Errorf("%w: %s v%d body: %v", errMalformed, api.Key.Name(), version, err)
	}
	r := &Request{
		Server:        c.s,
		Key:           key,
		Version:       version,
		CorrelationID: corr,
		ClientID:      body.clientID,
		Remote:        c.remote,
		Listener:      c.listener,
		Principal:     c.auth.principal(),
		Mechanism:     c.auth.loggedInWith(),
		Body:          body.req,
		conn:          c,
	}
	inf.reply, err = c.call(api, r)
	return inf, err
}

// decodedHeader is a request header and the undecoded body behind it.
type decodedHeader struct {
	clientID string
	req      kmsg.Request // version set, body not read yet; nil for unknown keys
	rest     []byte
}

// decodeRequest reads the request header (v1, or v2 for flexible versions)
// of frame. The body is left to the caller, which first checks that the
// version is one we answer.
func decodeRequest(frame []byte) (key, version int16, corr int32, h decodedHeader, err error) {
	r := kbin.Reader{Src: frame}
	key = r.Int16()
	version = r.Int16()
	corr = r.Int32()
	if cid := r.NullableString(); cid != nil {
		h.clientID = *cid
	}
	if !r.Ok() {
		return 0, 0, 0, h, fmt.Errorf("%w: truncated header", errMalformed)
	}
	if h.req = kmsg.RequestForKey(key); h.req != nil && version >= 0 {
		h.req.SetVersion(version)
		if h.req.IsFlexible() {
			kmsg.SkipTags(&r)
			if !r.Ok() {
				return 0, 0, 0, h, fmt.Errorf("%w: truncated header tags", errMalformed)
			}
		}
	}
	h.rest = r.Src
	return key, version, corr, h, nil
}

// call runs a handler, turning a panic into an error that closes the
// connection: bad input must never take the server down.
func (c *conn) call(api *API, r *Request) (rep Reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.s.m.panics.Inc()
			err = fmt.Errorf("%s v%d handler panicked: %v\n%s", api.Key.Name(), r.Version, p, debug.Stack())
		}
	}()
	return api.Handle(c.ctx, r)
}

// finish completes a reply on the writer goroutine: runs its deferred part,
// if any, with the same panic guard as call.
func (c *conn) finish(inf *inflight) (resp kmsg.Response, err error) {
	if inf.reply.later == nil {
		return inf.reply.resp, nil
	}
	defer func() {
		if p := recover(); p != nil {
			c.s.m.panics.Inc()
			err = fmt.Errorf("%s v%d deferred reply panicked: %v\n%s", kmsg.NameForKey(inf.key), inf.version, p, debug.Stack())
		}
	}()
	return inf.reply.later(c.ctx)
}

func (c *conn) writeLoop() {
	defer c.s.closed(c)
	defer c.s.wg.Done()
	defer c.kill()

	w := bufio.NewWriterSize(c.out, 64<<10)
	var (
		buf  []byte
		dead bool // the connection failed; complete what is queued, write nothing
	)
	for inf := range c.queue {
		err := c.write(w, inf, &buf, dead)
		putFrame(inf.frame)
		if err != nil {
			if !dead && !errors.Is(err, errWrite) {
				c.s.log.Warn("kafka: closing connection", "remote", c.remote.String(), "err", err)
			}
			dead = true
			c.kill()
		}
	}
	if !dead {
		_ = w.Flush()
	}
}

// errWrite wraps a failed socket write: the client went away, which is no
// cause for a warning.
var errWrite = errors.New("write failed")

// write completes one request and writes its response (unless dead: then
// it only completes it).
func (c *conn) write(w *bufio.Writer, inf *inflight, buf *[]byte, dead bool) error {
	if inf.raw != nil {
		return c.writeRaw(w, inf.raw, dead)
	}
	resp, err := c.finish(inf)
	if err == nil && resp != nil && resp.Key() != inf.key {
		err = fmt.Errorf("%s handler answered with a %s response", kmsg.NameForKey(inf.key), kmsg.NameForKey(resp.Key()))
	}
	if err != nil {
		return err
	}
	if inf.reply.none || resp == nil {
		c.s.m.observe(inf, nil, 0)
		return nil
	}
	if dead {
		return nil
	}
	var n int
	if fr, ok := resp.(*fetchResponse); ok {
		// Once written (into w's buffer, or through c.fetchBuf to the
		// socket), the response's batches are no longer needed.
		n, err = c.writeFetch(w, fr, inf, buf)
		fr.done()
	} else {
		*buf = encodeResponse((*buf)[:0], inf, resp)
		n, err = w.Write(*buf)
	}
	if err == nil && len(c.queue) == 0 {
		// Nothing else is ready: send now. Responses that are ready
		// together go out in one write.
		err = w.Flush()
	}
	if err != nil {
		c.writeFailed(err)
		return fmt.Errorf("%w: %v", errWrite, err)
	}
	c.s.m.observe(inf, resp, n)
	if cap(*buf) > 8<<20 {
		*buf = nil // do not pin one huge response's buffer for the connection's life
	}
	return nil
}

// writeRaw sends a raw SASL token: its size, then its bytes.
func (c *conn) writeRaw(w *bufio.Writer, token []byte, dead bool) error {
	if dead {
		return nil
	}
	w.Write(binary.BigEndian.AppendUint32(nil, uint32(len(token))))
	w.Write(token)
	if err := w.Flush(); err != nil {
		c.writeFailed(err)
		return fmt.Errorf("%w: %v", errWrite, err)
	}
	return nil
}

func (c *conn) writeFailed(err error) {
	if !errors.Is(err, net.ErrClosed) {
		c.s.log.Debug("kafka: connection write failed", "remote", c.remote.String(), "err", err)
	}
}

// writeFetch writes a fetch response: small ones through w like any
// response; large ones, after flushing w so the order on the wire is kept,
// copied piece by piece through fetchBuf, a buffer the connection keeps.
//
// Copying looks wasteful next to a writev of the stored batches, but it was
// measured 3-4x cheaper (0.6 vs 2.1 ms of server CPU per MB sent, README
// "Kafka front end"): the kernel reads stored batches, which it has not
// touched since they were produced, far more slowly than a buffer it read
// from moments ago, while the user-space copy costs ~0.1 ms per MB.
func (c *conn) writeFetch(w *bufio.Writer, fr *fetchResponse, inf *inflight, scratch *[]byte) (int, error) {
	fr.SetVersion(inf.version)
	bufs, s, n := fr.appendSegments((*scratch)[:0], inf.corr)
	*scratch = s
	if n <= w.Available() {
		for _, b := range bufs {
			w.Write(b) // cannot fail: it fits
		}
		return n, nil
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	if c.fetchBuf == nil {
		c.fetchBuf = make([]byte, fetchBufBytes)
	}
	fill := 0
	for _, b := range bufs {
		for len(b) > 0 {
			k := copy(c.fetchBuf[fill:], b)
			fill, b = fill+k, b[k:]
			if fill == len(c.fetchBuf) {
				if _, err := c.out.Write(c.fetchBuf); err != nil {
					return 0, err
				}
				fill = 0
			}
		}
	}
	_, err := c.out.Write(c.fetchBuf[:fill])
	return n, err
}

// fetchBufBytes sizes the buffer fetch responses go out through: 256 KiB
// took the measured cost within a few percent of 1 MiB (64 KiB cost a
// third more), for a quarter of the memory per consuming connection.
const fetchBufBytes = 256 << 10

// encodeResponse appends the framed response: size, correlation id, the
// header's tag buffer for flexible versions, then the body. ApiVersions
// responses never carry the tag buffer, whatever their version: clients
// read them before they know which versions we speak (KIP-511).
func encodeResponse(dst []byte, inf *inflight, resp kmsg.Response) []byte {
	resp.SetVersion(inf.version)
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(inf.corr))
	if resp.IsFlexible() && inf.key != int16(kmsg.ApiVersions) {
		dst = append(dst, 0)
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}
