package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApiVersions at every version we speak lists the registry, and the
// registry's ranges are what the handlers accept.
func TestAPIVersionsRaw(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	for v := int16(0); v <= 4; v++ {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = v
		req.ClientSoftwareName, req.ClientSoftwareVersion = "raw", "1.0"
		resp := c.roundTrip(t, req).(*kmsg.ApiVersionsResponse)
		if resp.ErrorCode != 0 {
			t.Fatalf("v%d: %v", v, kerr.ErrorForCode(resp.ErrorCode))
		}
		got := map[int16][2]int16{}
		for _, k := range resp.ApiKeys {
			got[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
		}
		for _, want := range []struct{ key, min, max int16 }{
			{0, 0, 12}, {1, 0, 17}, {2, 0, 7}, {3, 0, 12}, {9, 0, 9}, {18, 0, 4}, {22, 0, 5}, {23, 2, 4}, {26, 0, 5}, {28, 0, 5},
		} {
			if got[want.key] != [2]int16{want.min, want.max} {
				t.Errorf("v%d: %s advertised as %v, want %d-%d", v, kmsg.NameForKey(want.key), got[want.key], want.min, want.max)
			}
		}
		if len(got) != len(registeredAPIs()) {
			t.Errorf("v%d: %d keys advertised, %d registered", v, len(got), len(registeredAPIs()))
		}
	}
}

// A newer ApiVersions than ours gets a v0 answer with UNSUPPORTED_VERSION and
// ApiVersions' own range alone, as Kafka's (KIP-511), and the connection
// stays usable.
func TestAPIVersionsUnsupportedVersion(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	for _, v := range []int16{5, 100} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = v
		req.ClientSoftwareName, req.ClientSoftwareVersion = "raw", "1.0"
		frame := c.f.AppendRequest(nil, req, 41)
		if _, err := c.Write(frame); err != nil {
			t.Fatal(err)
		}
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.Version = 0
		c.recv(t, 41, resp)
		if resp.ErrorCode != kerr.UnsupportedVersion.Code || len(resp.ApiKeys) != 1 ||
			resp.ApiKeys[0].ApiKey != int16(kmsg.ApiVersions) || resp.ApiKeys[0].MinVersion != 0 || resp.ApiKeys[0].MaxVersion != 4 {
			t.Errorf("v%d: %v with keys %+v; want ApiVersions 0-4 alone", v, kerr.ErrorForCode(resp.ErrorCode), resp.ApiKeys)
		}
	}
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 9
	c.roundTrip(t, md)
}

// Frames that cannot be served close their connection, and only theirs.
func TestMalformedFramesCloseConnection(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxRequestBytes = 1 << 20 })
	frame := func(body []byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
	}
	header := func(key, version int16) []byte {
		b := binary.BigEndian.AppendUint16(nil, uint16(key))
		b = binary.BigEndian.AppendUint16(b, uint16(version))
		b = binary.BigEndian.AppendUint32(b, 1)
		return binary.BigEndian.AppendUint16(b, 0xffff) // null client id
	}
	metadata := kmsg.NewPtrMetadataRequest()
	metadata.Version = 12
	metadata.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("x")}}
	good := kmsg.NewRequestFormatter().AppendRequest(nil, metadata, 1)

	tests := []struct {
		name string
		send []byte
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"huge size", []byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0}},
		{"negative size", []byte{0xff, 0xff, 0xff, 0xf0}},
		{"size under a header", frame([]byte{0, 3, 0})},
		{"unknown key", frame(header(9999, 0))},
		{"unsupported metadata version", frame(append(header(3, 13), 0, 0))},
		{"produce v2 (below our minimum)", frame(header(0, 2))},
		{"truncated body", good[:len(good)-2]},
		{"body of another shape", frame(append(header(0, 9), 0xff, 0xff, 0xff))},
		{"huge array length", frame(append(header(3, 4), 0x7f, 0xff, 0xff, 0xff))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write(tt.send)
			if tt.name == "truncated body" {
				// A frame cut short is waited for; the client closing
				// its side is what ends it.
				c.(*net.TCPConn).CloseWrite()
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := c.Read(make([]byte, 1))
			if !errors.Is(err, io.EOF) && !isReset(err) {
				t.Fatalf("read %d bytes, %v: want the connection closed", n, err)
			}
		})
	}
	// The server still serves.
	c := dialRaw(t, ts.addr)
	c.roundTrip(t, metadata)
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// Connections over the limit are closed at once; the others keep working.
func TestConnectionLimit(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxConnections = 2 })
	a, b := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 1
	a.roundTrip(t, md)
	b.roundTrip(t, md)
	third := dialRaw(t, ts.addr)
	third.send(t, md)
	if _, err := third.readFrame(); err == nil {
		t.Fatal("third connection answered")
	}
	if got := counterValue(ts.m.rejected); got != 1 {
		t.Errorf("%v rejected connections counted, want 1", got)
	}
	a.Close()
	// a's slot frees once the server notices; a new connection then works.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dialRaw(t, ts.addr)
		c.send(t, md)
		if _, err := c.readFrame(); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection accepted after one closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Shutdown before Serve, and Serve after Shutdown, keep the contract.
func TestShutdownBeforeServe(t *testing.T) {
	st := startServer(t).store
	s, err := New(Config{Store: st, AdvertisedAddr: "localhost:9092"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Error("listener still open after Serve returned")
	}
}

// A Shutdown whose context ends closes connections that are still busy.
func TestShutdownForced(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	// Half a frame: the reader is mid-request when Shutdown comes, and the
	// graceful path stops it at once anyway.
	c.Write([]byte{0, 0, 0, 100, 0, 3})
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := c.readFrame(); err == nil {
		t.Fatal("connection still answering after Shutdown")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	st := startServer(t).store
	for _, addr := range []string{"", "nohost", ":9092", "host:0", "host:99999", "host:x"} {
		if _, err := New(Config{Store: st, AdvertisedAddr: addr}); err == nil {
			t.Errorf("AdvertisedAddr %q accepted", addr)
		}
	}
	if _, err := New(Config{AdvertisedAddr: "h:1"}); err == nil {
		t.Error("nil store accepted")
	}
}
