package kafka

// A connection's authentication: the TLS handshake and client certificate
// on SSL listeners, and the SASL exchange on SASL listeners, which must
// succeed before any request but ApiVersions is served. The exchange runs
// on the reader goroutine, in request order, so the frame after a
// SaslHandshake is read knowing what the handshake decided: after v0 the
// client sends raw SASL tokens, each a size and bytes with no request
// header, and gets raw answers back (Kafka's pre-KIP-152 framing, which
// kafka-python 2.0 still uses); after v1 it sends SaslAuthenticate
// requests.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/sasl"
)

// handshakeTimeout bounds a TLS handshake, so a client that connects and
// sends nothing cannot hold a connection slot (and its goroutines) forever.
const handshakeTimeout = 10 * time.Second

// anonymous is the principal of a connection that did not authenticate,
// as Kafka names it.
const anonymous = "ANONYMOUS"

// connAuth is a connection's authentication state. Only the reader
// goroutine touches it.
type connAuth struct {
	// user is the authenticated name (a SASL user or a certificate's
	// mapped principal), anonymous before.
	user string
	// authenticated is set once SASL succeeded, or at once on listeners
	// without SASL.
	authenticated bool
	// mechanism and session are the SASL exchange under way; session is
	// nil between exchanges.
	mechanism string
	session   sasl.Session
	// raw is set after SaslHandshake v0: the next frames are raw tokens.
	raw bool
	// expires ends the SASL session (KIP-368); zero means never.
	expires time.Time
}

func (a *connAuth) principal() string { return "User:" + a.user }

// loggedInWith is the SASL mechanism the connection authenticated with,
// "" before (or without) SASL. A re-authentication keeps the mechanism
// (handleSASLHandshake refuses another), so this never changes once set.
func (a *connAuth) loggedInWith() string {
	if !a.authenticated {
		return ""
	}
	return a.mechanism
}

// startTLS runs the TLS handshake of a TLS listener's connection and takes
// the principal from the client's certificate, if it sent one. A failure is
// the client's (wrong CA, no certificate where one is required, not TLS at
// all) and closes the connection.
func (c *conn) startTLS() error {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	_ = tc.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.s.m.authFailures.WithLabelValues("tls").Inc()
		c.s.log.Warn("kafka: TLS handshake failed", "remote", c.remote.String(), "kafka_listener", c.listener.Name, "err", err)
		c.auditFailure("TLSHandshake", err.Error())
		return err
	}
	_ = tc.SetDeadline(time.Time{})
	if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
		name, err := c.s.sslPrincipal(certs[0])
		if err != nil {
			c.s.m.authFailures.WithLabelValues("tls").Inc()
			c.s.log.Warn("kafka: no principal for client certificate", "remote", c.remote.String(), "subject", certs[0].Subject.String(), "err", err)
			c.auditFailure("TLSHandshake", "no principal for client certificate "+certs[0].Subject.String()+": "+err.Error())
			return err
		}
		c.auth.user = name
	}
	return nil
}

// gate decides whether a request may be served in the connection's
// authentication state; an error closes the connection, as Kafka's
// authenticator does for requests out of turn.
func (c *conn) gate(key int16, now time.Time) error {
	saslReq := key == int16(kmsg.SASLHandshake) || key == int16(kmsg.SASLAuthenticate)
	if r, ok := c.auth.session.(sasl.Refuser); ok && !saslReq && r.Refused() != nil {
		// The exchange refused the client (OAUTHBEARER's error
		// challenge), which took the refusal for success, as kafkajs
		// does: log why, as for any refusal, and close, on a first
		// authentication as on a re-authentication.
		c.s.m.authFailures.WithLabelValues("sasl").Inc()
		c.s.log.Warn("kafka: SASL authentication failed", "remote", c.remote.String(), "kafka_listener", c.listener.Name,
			"mechanism", c.auth.mechanism, "reason", r.Refused().Reason)
		return fmt.Errorf("%s request after the SASL exchange refused the client", kmsg.NameForKey(key))
	}
	switch {
	case !c.auth.authenticated:
		if saslReq || key == int16(kmsg.ApiVersions) {
			return nil
		}
		c.s.m.authFailures.WithLabelValues("sasl").Inc()
		return fmt.Errorf("unexpected %s request during SASL authentication", kmsg.NameForKey(key))
	case !c.auth.expires.IsZero() && now.After(c.auth.expires) && !saslReq:
		// Also while a re-authentication is under way: a client must
		// not send other requests then (KIP-368), and one that started
		// an exchange and never finished it would otherwise keep an
		// expired session (an expired MSK IAM signature) in use.
		return fmt.Errorf("SASL session of %s expired %v ago without re-authentication", c.auth.principal(), now.Sub(c.auth.expires).Round(time.Millisecond))
	}
	return nil
}

// errSASLFailed closes a connection after its failed authentication was
// answered.
var errSASLFailed = errors.New("SASL authentication failed")

// saslStep feeds one client message to the exchange under way. On success
// it returns the server's answer and whether the exchange is complete (the
// connection is then authenticated); a failure is logged and returned as
// errSASLFailed with the message for the client.
func (c *conn) saslStep(msg []byte) (answer []byte, done bool, clientMsg string, err error) {
	sess := c.auth.session
	answer, done, err = sess.Step(msg)
	if err != nil {
		c.auth.session = nil
		clientMsg = "Authentication failed: invalid SASL message"
		reason := err.Error()
		if f, ok := errors.AsType[*sasl.Failure](err); ok {
			clientMsg, reason = f.Message, f.Reason
		}
		c.s.m.authFailures.WithLabelValues("sasl").Inc()
		c.s.log.Warn("kafka: SASL authentication failed", "remote", c.remote.String(), "kafka_listener", c.listener.Name,
			"mechanism", c.auth.mechanism, "reason", reason)
		c.auditFailure("SaslAuthenticate", c.auth.mechanism+": "+reason)
		return nil, false, clientMsg, errSASLFailed
	}
	if !done {
		return answer, false, "", nil
	}
	c.auth.session = nil
	user := sess.Principal()
	if c.auth.authenticated && user != c.auth.user {
		// KIP-368: a re-authentication may renew a session, never
		// change whose it is.
		clientMsg = fmt.Sprintf("Cannot change principals during re-authentication from User:%s: User:%s", c.auth.user, user)
		c.s.m.authFailures.WithLabelValues("sasl").Inc()
		c.s.log.Warn("kafka: SASL re-authentication changed principal", "remote", c.remote.String(), "from", c.auth.user, "to", user)
		c.auditFailure("SaslAuthenticate", clientMsg)
		return nil, false, clientMsg, errSASLFailed
	}
	now := time.Now()
	c.auth.expires = time.Time{}
	if lt := c.s.cfg.SASLSessionLifetime; lt > 0 {
		c.auth.expires = now.Add(lt)
	}
	if exp := sess.Expiry(); !exp.IsZero() && (c.auth.expires.IsZero() || exp.Before(c.auth.expires)) {
		c.auth.expires = exp
	}
	c.s.m.authentications.WithLabelValues(c.auth.mechanism).Inc()
	if !c.auth.authenticated {
		c.s.log.Debug("kafka: SASL authenticated", "remote", c.remote.String(), "kafka_listener", c.listener.Name,
			"mechanism", c.auth.mechanism, "principal", "User:"+user)
	}
	c.auth.user, c.auth.authenticated = user, true
	return answer, true, "", nil
}

// auditFailure records a failed authentication. The reason may say more
// than the client was told (whether the user exists): the audit log is
// the operator's.
func (c *conn) auditFailure(stage, reason string) {
	code := "SASL_AUTHENTICATION_FAILED"
	if stage == "TLSHandshake" {
		code = "SSL_AUTHENTICATION_FAILED"
	}
	c.s.cfg.Audit.Record(audit.Event{
		Source:       "kafka",
		Name:         stage,
		Principal:    c.auth.principal(),
		SourceIP:     hostOf(c.remote),
		Listener:     c.listener.Name,
		Outcome:      audit.Failed,
		ErrorCode:    code,
		ErrorMessage: reason,
	})
}

// sessionLifetime is SaslAuthenticate's SessionLifetimeMillis: how long the
// client has before it must re-authenticate; 0 for no limit.
func (a *connAuth) sessionLifetime(now time.Time) int64 {
	if a.expires.IsZero() {
		return 0
	}
	return max(1, a.expires.Sub(now).Milliseconds())
}

// rawToken answers one raw SASL token (after SaslHandshake v0). A failure
// closes the connection without an answer: the raw framing has no way to
// carry an error, and that is what Kafka does.
func (c *conn) rawToken(frame []byte, received time.Time) (*inflight, error) {
	answer, done, _, err := c.saslStep(frame)
	if err != nil {
		return nil, err
	}
	if done {
		c.auth.raw = false
	}
	if answer == nil {
		answer = []byte{}
	}
	return &inflight{key: -1, received: received, raw: answer}, nil
}

// handleSASLHandshake starts (or, on an authenticated connection whose
// sessions expire, restarts: KIP-368) a SASL exchange with the client's
// mechanism. An unsupported mechanism is answered with the enabled ones
// and the connection closed.
func handleSASLHandshake(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.SASLHandshakeRequest)
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	c, a := r.conn, &r.conn.auth
	reauth := a.authenticated && !a.expires.IsZero() && r.Version >= 1
	switch {
	case !c.listener.Protocol.SASL() || (a.authenticated && !reauth) || a.session != nil:
		resp.ErrorCode = kerr.IllegalSaslState.Code
		return Respond(resp), nil
	}
	resp.SupportedMechanisms = r.Server.cfg.SASL.Enabled()
	sess, ok := r.Server.cfg.SASL.Start(req.Mechanism)
	if !ok || (reauth && req.Mechanism != a.mechanism) {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		r.Server.m.authFailures.WithLabelValues("sasl").Inc()
		r.Server.log.Warn("kafka: SASL mechanism refused", "remote", c.remote.String(), "mechanism", req.Mechanism, "reauthentication", reauth)
		return closeAfter(resp), nil
	}
	a.mechanism, a.session = req.Mechanism, sess
	a.raw = r.Version == 0
	return Respond(resp), nil
}

// handleSASLAuthenticate carries one message of the exchange SaslHandshake
// started.
func handleSASLAuthenticate(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.SASLAuthenticateRequest)
	resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	c := r.conn
	if c.auth.session == nil {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		resp.ErrorMessage = kmsg.StringPtr("Unexpected SaslAuthenticate request: no SASL exchange was started with SaslHandshake")
		if !c.auth.authenticated {
			return closeAfter(resp), nil
		}
		return Respond(resp), nil
	}
	answer, done, msg, err := c.saslStep(req.SASLAuthBytes)
	if err != nil {
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		resp.ErrorMessage = &msg
		return closeAfter(resp), nil
	}
	resp.SASLAuthBytes = answer
	if done && r.Version >= 1 {
		resp.SessionLifetimeMillis = c.auth.sessionLifetime(time.Now())
	}
	return Respond(resp), nil
}

func init() {
	register(API{Key: kmsg.SASLHandshake, MinVersion: 0, MaxVersion: 1, Handle: handleSASLHandshake})
	register(API{Key: kmsg.SASLAuthenticate, MinVersion: 0, MaxVersion: 2, Handle: handleSASLAuthenticate})
}
