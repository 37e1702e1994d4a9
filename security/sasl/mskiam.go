package sasl

// Amazon MSK's IAM authentication, served from AWS-style credentials (an
// awscreds.Store) instead of IAM: the two SASL forms MSK clients use.
//
//   - AWS_MSK_IAM (aws-msk-iam-auth for Java, franz-go's pkg/sasl/aws,
//     librdkafka forks): one JSON message holding the query parameters of
//     a presigned SigV4 GET https://HOST/?Action=kafka-cluster%3AConnect.
//   - OAUTHBEARER with an MSK IAM token (aws-msk-iam-sasl-signer-go, -js,
//     -python, -net): RFC 7628's client message whose bearer token is the
//     base64url of such a presigned URL.
//
// Both are checked by rebuilding the presigned request and handing it to
// security/sigv4's Verifier, so the signature, the credential scope
// (region and the service kafka-cluster), the clock skew, the expiry and
// the session token are checked by the same code as on the AWS port.

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/security/sigv4"
)

// MSK's protocol constants.
const (
	// MSKIAMVersion is the one version of AWS_MSK_IAM's JSON messages.
	MSKIAMVersion = "2020_10_22"
	// MSKConnectAction is the action every MSK IAM signature is for.
	MSKConnectAction = "kafka-cluster:Connect"
	// MSKSigningName is the service in MSK IAM credential scopes.
	MSKSigningName = "kafka-cluster"
)

// mskService is how MSK IAM requests are signed: a GET with an empty body
// whose hash is signed (the signers do not use UNSIGNED-PAYLOAD).
var mskService = sigv4.Service{Name: MSKSigningName}

// AWSMSKIAM serves AWS_MSK_IAM, verifying each client's signature with v
// (whose Region the credential scope must name). The principal is the
// access key id, as on the AWS port: MSK names the IAM identity's ARN,
// which a bridge without IAM does not have. A session expires when its
// signature does (x-amz-date + x-amz-expires), so Kafka's KIP-368
// re-authentication is due by then.
func AWSMSKIAM(v *sigv4.Verifier) Mechanism { return AWSMSKIAMConnect(v, nil) }

// ConnectCheck decides, once a signature verified, whether its access key
// may connect at all (kafka-cluster:Connect in the key's IAM policies): MSK
// refuses the login of a key without it, as a failed authentication, so
// the client learns at once rather than on every request. The error is
// the reason logged and audited; the client is told only that access was
// denied. Nil allows every verified key.
type ConnectCheck func(accessKeyID string) error

// AWSMSKIAMConnect is AWSMSKIAM with connect deciding each verified key's
// login.
func AWSMSKIAMConnect(v *sigv4.Verifier, connect ConnectCheck) Mechanism {
	return mskIAMMechanism{v, connect}
}

type mskIAMMechanism struct {
	v       *sigv4.Verifier
	connect ConnectCheck
}

func (mskIAMMechanism) Name() string     { return MSKIAM }
func (m mskIAMMechanism) Start() Session { return &mskIAMSession{v: m.v, connect: m.connect} }

// mskIAMPayload is AWS_MSK_IAM's client message, parsed.
type mskIAMPayload struct {
	// host is the host as the client signed it (franz-go and the Java
	// client leave the port out).
	host string
	// userAgent is not signed: IAM policies may match it
	// (aws:UserAgent); the bridge does not use it.
	userAgent string
	// query is the presigned URL's query, X-Amz-Signature included.
	query url.Values
}

// mskIAMKeys are the JSON keys of AWS_MSK_IAM's message, with the query
// parameter each one stands for ("" for those that are not parameters)
// and whether it may be left out. x-amz-expires is required although
// SigV4 has it optional: every MSK signer sends it, and without it a
// session would not expire.
var mskIAMKeys = []struct {
	key, param string
	optional   bool
}{
	{"version", "", false},
	{"host", "", false},
	{"user-agent", "", true},
	{"action", "Action", false},
	{"x-amz-algorithm", "X-Amz-Algorithm", false},
	{"x-amz-credential", "X-Amz-Credential", false},
	{"x-amz-date", "X-Amz-Date", false},
	{"x-amz-security-token", "X-Amz-Security-Token", true},
	{"x-amz-signedheaders", "X-Amz-SignedHeaders", false},
	{"x-amz-expires", "X-Amz-Expires", false},
	{"x-amz-signature", "X-Amz-Signature", false},
}

// parseMSKIAM reads AWS_MSK_IAM's JSON message: an object of string
// values whose keys are lower case (as every client sends them). Keys it
// does not know are ignored, as they are not signed.
func parseMSKIAM(msg []byte) (mskIAMPayload, error) {
	var p mskIAMPayload
	var kv map[string]string
	if err := json.Unmarshal(msg, &kv); err != nil || kv == nil {
		return p, errors.New("the AWS_MSK_IAM message is not a JSON object of strings")
	}
	p.query = url.Values{}
	var missing []string
	for _, k := range mskIAMKeys {
		v, ok := kv[k.key]
		if !ok || v == "" {
			if !k.optional {
				missing = append(missing, k.key)
			}
			continue
		}
		switch {
		case k.key == "host":
			p.host = v
		case k.key == "user-agent":
			p.userAgent = v
		case k.param != "":
			p.query.Set(k.param, v)
		}
	}
	if missing != nil {
		return p, fmt.Errorf("the AWS_MSK_IAM message lacks %s", strings.Join(missing, ", "))
	}
	if v := kv["version"]; v != MSKIAMVersion {
		return p, fmt.Errorf("AWS_MSK_IAM version %q, want %s", clip(v), MSKIAMVersion)
	}
	if a := kv["action"]; a != MSKConnectAction {
		return p, fmt.Errorf("AWS_MSK_IAM action %q, want %s", clip(a), MSKConnectAction)
	}
	if strings.ContainsAny(p.host, "/?#@ \t\r\n") {
		return p, fmt.Errorf("AWS_MSK_IAM host %q is not a host name", clip(p.host))
	}
	return p, nil
}

// request is the presigned GET the message stands for.
func (p mskIAMPayload) request() *http.Request {
	return presignedGET(p.host, p.query.Encode())
}

// presignedGET is a GET of https://host/?rawQuery as the sigv4 Verifier
// reads it.
func presignedGET(host, rawQuery string) *http.Request {
	return &http.Request{
		Method: http.MethodGet,
		URL:    &url.URL{Scheme: "https", Host: host, Path: "/", RawQuery: rawQuery},
		Host:   host,
		Header: http.Header{},
	}
}

// verifyPresigned checks a presigned MSK IAM request and returns its
// signer and when the signature expires.
func verifyPresigned(v *sigv4.Verifier, r *http.Request) (sigv4.Identity, time.Time, error) {
	id, err := v.Verify(r, mskService, nil)
	if err != nil {
		return id, time.Time{}, err
	}
	// Verify read X-Amz-Expires already; it is required here, so a
	// signature without it (which Verify accepts within the skew) fails.
	n, err := strconv.Atoi(r.URL.Query().Get("X-Amz-Expires"))
	if err != nil || n < 1 {
		return id, time.Time{}, errors.New("the signature has no X-Amz-Expires")
	}
	return id, id.Time.Add(time.Duration(n) * time.Second), nil
}

// mskIAMSession is one AWS_MSK_IAM exchange: the client's message, the
// server's JSON answer.
type mskIAMSession struct {
	v       *sigv4.Verifier
	connect ConnectCheck
	user    string
	expiry  time.Time
	stepped bool
}

func (s *mskIAMSession) Step(client []byte) ([]byte, bool, error) {
	if s.stepped {
		return nil, false, errors.New("AWS_MSK_IAM exchange is already over")
	}
	s.stepped = true
	reqID := requestID()
	// MSK tells a refused client only the request id and "Access
	// denied"; the reason goes to the log.
	denied := "[" + reqID + "]: Access denied"
	p, err := parseMSKIAM(client)
	if err != nil {
		return nil, false, &Failure{Message: denied, Reason: err.Error()}
	}
	id, exp, err := verifyPresigned(s.v, p.request())
	if err != nil {
		return nil, false, &Failure{Message: denied, Reason: mskReason(id, err)}
	}
	if s.connect != nil {
		if err := s.connect(id.AccessKeyID); err != nil {
			return nil, false, &Failure{Message: denied, Reason: "access key " + id.AccessKeyID + ": " + err.Error()}
		}
	}
	s.user, s.expiry = id.AccessKeyID, exp
	answer, _ := json.Marshal(struct {
		Version   string `json:"version"`
		RequestID string `json:"request-id"`
	}{MSKIAMVersion, reqID})
	return answer, true, nil
}

func (s *mskIAMSession) Principal() string { return s.user }
func (s *mskIAMSession) Expiry() time.Time { return s.expiry }

// mskReason is a refusal's reason for the log: the sigv4 reason with the
// access key id it named.
func mskReason(id sigv4.Identity, err error) string {
	key := id.AccessKeyID
	if e, ok := errors.AsType[*sigv4.Error](err); ok && e.AccessKeyID != "" {
		key = e.AccessKeyID
	}
	if key == "" {
		return err.Error()
	}
	return fmt.Sprintf("access key %s: %v", key, err)
}

// requestID is a random UUID (version 4), the form of MSK's request ids.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// OAuthBearerMSKIAM serves OAUTHBEARER (RFC 7628, Kafka's KIP-255) with
// MSK IAM tokens: the base64url (unpadded) of a presigned
// https://kafka.REGION.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-...
// URL, as aws-msk-iam-sasl-signer-go makes them. It takes no other
// bearer tokens (JWTs). Principal and expiry are as for AWSMSKIAM; an
// authorization id, when the client sends one, must be the principal.
//
// A refused token is answered as Kafka's OAuthBearerSaslServer does: the
// error JSON {"status":"invalid_token"} as a challenge, which the client
// acknowledges with %x01, and then the exchange fails (the Kafka front
// end answers SASL_AUTHENTICATION_FAILED). A malformed message fails at
// once.
func OAuthBearerMSKIAM(v *sigv4.Verifier) Mechanism { return OAuthBearerMSKIAMConnect(v, nil) }

// OAuthBearerMSKIAMConnect is OAuthBearerMSKIAM with connect deciding each
// verified key's login; a refusal is an invalid token.
func OAuthBearerMSKIAMConnect(v *sigv4.Verifier, connect ConnectCheck) Mechanism {
	return oauthMechanism{v, connect}
}

type oauthMechanism struct {
	v       *sigv4.Verifier
	connect ConnectCheck
}

func (oauthMechanism) Name() string     { return OAuthBearer }
func (m oauthMechanism) Start() Session { return &oauthSession{v: m.v, connect: m.connect} }

// oauthInvalidToken is Kafka's error challenge for a token that does not
// validate.
const oauthInvalidToken = `{"status":"invalid_token"}`

// oauthMessage is RFC 7628's client initial response, parsed.
type oauthMessage struct {
	authzid string
	token   string
	// ext are the key=value pairs other than auth (Kafka's SASL
	// extensions); MSK IAM has none and they are ignored.
	ext map[string]string
}

// RFC 7628's grammar as Kafka's OAuthBearerClientInitialResponse reads it.
var (
	oauthKey   = regexp.MustCompile(`^[A-Za-z]+$`)
	oauthValue = regexp.MustCompile(`^[\x21-\x7E \t\r\n]+$`)
	oauthAuth  = regexp.MustCompile(`^(?i:bearer) +([-_.A-Za-z0-9]+)$`)
)

// parseOAuthBearer reads n,[a=AUTHZID],%x01auth=Bearer TOKEN%x01[k=v%x01...]%x01.
func parseOAuthBearer(msg []byte) (oauthMessage, error) {
	var m oauthMessage
	gs2, rest, ok := bytes.Cut(msg, []byte{1})
	if !ok {
		return m, errors.New("OAUTHBEARER message has no %x01 after the GS2 header")
	}
	// "n,": the client does not do channel binding; Kafka refuses "y"
	// and "p=" as well.
	h, ok := bytes.CutPrefix(gs2, []byte("n,"))
	if !ok || len(h) == 0 || h[len(h)-1] != ',' {
		return m, fmt.Errorf("OAUTHBEARER GS2 header %q: want n,[a=AUTHZID],", clip(string(gs2)))
	}
	if h = h[:len(h)-1]; len(h) > 0 {
		z, ok := bytes.CutPrefix(h, []byte("a="))
		if !ok || len(z) == 0 || bytes.ContainsAny(z, ",\x00") {
			return m, fmt.Errorf("OAUTHBEARER GS2 header %q: bad authorization id", clip(string(gs2)))
		}
		// SASLname escapes "," and "=" as =2C and =3D (RFC 5801).
		s := strings.NewReplacer("=2C", ",", "=3D", "=").Replace(string(z))
		m.authzid = s
	}
	body, ok := bytes.CutSuffix(rest, []byte{1})
	if !ok {
		return m, errors.New("OAUTHBEARER message does not end with %x01%x01")
	}
	m.ext = map[string]string{}
	auth := ""
	for len(body) > 0 {
		pair, tail, ok := bytes.Cut(body, []byte{1})
		if !ok {
			return m, errors.New("OAUTHBEARER key=value pair without its %x01")
		}
		body = tail
		k, v, ok := strings.Cut(string(pair), "=")
		if !ok || !oauthKey.MatchString(k) || !oauthValue.MatchString(v) {
			return m, fmt.Errorf("OAUTHBEARER key=value pair %q is malformed", clip(string(pair)))
		}
		if _, dup := m.ext[k]; dup || (k == "auth" && auth != "") {
			return m, fmt.Errorf("OAUTHBEARER key %q given twice", k)
		}
		if k == "auth" {
			auth = v
			continue
		}
		m.ext[k] = v
	}
	sm := oauthAuth.FindStringSubmatch(auth)
	if sm == nil {
		return m, errors.New("OAUTHBEARER message has no auth=Bearer TOKEN")
	}
	m.token = sm[1]
	return m, nil
}

// mskToken is an MSK IAM token decoded: the presigned request it holds.
// The signers add User-Agent to the URL after signing it, so it is taken
// out of the query that is verified.
func mskToken(token string) (*http.Request, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, "", errors.New("the token is not unpadded base64url")
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return nil, "", errors.New("the token is not a URL")
	}
	if u.Scheme != "https" || u.Host == "" || (u.Path != "/" && u.Path != "") || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return nil, "", fmt.Errorf("the token's URL %s://%s%s is not an MSK IAM presigned URL (https://HOST/?...)", clip(u.Scheme), clip(u.Host), clip(u.Path))
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, "", errors.New("the token's query does not parse")
	}
	if a := q["Action"]; len(a) != 1 || a[0] != MSKConnectAction {
		return nil, "", fmt.Errorf("the token's Action is %q, want %s", clip(strings.Join(a, ",")), MSKConnectAction)
	}
	ua := q["User-Agent"]
	if len(ua) > 1 {
		return nil, "", errors.New("the token has User-Agent more than once")
	}
	delete(q, "User-Agent")
	// Encode sorts and escapes: the Verifier canonicalizes the query
	// again, so only the set of parameters matters.
	r := presignedGET(u.Host, q.Encode())
	if len(ua) == 1 {
		return r, ua[0], nil
	}
	return r, "", nil
}

// oauthSession is one OAUTHBEARER exchange.
type oauthSession struct {
	v       *sigv4.Verifier
	connect ConnectCheck
	user    string
	expiry  time.Time
	// refused is set once the error challenge was sent: the client's
	// next message (%x01) ends the exchange with this failure.
	refused *Failure
	stepped bool
}

func (s *oauthSession) Step(client []byte) ([]byte, bool, error) {
	switch {
	case s.refused != nil:
		f := s.refused
		s.refused = nil
		if !bytes.Equal(client, []byte{1}) {
			f.Reason += fmt.Sprintf("; the client answered the error with %d bytes, not %%x01", len(client))
		}
		return nil, false, f
	case s.stepped:
		return nil, false, errors.New("OAUTHBEARER exchange is already over")
	}
	s.stepped = true
	m, err := parseOAuthBearer(client)
	if err != nil {
		return nil, false, &Failure{Message: "Authentication failed: Invalid OAUTHBEARER client first message", Reason: err.Error()}
	}
	fail := func(reason string) ([]byte, bool, error) {
		s.refused = &Failure{Message: oauthInvalidToken, Reason: reason}
		return []byte(oauthInvalidToken), false, nil
	}
	r, _, err := mskToken(m.token)
	if err != nil {
		return fail(err.Error())
	}
	id, exp, err := verifyPresigned(s.v, r)
	if err != nil {
		return fail(mskReason(id, err))
	}
	if m.authzid != "" && m.authzid != id.AccessKeyID {
		return fail(fmt.Sprintf("access key %s: authorization id %q is not the token's principal", id.AccessKeyID, clip(m.authzid)))
	}
	if s.connect != nil {
		if err := s.connect(id.AccessKeyID); err != nil {
			return fail("access key " + id.AccessKeyID + ": " + err.Error())
		}
	}
	s.user, s.expiry = id.AccessKeyID, exp
	return nil, true, nil
}

// Refused is the failure the error challenge announced, until the client
// acknowledged it.
func (s *oauthSession) Refused() *Failure { return s.refused }

func (s *oauthSession) Principal() string { return s.user }
func (s *oauthSession) Expiry() time.Time { return s.expiry }

// clip bounds what a reason quotes from a client.
func clip(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}
