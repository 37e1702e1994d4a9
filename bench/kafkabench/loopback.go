package kafkabench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/streambridge/bridge/bench/measure"
)

// Loopback measures the machine's ceiling for what a consumer can be sent:
// a server goroutine answers each 4-byte request with a size-prefixed
// frame of frameBytes (a header and a body in one writev; the body is
// reused, so the kernel copies from memory it read moments ago, the
// cheapest send there is), and a client reads each frame into a newly
// allocated buffer, as Kafka clients read responses. Both ends are in this
// process on 127.0.0.1, like the targets of an --embedded run. It returns
// the body bytes per second over totalBytes.
//
// No broker can hand 1 MiB fetches to a client in one process faster than
// this, so it bounds any consume figure measured on the same machine.
func Loopback(ctx context.Context, frameBytes int, totalBytes int64) (mbPerSec float64, err error) {
	if frameBytes <= 0 || totalBytes < int64(frameBytes) {
		return 0, fmt.Errorf("loopback: frame %d bytes, total %d: want 0 < frame <= total", frameBytes, totalBytes)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() { served <- serveFrames(ln, frameBytes) }()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	frames := totalBytes / int64(frameBytes)
	start := time.Now()
	var size [4]byte
	for range frames {
		if _, err := conn.Write([]byte{0, 0, 0, 1}); err != nil {
			return 0, errors.Join(err, ctx.Err())
		}
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return 0, errors.Join(err, ctx.Err())
		}
		body := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(conn, body); err != nil {
			return 0, errors.Join(err, ctx.Err())
		}
	}
	elapsed := time.Since(start)
	conn.Close()
	if err := <-served; err != nil {
		return 0, err
	}
	return measure.MBps(frames*int64(frameBytes), elapsed), nil
}

// serveFrames accepts one connection and answers every 4-byte request with
// a frame until the client goes away.
func serveFrames(ln net.Listener, frameBytes int) error {
	conn, err := ln.Accept()
	if err != nil {
		return err
	}
	defer conn.Close()
	header := binary.BigEndian.AppendUint32(nil, uint32(frameBytes))
	body := make([]byte, frameBytes)
	for i := range body {
		body[i] = byte(i) // not zero pages
	}
	req := make([]byte, 4)
	for {
		if _, err := io.ReadFull(conn, req); err != nil {
			return nil // the client is done
		}
		bufs := net.Buffers{header, body}
		if _, err := bufs.WriteTo(conn); err != nil {
			return nil
		}
	}
}
