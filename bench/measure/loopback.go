package measure

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Loopback measures the machine's ceiling for moving bytes from a server to
// a client over TCP: streams connections at once, on each a server
// goroutine answering each 4-byte request with a size-prefixed frame of
// frameBytes (a header and a body in one writev; the body is reused, so the
// kernel copies from memory it read moments ago, the cheapest send there
// is), and a client reading each frame into a newly allocated buffer, as
// Kafka clients and the AWS SDKs read answers. Both ends are in this process
// on 127.0.0.1, like the targets of an --embedded run. It returns the body
// bytes per second over totalBytes (shared by the streams), and the CPU
// this process used per MB moved.
//
// No server can hand frameBytes answers to a client in one process faster
// than this, nor with less CPU, so it bounds any figure measured on the
// same machine whose bytes cross a socket.
func Loopback(ctx context.Context, frameBytes int, totalBytes int64, streams int) (mbPerSec, cpuMsPerMB float64, err error) {
	if frameBytes <= 0 || streams <= 0 || totalBytes < int64(frameBytes)*int64(streams) {
		return 0, 0, fmt.Errorf("loopback: frame %d bytes, total %d, %d streams: want 0 < frame * streams <= total", frameBytes, totalBytes, streams)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer ln.Close()
	served := make(chan error, streams)
	for range streams {
		go func() { served <- serveFrames(ln, frameBytes) }()
	}
	conns := make([]net.Conn, streams)
	for i := range conns {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			for _, c := range conns[:i] {
				c.Close()
			}
			return 0, 0, err
		}
		conns[i] = conn
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		defer stop()
	}

	frames := totalBytes / int64(frameBytes) / int64(streams)
	cpu := CPUSince(ProcessCPU(os.Getpid()))
	start := time.Now()
	errs := make([]error, streams)
	var wg sync.WaitGroup
	for i, conn := range conns {
		wg.Go(func() { errs[i] = readFrames(ctx, conn, frames) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	used := cpu()
	for _, conn := range conns {
		conn.Close()
	}
	for range streams {
		errs = append(errs, <-served)
	}
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	moved := frames * int64(frameBytes) * int64(streams)
	return MBps(moved, elapsed), CPUPerMB(used, moved), nil
}

// readFrames asks for frames frames on conn and reads each into a fresh
// buffer.
func readFrames(ctx context.Context, conn net.Conn, frames int64) error {
	var size [4]byte
	for range frames {
		if _, err := conn.Write([]byte{0, 0, 0, 1}); err != nil {
			return errors.Join(err, ctx.Err())
		}
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return errors.Join(err, ctx.Err())
		}
		body := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(conn, body); err != nil {
			return errors.Join(err, ctx.Err())
		}
	}
	return nil
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
