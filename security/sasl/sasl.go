// Package sasl is the server side of the SASL mechanisms Kafka clients
// authenticate with: PLAIN (RFC 4616), SCRAM-SHA-256/512 (RFC 5802,
// RFC 7677, as Kafka's KIP-84 uses them), and Amazon MSK's IAM
// authentication, as AWS_MSK_IAM and as OAUTHBEARER (RFC 7628) with MSK
// IAM tokens, checked against AWS-style credentials (mskiam.go). It
// knows nothing of the Kafka protocol: the Kafka front end carries the
// mechanism's messages in SaslHandshake and SaslAuthenticate (or raw
// frames after SaslHandshake v0) and asks a Session for each answer.
//
// Passwords are never kept: PLAIN and SCRAM check a user against the
// salted SCRAM credentials of a Credentials source (PLAIN derives the
// stored key from the password it is given and compares).
package sasl

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Mechanism names as Kafka clients send them in SaslHandshake.
const (
	Plain       = "PLAIN"
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
	MSKIAM      = "AWS_MSK_IAM"
	OAuthBearer = "OAUTHBEARER"
)

// Supported lists the mechanisms this package serves.
var Supported = []string{Plain, ScramSHA256, ScramSHA512, MSKIAM, OAuthBearer}

// Default is the mechanisms a listener enables unless told otherwise:
// those checked against users. The MSK IAM ones need AWS credentials,
// which a bridge need not have, so they are enabled only by name.
var Default = []string{Plain, ScramSHA256, ScramSHA512}

// NeedsAWSCredentials says whether a mechanism checks AWS signatures.
func NeedsAWSCredentials(mechanism string) bool {
	return mechanism == MSKIAM || mechanism == OAuthBearer
}

// Session is one authentication exchange on the server side. Step takes
// the client's next message and returns the server's answer; done is true
// once the exchange is over and succeeded. An error ends the exchange: a
// *Failure carries the message for the client, any other error is a
// malformed message (also a failure for the client, worded generically).
type Session interface {
	Step(client []byte) (server []byte, done bool, err error)
	// Principal is the authenticated user once done.
	Principal() string
	// Expiry is when the credential presented stops being valid (tokens);
	// zero for passwords, which do not expire.
	Expiry() time.Time
}

// Refuser is a Session that can refuse in two steps, as OAUTHBEARER does
// (RFC 7628: an error challenge, the client's %x01, then the failure).
// Refused is the failure already decided while the exchange waits for
// the client's last message, nil otherwise: a client that never sends it
// (kafkajs takes the challenge for success and sends its next request)
// is refused for this reason.
type Refuser interface {
	Refused() *Failure
}

// Failure is a refused authentication. Message is what the client is told,
// in Kafka's words; Reason is for the server's log only (it may say whether
// the user exists, which the client must not learn).
type Failure struct {
	Message string
	Reason  string
}

func (f *Failure) Error() string { return f.Message + " (" + f.Reason + ")" }

// Mechanism starts sessions of one SASL mechanism.
type Mechanism interface {
	Name() string
	Start() Session
}

// Authenticator holds the mechanisms enabled on a listener.
type Authenticator struct {
	mechs map[string]Mechanism
	names []string
}

// NewAuthenticator enables mechs, in the order Kafka clients are told them
// in an UNSUPPORTED_SASL_MECHANISM answer.
func NewAuthenticator(mechs ...Mechanism) (*Authenticator, error) {
	a := &Authenticator{mechs: make(map[string]Mechanism, len(mechs))}
	for _, m := range mechs {
		if _, dup := a.mechs[m.Name()]; dup {
			return nil, fmt.Errorf("sasl: mechanism %s enabled twice", m.Name())
		}
		a.mechs[m.Name()] = m
		a.names = append(a.names, m.Name())
	}
	if len(a.names) == 0 {
		return nil, errors.New("sasl: no mechanism enabled")
	}
	return a, nil
}

// Enabled returns the names of the enabled mechanisms.
func (a *Authenticator) Enabled() []string { return slices.Clone(a.names) }

// Start begins a session of the named mechanism; ok is false when it is
// not enabled. Names compare exactly, as Kafka compares them.
func (a *Authenticator) Start(mechanism string) (s Session, ok bool) {
	m, ok := a.mechs[mechanism]
	if !ok {
		return nil, false
	}
	return m.Start(), true
}

// ParseMechanisms checks a comma-separated list of mechanism names (the
// form of Kafka's sasl.enabled.mechanisms).
func ParseMechanisms(list string) ([]string, error) {
	var out []string
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(Supported, name) {
			return nil, fmt.Errorf("SASL mechanism %q is not supported; want some of %s", name, strings.Join(Supported, ","))
		}
		if slices.Contains(out, name) {
			return nil, fmt.Errorf("SASL mechanism %s listed twice", name)
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, errors.New("no SASL mechanism listed")
	}
	return out, nil
}
