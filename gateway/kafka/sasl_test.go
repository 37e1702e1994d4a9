package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	bsasl "github.com/streambridge/bridge/security/sasl"
	"github.com/streambridge/bridge/security/users"
)

// saslServer starts a server whose only listener is SASL_PLAINTEXT with
// every mechanism enabled and alice (alice-secret) in its users file.
func saslServer(t testing.TB, change ...func(*Config)) *testServer {
	t.Helper()
	return saslServerWith(t, nil, change...)
}

// saslServerWith is saslServer with users besides alice.
func saslServerWith(t testing.TB, more []users.FileUser, change ...func(*Config)) *testServer {
	t.Helper()
	return startServer(t, append([]func(*Config){func(c *Config) {
		u, err := users.Open(context.Background(), nil, append([]users.FileUser{
			{Name: "alice", Password: "alice-secret", Mechanisms: users.SCRAMMechanisms, Iterations: 4096},
		}, more...))
		if err != nil {
			t.Fatal(err)
		}
		c.Users = u
		sha256, _ := bsasl.SCRAM(bsasl.ScramSHA256, u)
		sha512, _ := bsasl.SCRAM(bsasl.ScramSHA512, u)
		c.SASL, err = bsasl.NewAuthenticator(bsasl.PlainMechanism(u), sha256, sha512)
		if err != nil {
			t.Fatal(err)
		}
		c.Listeners = []Listener{{Name: "SASL_PLAINTEXT", Protocol: SASLPlaintext}}
	}}, change...)...)
}

func mechanism(name, user, pass string) sasl.Mechanism {
	switch name {
	case bsasl.Plain:
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case bsasl.ScramSHA256:
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	default:
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	}
}

// TestSASLMechanisms logs in with each mechanism, right and wrong, with
// franz-go, and checks that a refused client wrote nothing.
func TestSASLMechanisms(t *testing.T) {
	ts := saslServer(t)
	ts.createTopic(t, "t", 1)
	for _, mech := range bsasl.Default {
		for _, tc := range []struct {
			name, user, pass string
			ok               bool
		}{
			{"right", "alice", "alice-secret", true},
			{"wrong password", "alice", "nope", false},
			{"unknown user", "mallory", "alice-secret", false},
		} {
			t.Run(mech+"/"+tc.name, func(t *testing.T) {
				cl := ts.client(t, kgo.SASL(mechanism(mech, tc.user, tc.pass)), kgo.RequestRetries(0))
				ctx, cancel := context.WithTimeout(testContext(t), 10*time.Second)
				defer cancel()
				if tc.ok {
					if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte(mech + tc.name)}).FirstErr(); err != nil {
						t.Fatalf("produce as %s: %v", tc.user, err)
					}
					return
				}
				if err := cl.Ping(ctx); !errors.Is(err, kerr.SaslAuthenticationFailed) {
					t.Fatalf("produce as %s with a wrong secret: %v, want SASL_AUTHENTICATION_FAILED", tc.user, err)
				}
			})
		}
	}
	if got := len(ts.consumeAll(t, "t", 3, kgo.SASL(mechanism(bsasl.Plain, "alice", "alice-secret")))); got != 3 {
		t.Fatalf("%d records stored, want the 3 of the accepted logins", got)
	}
}

// TestSASLRequestBeforeAuthentication checks that a SASL listener closes a
// connection whose first request is not part of the SASL exchange, and
// answers ApiVersions (which clients send first) and an unknown mechanism.
func TestSASLRequestBeforeAuthentication(t *testing.T) {
	ts := saslServer(t)

	c := dialRaw(t, ts.addr)
	if resp := c.roundTrip(t, kmsg.NewPtrApiVersionsRequest()).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
		t.Fatalf("ApiVersions before authentication: error %d", resp.ErrorCode)
	}
	c.send(t, kmsg.NewPtrMetadataRequest())
	if _, err := c.readFrame(); err == nil {
		t.Fatal("Metadata before authentication was answered; want the connection closed")
	}

	c = dialRaw(t, ts.addr)
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "GSSAPI"
	resp := c.roundTrip(t, hs).(*kmsg.SASLHandshakeResponse)
	if resp.ErrorCode != kerr.UnsupportedSaslMechanism.Code || len(resp.SupportedMechanisms) != 3 {
		t.Fatalf("handshake with GSSAPI: %+v, want UNSUPPORTED_SASL_MECHANISM and the 3 enabled", resp)
	}
	if _, err := c.readFrame(); err == nil {
		t.Fatal("connection still open after an unsupported mechanism")
	}
}

// TestSASLHandshakeV0RawTokens authenticates the pre-KIP-152 way: after
// SaslHandshake v0 the PLAIN token goes as a raw frame and the answer
// comes back as one (empty for PLAIN). Pipelined, the token is sent with
// the handshake, before its answer: the connection reads it ahead of the
// handshake's handling and must still take it as a raw token, even one
// shorter than any request (user "a", password "b": 4 bytes).
func TestSASLHandshakeV0RawTokens(t *testing.T) {
	ts := saslServerWith(t, []users.FileUser{{Name: "a", Password: "b", Mechanisms: users.SCRAMMechanisms, Iterations: 4096}})
	for _, tc := range []struct {
		user, pass string
		ok         bool
		pipelined  bool
	}{
		{"alice", "alice-secret", true, false}, {"alice", "wrong", false, false}, {"a", "b", true, false},
		{"alice", "alice-secret", true, true}, {"alice", "wrong", false, true}, {"a", "b", true, true},
	} {
		c := dialRaw(t, ts.addr)
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.Version, hs.Mechanism = 0, bsasl.Plain
		token := []byte("\x00" + tc.user + "\x00" + tc.pass)
		rawToken := append([]byte{0, 0, 0, byte(len(token))}, token...)
		if tc.pipelined {
			c.corr++
			if _, err := c.Conn.Write(append(c.f.AppendRequest(nil, hs, c.corr), rawToken...)); err != nil {
				t.Fatal(err)
			}
			resp := hs.ResponseKind().(*kmsg.SASLHandshakeResponse)
			resp.SetVersion(0)
			if c.recv(t, c.corr, resp); resp.ErrorCode != 0 {
				t.Fatalf("pipelined handshake v0: error %d", resp.ErrorCode)
			}
		} else {
			if resp := c.roundTrip(t, hs).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 {
				t.Fatalf("handshake v0: error %d", resp.ErrorCode)
			}
			if _, err := c.Conn.Write(rawToken); err != nil {
				t.Fatal(err)
			}
		}
		answer, err := c.readFrame()
		if !tc.ok {
			if err == nil {
				t.Fatalf("wrong password answered %q; want the connection closed", answer)
			}
			continue
		}
		if err != nil || len(answer) != 0 {
			t.Fatalf("raw PLAIN answer %q, %v; want an empty frame", answer, err)
		}
		if resp := c.roundTrip(t, kmsg.NewPtrMetadataRequest()).(*kmsg.MetadataResponse); len(resp.Brokers) != 1 {
			t.Fatalf("metadata after raw authentication: %+v", resp)
		}
	}
}

// TestSASLReauthentication sets a short session lifetime: franz-go
// re-authenticates on its own (KIP-368) and keeps producing; a client that
// does not is disconnected at its next request after expiry.
func TestSASLReauthentication(t *testing.T) {
	const lifetime = 300 * time.Millisecond
	ts := saslServer(t, func(c *Config) { c.SASLSessionLifetime = lifetime })
	ts.createTopic(t, "t", 1)
	cl := ts.client(t, kgo.SASL(mechanism(bsasl.ScramSHA256, "alice", "alice-secret")))
	deadline := time.Now().Add(4 * lifetime)
	n := 0
	for time.Now().Before(deadline) {
		if err := cl.ProduceSync(testContext(t), &kgo.Record{Topic: "t", Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", n, err)
		}
		n++
		time.Sleep(lifetime / 10)
	}
	if got := counterValue(ts.m.authentications.WithLabelValues(bsasl.ScramSHA256)); got < 3 {
		t.Fatalf("%v SCRAM authentications over 4 session lifetimes, want re-authentications", got)
	}

	c := dialRaw(t, ts.addr)
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, bsasl.Plain
	c.roundTrip(t, hs)
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.Version, auth.SASLAuthBytes = 1, []byte("\x00alice\x00alice-secret")
	resp := c.roundTrip(t, auth).(*kmsg.SASLAuthenticateResponse)
	if resp.ErrorCode != 0 || resp.SessionLifetimeMillis <= 0 || resp.SessionLifetimeMillis > lifetime.Milliseconds() {
		t.Fatalf("SaslAuthenticate: %+v, want a session lifetime of at most %v", resp, lifetime)
	}
	time.Sleep(lifetime + 50*time.Millisecond)
	c.send(t, kmsg.NewPtrMetadataRequest())
	if _, err := c.readFrame(); err == nil {
		t.Fatal("request after the session expired was answered; want the connection closed")
	}
}

// TestSCRAMCredentialsAdmin manages users with kadm: a user added through
// AlterUserScramCredentials can log in, is described, and cannot once
// deleted; Kafka's validation errors come back per user.
func TestSCRAMCredentialsAdmin(t *testing.T) {
	ts := saslServer(t)
	ctx := testContext(t)
	alice := ts.client(t, kgo.SASL(mechanism(bsasl.ScramSHA512, "alice", "alice-secret")))
	adm := kadm.NewClient(alice)

	res, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
		{User: "bob", Mechanism: kadm.ScramSha512, Iterations: 8192, Password: "bob-secret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := res["bob"].Err; err != nil {
		t.Fatalf("upsert bob: %v", err)
	}

	// kadm refuses weak credentials itself; other tools may not.
	for _, tc := range []struct {
		iterations int32
		mechanism  int8
		want       *kerr.Error
	}{
		{1000, 1, kerr.UnacceptableCredential},
		{20000, 1, kerr.UnacceptableCredential},
		{4096, 3, kerr.UnsupportedSaslMechanism},
	} {
		req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
		up := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
		up.Name, up.Mechanism, up.Iterations, up.Salt, up.SaltedPassword = "weak", tc.mechanism, tc.iterations, []byte("salt"), make([]byte, 32)
		req.Upsertions = append(req.Upsertions, up)
		resp, err := req.RequestWith(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Results) != 1 || resp.Results[0].ErrorCode != tc.want.Code {
			t.Fatalf("upsert with %d iterations, mechanism %d: %+v, want %s", tc.iterations, tc.mechanism, resp.Results, tc.want.Message)
		}
	}

	bob := ts.client(t, kgo.SASL(mechanism(bsasl.ScramSHA512, "bob", "bob-secret")), kgo.RequestRetries(0))
	if err := bob.Ping(ctx); err != nil {
		t.Fatalf("bob's login after the upsert: %v", err)
	}

	described, err := adm.DescribeUserSCRAMs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := described["bob"].CredInfos; len(got) != 1 || got[0].Mechanism != kadm.ScramSha512 || got[0].Iterations != 8192 {
		t.Fatalf("bob described as %+v", described["bob"])
	}
	if got := described["alice"].CredInfos; len(got) != 2 {
		t.Fatalf("alice (users file) described as %+v, want both mechanisms", described["alice"])
	}
	one, err := adm.DescribeUserSCRAMs(ctx, "nobody")
	if err != nil {
		t.Fatal(err)
	}
	if err := one["nobody"].Err; !errors.Is(err, kerr.ResourceNotFound) {
		t.Fatalf("describe an unknown user: %v, want RESOURCE_NOT_FOUND", err)
	}

	del, err := adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: "bob", Mechanism: kadm.ScramSha512}, {User: "carol", Mechanism: kadm.ScramSha256}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := del["bob"].Err; err != nil {
		t.Fatalf("delete bob: %v", err)
	}
	if err := del["carol"].Err; !errors.Is(err, kerr.ResourceNotFound) {
		t.Fatalf("delete a user never set: %v, want RESOURCE_NOT_FOUND", err)
	}
	gone := ts.client(t, kgo.SASL(mechanism(bsasl.ScramSHA512, "bob", "bob-secret")), kgo.RequestRetries(0))
	if err := gone.Ping(ctx); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("bob's login after the deletion: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
}

// TestListenerAdvertisesItself serves two listeners, each advertising an
// address of its own: Metadata, FindCoordinator and DescribeCluster name
// the listener the client came in on.
func TestListenerAdvertisesItself(t *testing.T) {
	second, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := saslServer(t, func(c *Config) {
		c.Listeners = append(c.Listeners, Listener{Name: "INTERNAL", Protocol: Plaintext, AdvertisedAddr: "internal.example:9093"})
		c.Listeners[0].AdvertisedAddr = "sasl.example:9096"
	})
	go ts.Serve(namedListener{second, "INTERNAL"})

	for _, tc := range []struct {
		addr, want string
		sasl       bool
	}{{ts.addr, "sasl.example:9096", true}, {second.Addr().String(), "internal.example:9093", false}} {
		c := dialRaw(t, tc.addr)
		if tc.sasl {
			hs := kmsg.NewPtrSASLHandshakeRequest()
			hs.Version, hs.Mechanism = 1, bsasl.Plain
			c.roundTrip(t, hs)
			auth := kmsg.NewPtrSASLAuthenticateRequest()
			auth.SASLAuthBytes = []byte("\x00alice\x00alice-secret")
			if resp := c.roundTrip(t, auth).(*kmsg.SASLAuthenticateResponse); resp.ErrorCode != 0 {
				t.Fatalf("authenticate: %+v", resp)
			}
		}
		md := c.roundTrip(t, kmsg.NewPtrMetadataRequest()).(*kmsg.MetadataResponse)
		fc := kmsg.NewPtrFindCoordinatorRequest()
		fc.CoordinatorKey = "g"
		co := c.roundTrip(t, fc).(*kmsg.FindCoordinatorResponse)
		dc := c.roundTrip(t, kmsg.NewPtrDescribeClusterRequest()).(*kmsg.DescribeClusterResponse)
		for what, got := range map[string]string{
			"Metadata":        fmt.Sprintf("%s:%d", md.Brokers[0].Host, md.Brokers[0].Port),
			"FindCoordinator": fmt.Sprintf("%s:%d", co.Host, co.Port),
			"DescribeCluster": fmt.Sprintf("%s:%d", dc.Brokers[0].Host, dc.Brokers[0].Port),
		} {
			if got != tc.want {
				t.Errorf("%s through %s advertises %s, want %s", what, tc.addr, got, tc.want)
			}
		}
	}
}

type namedListener struct {
	net.Listener
	name string
}

func (l namedListener) ListenerName() string { return l.name }
