package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/xdg-go/scram"
)

// Credentials finds the salted SCRAM credentials of a user for one SCRAM
// mechanism (ScramSHA256 or ScramSHA512).
type Credentials interface {
	SCRAM(mechanism, user string) (scram.StoredCredentials, bool)
}

// Iteration bounds of SCRAM credentials, as Kafka's ScramMechanism sets
// them: fewer than 4096 is refused as weak, more than 16384 as a denial of
// service waiting to happen on every login.
const (
	MinIterations = 4096
	MaxIterations = 16384
)

// hashOf returns the hash of a SCRAM mechanism.
func hashOf(mechanism string) (func() hash.Hash, scram.HashGeneratorFcn, error) {
	switch mechanism {
	case ScramSHA256:
		return sha256.New, scram.SHA256, nil
	case ScramSHA512:
		return sha512.New, scram.SHA512, nil
	}
	return nil, nil, fmt.Errorf("sasl: %q is not a SCRAM mechanism", mechanism)
}

// SaltPassword is SCRAM's Hi(password, salt, iterations). Kafka feeds the
// password's UTF-8 bytes in unchanged (no SASLprep), and so do we, so that
// credentials set through AlterUserScramCredentials by any Kafka tool
// match.
func SaltPassword(mechanism, password string, salt []byte, iterations int) ([]byte, error) {
	h, _, err := hashOf(mechanism)
	if err != nil {
		return nil, err
	}
	return pbkdf2.Key(h, password, salt, iterations, h().Size())
}

// StoredFromSalted derives what a server keeps (StoredKey, ServerKey) from
// a salted password, which is what AlterUserScramCredentials carries.
func StoredFromSalted(mechanism string, salted, salt []byte, iterations int) (scram.StoredCredentials, error) {
	h, _, err := hashOf(mechanism)
	if err != nil {
		return scram.StoredCredentials{}, err
	}
	if len(salted) != h().Size() {
		return scram.StoredCredentials{}, fmt.Errorf("salted password of %d bytes, want %d for %s", len(salted), h().Size(), mechanism)
	}
	clientKey := mac(h, salted, "Client Key")
	stored := h()
	stored.Write(clientKey)
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(salt), Iters: iterations},
		StoredKey:  stored.Sum(nil),
		ServerKey:  mac(h, salted, "Server Key"),
	}, nil
}

// NewCredential salts password with salt for mechanism.
func NewCredential(mechanism, password string, salt []byte, iterations int) (scram.StoredCredentials, error) {
	salted, err := SaltPassword(mechanism, password, salt, iterations)
	if err != nil {
		return scram.StoredCredentials{}, err
	}
	return StoredFromSalted(mechanism, salted, salt, iterations)
}

func mac(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// SCRAM serves SCRAM-SHA-256 or SCRAM-SHA-512 from creds.
func SCRAM(mechanism string, creds Credentials) (Mechanism, error) {
	_, gen, err := hashOf(mechanism)
	if err != nil {
		return nil, err
	}
	m := &scramMechanism{name: mechanism}
	m.server, err = gen.NewServer(func(user string) (scram.StoredCredentials, error) {
		c, ok := creds.SCRAM(mechanism, user)
		if !ok {
			return scram.StoredCredentials{}, errUnknownUser
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

var errUnknownUser = errors.New("unknown user")

type scramMechanism struct {
	name   string
	server *scram.Server
}

func (m *scramMechanism) Name() string { return m.name }

func (m *scramMechanism) Start() Session {
	return &scramSession{mech: m.name, conv: m.server.NewConversation()}
}

// scramSession is a SCRAM exchange: client-first → server-first,
// client-final → server-final. Kafka has no third client message: the
// session is done when the server-final message (the server signature) is
// sent, and the client checks it.
type scramSession struct {
	mech string
	conv *scram.ServerConversation
}

func (s *scramSession) Step(client []byte) ([]byte, bool, error) {
	if s.conv.Done() {
		return nil, false, errors.New("SCRAM exchange is already over")
	}
	answer, err := s.conv.Step(string(client))
	if err != nil {
		return nil, false, &Failure{
			Message: "Authentication failed during authentication due to invalid credentials with SASL mechanism " + s.mech,
			Reason:  fmt.Sprintf("user %q: %v", s.conv.Username(), err),
		}
	}
	if s.conv.Done() {
		if !s.conv.Valid() {
			return nil, false, &Failure{Message: "Authentication failed with SASL mechanism " + s.mech, Reason: "invalid proof"}
		}
		if az := s.conv.AuthzID(); az != "" && az != s.conv.Username() {
			return nil, false, &Failure{
				Message: "Authentication failed: Client requested an authorization id that is different from username",
				Reason:  fmt.Sprintf("user %q asked for authorization id %q", s.conv.Username(), az),
			}
		}
		return []byte(answer), true, nil
	}
	return []byte(answer), false, nil
}

func (s *scramSession) Principal() string { return s.conv.Username() }
func (s *scramSession) Expiry() time.Time { return time.Time{} }
