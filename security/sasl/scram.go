package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
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
func hashOf(mechanism string) (func() hash.Hash, error) {
	switch mechanism {
	case ScramSHA256:
		return sha256.New, nil
	case ScramSHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("sasl: %q is not a SCRAM mechanism", mechanism)
}

// SaltPassword is SCRAM's Hi(password, salt, iterations). Kafka feeds the
// password's UTF-8 bytes in unchanged (no SASLprep), and so do we, so that
// credentials set through AlterUserScramCredentials by any Kafka tool
// match.
func SaltPassword(mechanism, password string, salt []byte, iterations int) ([]byte, error) {
	h, err := hashOf(mechanism)
	if err != nil {
		return nil, err
	}
	return pbkdf2.Key(h, password, salt, iterations, h().Size())
}

// StoredFromSalted derives what a server keeps (StoredKey, ServerKey) from
// a salted password, which is what AlterUserScramCredentials carries.
func StoredFromSalted(mechanism string, salted, salt []byte, iterations int) (scram.StoredCredentials, error) {
	h, err := hashOf(mechanism)
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
//
// The exchange is written here rather than taken from xdg-go/scram's
// server, whose credential derivation it shares: librdkafka (kcat,
// confluent-kafka; every version up to at least 2.x) sends its own nonce
// twice in the client-final message, which Kafka's server accepts (it only
// checks that the nonce ends with the one it sent) and an RFC 5802-strict
// server refuses. Kafka is the specification, so its check is ours.
func SCRAM(mechanism string, creds Credentials) (Mechanism, error) {
	h, err := hashOf(mechanism)
	if err != nil {
		return nil, err
	}
	return &scramMechanism{name: mechanism, hash: h, creds: creds}, nil
}

var errUnknownUser = errors.New("unknown user")

type scramMechanism struct {
	name  string
	hash  func() hash.Hash
	creds Credentials
}

func (m *scramMechanism) Name() string { return m.name }

func (m *scramMechanism) Start() Session { return &scramSession{m: m} }

// scramSession is a SCRAM exchange: client-first → server-first,
// client-final → server-final. Kafka has no third client message: the
// session is done when the server-final message (the server signature) is
// sent, and the client checks it.
type scramSession struct {
	m     *scramMechanism
	step  int
	user  string
	cred  scram.StoredCredentials
	gs2   string // the client's GS2 header, which c= must echo
	bare  string // client-first-message-bare
	first string // server-first-message
	nonce string // client nonce + server nonce
}

func (s *scramSession) fail(reason string) error {
	return &Failure{
		Message: "Authentication failed during authentication due to invalid credentials with SASL mechanism " + s.m.name,
		Reason:  fmt.Sprintf("user %q: %s", s.user, reason),
	}
}

func (s *scramSession) Step(client []byte) ([]byte, bool, error) {
	s.step++
	switch s.step {
	case 1:
		return s.clientFirst(string(client))
	case 2:
		return s.clientFinal(string(client))
	}
	return nil, false, errors.New("SCRAM exchange is already over")
}

// clientFirst reads "gs2-header,n=USER,r=NONCE[,extensions]" and answers
// "r=NONCE+SERVERNONCE,s=SALT,i=ITERATIONS".
func (s *scramSession) clientFirst(msg string) ([]byte, bool, error) {
	cb, rest, ok1 := strings.Cut(msg, ",")
	authz, bare, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 || (cb != "n" && cb != "y") {
		return nil, false, s.fail("malformed client-first message (channel binding is not supported)")
	}
	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") || len(attrs[1]) == 2 {
		return nil, false, s.fail("malformed client-first message")
	}
	user, ok := decodeSASLName(attrs[0][2:])
	if !ok {
		return nil, false, s.fail("malformed user name")
	}
	s.user = user
	if authz != "" {
		az, ok := decodeSASLName(strings.TrimPrefix(authz, "a="))
		if !strings.HasPrefix(authz, "a=") || !ok || az != user {
			return nil, false, &Failure{
				Message: "Authentication failed: Client requested an authorization id that is different from username",
				Reason:  fmt.Sprintf("user %q asked for authorization id %q", user, authz),
			}
		}
	}
	cred, ok := s.m.creds.SCRAM(s.m.name, user)
	if !ok {
		return nil, false, s.fail(errUnknownUser.Error())
	}
	s.cred, s.gs2, s.bare = cred, cb+","+authz+",", bare
	serverNonce := make([]byte, 24)
	rand.Read(serverNonce)
	s.nonce = attrs[1][2:] + base64.RawURLEncoding.EncodeToString(serverNonce)
	s.first = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString([]byte(cred.Salt)) + ",i=" + strconv.Itoa(cred.Iters)
	return []byte(s.first), false, nil
}

// clientFinal reads "c=GS2,r=NONCE[,extensions],p=PROOF", checks the proof
// and answers "v=SERVERSIGNATURE".
func (s *scramSession) clientFinal(msg string) ([]byte, bool, error) {
	withoutProof, proofB64, ok := strings.Cut(msg, ",p=")
	attrs := strings.Split(withoutProof, ",")
	if !ok || len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return nil, false, s.fail("malformed client-final message")
	}
	if cb, err := base64.StdEncoding.DecodeString(attrs[0][2:]); err != nil || string(cb) != s.gs2 {
		return nil, false, s.fail("channel binding does not echo the GS2 header")
	}
	if !strings.HasSuffix(attrs[1][2:], s.nonce) {
		return nil, false, s.fail("nonce does not end with the server's")
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != len(s.cred.StoredKey) {
		return nil, false, s.fail("malformed proof")
	}
	authMsg := s.bare + "," + s.first + "," + withoutProof
	clientKey := mac(s.m.hash, s.cred.StoredKey, authMsg)
	for i := range clientKey {
		clientKey[i] ^= proof[i]
	}
	stored := s.m.hash()
	stored.Write(clientKey)
	if !hmac.Equal(stored.Sum(nil), s.cred.StoredKey) {
		return nil, false, s.fail("invalid proof (wrong password)")
	}
	s.step = 3
	return []byte("v=" + base64.StdEncoding.EncodeToString(mac(s.m.hash, s.cred.ServerKey, authMsg))), true, nil
}

// decodeSASLName undoes RFC 5802's escaping of "," as "=2C" and "=" as
// "=3D"; any other "=" is malformed.
func decodeSASLName(s string) (string, bool) {
	if !strings.Contains(s, "=") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

func (s *scramSession) Principal() string {
	if s.step < 3 {
		return ""
	}
	return s.user
}
func (s *scramSession) Expiry() time.Time { return time.Time{} }
