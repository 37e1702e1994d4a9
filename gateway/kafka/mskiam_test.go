package kafka

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	kaws "github.com/twmb/franz-go/pkg/sasl/aws"

	"github.com/streambridge/bridge/security/awscreds"
	bsasl "github.com/streambridge/bridge/security/sasl"
	"github.com/streambridge/bridge/security/sigv4"
)

const (
	iamKey    = "AKIAGATEWAYTEST00001"
	iamSecret = "gateway/secret"
	iamBroker = "b-1.test.abc.c2.kafka.us-east-1.amazonaws.com:9098"
)

// iamServer starts a SASL_PLAINTEXT server with the MSK IAM mechanisms
// over one key, on the real clock (the clients sign with it).
func iamServer(t testing.TB, change ...func(*Config)) *testServer {
	t.Helper()
	return startServer(t, append([]func(*Config){func(c *Config) {
		creds, err := awscreds.New(awscreds.Credential{AccessKeyID: iamKey, SecretAccessKey: iamSecret, Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		v := &sigv4.Verifier{Credentials: creds, Region: "us-east-1"}
		if c.SASL, err = bsasl.NewAuthenticator(bsasl.AWSMSKIAM(v), bsasl.OAuthBearerMSKIAM(v)); err != nil {
			t.Fatal(err)
		}
		c.Listeners = []Listener{{Name: "SASL_PLAINTEXT", Protocol: SASLPlaintext}}
	}}, change...)...)
}

// franzIAMPayload is franz-go's AWS_MSK_IAM message, signed now.
func franzIAMPayload(t *testing.T, secret string) []byte {
	t.Helper()
	_, msg, err := kaws.Auth{AccessKey: iamKey, SecretKey: secret}.AsManagedStreamingIAMMechanism().Authenticate(context.Background(), iamBroker)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// TestMSKIAMSessions checks the Kafka side of the MSK IAM mechanisms:
// franz-go produces with AWS_MSK_IAM and is refused with
// SASL_AUTHENTICATION_FAILED for a wrong secret; a session lasts no longer
// than its signature (KIP-368's SessionLifetimeMillis); and an OAUTHBEARER
// refusal is the invalid_token challenge, then SASL_AUTHENTICATION_FAILED
// after the client's %x01, or a closed connection when the client sends
// another request instead (as kafkajs does).
func TestMSKIAMSessions(t *testing.T) {
	ts := iamServer(t)
	ts.createTopic(t, "t", 1)
	t.Setenv("AWS_REGION", "us-east-1") // franz-go's region for 127.0.0.1
	for _, tc := range []struct {
		secret string
		ok     bool
	}{{iamSecret, true}, {"wrong", false}} {
		cl := ts.client(t, kgo.SASL(kaws.Auth{AccessKey: iamKey, SecretKey: tc.secret}.AsManagedStreamingIAMMechanism()), kgo.RequestRetries(0))
		ctx, cancel := context.WithTimeout(testContext(t), 10*time.Second)
		err := cl.Ping(ctx)
		if err == nil {
			err = cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr()
		}
		cancel()
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, kerr.SaslAuthenticationFailed)) {
			t.Fatalf("secret %q: %v", tc.secret, err)
		}
	}

	t.Run("session lifetime", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.Version, hs.Mechanism = 1, bsasl.MSKIAM
		c.roundTrip(t, hs)
		auth := kmsg.NewPtrSASLAuthenticateRequest()
		auth.Version, auth.SASLAuthBytes = 1, franzIAMPayload(t, iamSecret)
		resp := c.roundTrip(t, auth).(*kmsg.SASLAuthenticateResponse)
		if resp.ErrorCode != 0 || resp.SessionLifetimeMillis <= 0 || resp.SessionLifetimeMillis > 900_000 {
			t.Fatalf("SaslAuthenticate: %+v, want a session lifetime of at most the signature's 900 s", resp)
		}
	})

	badToken := base64.RawURLEncoding.EncodeToString([]byte("https://kafka.us-east-1.amazonaws.com/?Action=kafka-cluster%3AConnect"))
	for _, tc := range []struct {
		name string
		next kmsg.Request // after the challenge
	}{
		{"acknowledged", func() kmsg.Request {
			r := kmsg.NewPtrSASLAuthenticateRequest()
			r.Version, r.SASLAuthBytes = 1, []byte{1}
			return r
		}()},
		{"ignored", kmsg.NewPtrMetadataRequest()},
	} {
		t.Run("oauthbearer refusal "+tc.name, func(t *testing.T) {
			c := dialRaw(t, ts.addr)
			hs := kmsg.NewPtrSASLHandshakeRequest()
			hs.Version, hs.Mechanism = 1, bsasl.OAuthBearer
			c.roundTrip(t, hs)
			auth := kmsg.NewPtrSASLAuthenticateRequest()
			auth.Version, auth.SASLAuthBytes = 1, []byte("n,,\x01auth=Bearer "+badToken+"\x01\x01")
			resp := c.roundTrip(t, auth).(*kmsg.SASLAuthenticateResponse)
			if resp.ErrorCode != 0 || string(resp.SASLAuthBytes) != `{"status":"invalid_token"}` {
				t.Fatalf("SaslAuthenticate with a bad token: %+v, want the invalid_token challenge", resp)
			}
			if _, ok := tc.next.(*kmsg.MetadataRequest); ok {
				c.send(t, tc.next)
				if _, err := c.readFrame(); err == nil {
					t.Fatal("Metadata after a refused token was answered; want the connection closed")
				}
				return
			}
			resp = c.roundTrip(t, tc.next).(*kmsg.SASLAuthenticateResponse)
			if resp.ErrorCode != kerr.SaslAuthenticationFailed.Code {
				t.Fatalf("after %%x01: %+v, want SASL_AUTHENTICATION_FAILED", resp)
			}
			if _, err := c.readFrame(); err == nil {
				t.Fatal("connection still open after the refusal")
			}
		})
	}
}

// TestSASLHalfReauthenticationExpires starts a re-authentication and never
// finishes it: the session still expires, so an expired signature cannot
// be kept in use that way.
func TestSASLHalfReauthenticationExpires(t *testing.T) {
	const lifetime = 200 * time.Millisecond
	ts := saslServer(t, func(c *Config) { c.SASLSessionLifetime = lifetime })
	c := dialRaw(t, ts.addr)
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, bsasl.Plain
	c.roundTrip(t, hs)
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.Version, auth.SASLAuthBytes = 1, []byte("\x00alice\x00alice-secret")
	if resp := c.roundTrip(t, auth).(*kmsg.SASLAuthenticateResponse); resp.ErrorCode != 0 {
		t.Fatalf("SaslAuthenticate: %+v", resp)
	}
	if resp := c.roundTrip(t, hs).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 {
		t.Fatalf("re-authentication handshake: %+v", resp)
	}
	time.Sleep(lifetime + 50*time.Millisecond)
	c.send(t, kmsg.NewPtrMetadataRequest())
	if _, err := c.readFrame(); err == nil {
		t.Fatal("request after the session expired, mid re-authentication, was answered; want the connection closed")
	}
}

// TestMSKIAMReauthentication has franz-go keep producing across short
// session lifetimes with AWS_MSK_IAM: it re-authenticates with a fresh
// signature each time (KIP-368), and the principal stays the access key.
func TestMSKIAMReauthentication(t *testing.T) {
	const lifetime = 300 * time.Millisecond
	ts := iamServer(t, func(c *Config) { c.SASLSessionLifetime = lifetime })
	ts.createTopic(t, "t", 1)
	t.Setenv("AWS_REGION", "us-east-1")
	cl := ts.client(t, kgo.SASL(kaws.Auth{AccessKey: iamKey, SecretKey: iamSecret}.AsManagedStreamingIAMMechanism()))
	deadline := time.Now().Add(4 * lifetime)
	for n := 0; time.Now().Before(deadline); n++ {
		if err := cl.ProduceSync(testContext(t), &kgo.Record{Topic: "t", Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", n, err)
		}
		time.Sleep(lifetime / 10)
	}
	if got := counterValue(ts.m.authentications.WithLabelValues(bsasl.MSKIAM)); got < 3 {
		t.Fatalf("%v AWS_MSK_IAM authentications over 4 session lifetimes, want re-authentications", got)
	}
}
