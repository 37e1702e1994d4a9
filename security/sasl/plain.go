package sasl

import (
	"bytes"
	"crypto/hmac"
	"fmt"
	"time"
)

// PlainMechanism serves PLAIN (RFC 4616) from the SCRAM credentials of
// creds: the password a client sends is salted with the user's SCRAM-SHA-256
// salt (SCRAM-SHA-512 when the user has only that) and its stored key
// compared in constant time. Only use PLAIN over TLS (SASL_SSL): the
// password crosses the wire as is.
func PlainMechanism(creds Credentials) Mechanism { return plainMechanism{creds} }

type plainMechanism struct{ creds Credentials }

func (plainMechanism) Name() string     { return Plain }
func (m plainMechanism) Start() Session { return &plainSession{creds: m.creds} }

type plainSession struct {
	creds Credentials
	user  string
	done  bool
}

// plainFailed is Kafka's word for every PLAIN refusal: the client does not
// learn whether the user exists.
const plainFailed = "Authentication failed: Invalid username or password"

func (s *plainSession) Step(client []byte) ([]byte, bool, error) {
	if s.done {
		return nil, false, fmt.Errorf("PLAIN exchange is already over")
	}
	s.done = true
	authzid, rest, ok1 := bytes.Cut(client, []byte{0})
	user, password, ok2 := bytes.Cut(rest, []byte{0})
	if !ok1 || !ok2 || bytes.IndexByte(password, 0) >= 0 {
		return nil, false, &Failure{Message: "Invalid SASL/PLAIN response: expected 3 tokens", Reason: "malformed PLAIN message"}
	}
	if len(user) == 0 || len(password) == 0 {
		return nil, false, &Failure{Message: "Authentication failed: username or password not specified", Reason: "empty username or password"}
	}
	if len(authzid) > 0 && !bytes.Equal(authzid, user) {
		return nil, false, &Failure{
			Message: "Authentication failed: Client requested an authorization id that is different from username",
			Reason:  fmt.Sprintf("user %q asked for authorization id %q", user, authzid),
		}
	}
	name := string(user)
	for _, mech := range []string{ScramSHA256, ScramSHA512} {
		stored, ok := s.creds.SCRAM(mech, name)
		if !ok {
			continue
		}
		got, err := NewCredential(mech, string(password), []byte(stored.Salt), stored.Iters)
		if err != nil || !hmac.Equal(got.StoredKey, stored.StoredKey) {
			return nil, false, &Failure{Message: plainFailed, Reason: fmt.Sprintf("user %q: wrong password", name)}
		}
		s.user = name
		return nil, true, nil
	}
	return nil, false, &Failure{Message: plainFailed, Reason: fmt.Sprintf("user %q: unknown", name)}
}

func (s *plainSession) Principal() string { return s.user }
func (s *plainSession) Expiry() time.Time { return time.Time{} }
