package sasl

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	signer "github.com/aws/aws-msk-iam-sasl-signer-go/signer"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	kaws "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/oauth"

	"github.com/streambridge/bridge/security/awscreds"
	"github.com/streambridge/bridge/security/sigv4"
)

// The keys the tests' bridge accepts: a long-term one and a temporary one
// with a session token.
const (
	mskKey       = "AKIAMSKTESTKEY000001"
	mskSecret    = "msk/secret+key/0123456789abcdefghijklmn"
	mskTempKey   = "ASIAMSKTESTKEY000002"
	mskTempSec   = "temp/secret/0123456789abcdefghijklmnopq"
	mskSessToken = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token/with=all+chars"
	mskRegion    = "us-east-1"
	mskBroker    = "b-1.demo.abc123.c2.kafka.us-east-1.amazonaws.com:9098"
	mskBrokerEU  = "b-1.demo.abc123.c2.kafka.eu-west-1.amazonaws.com:9098"
	signerAgent  = "aws-msk-iam-sasl-signer-go/"
	fixedSigning = "20261204T054500Z"
)

func mskStore(t testing.TB) *awscreds.Store {
	s, err := awscreds.New(
		awscreds.Credential{AccessKeyID: mskKey, SecretAccessKey: mskSecret, Name: "main"},
		awscreds.Credential{AccessKeyID: mskTempKey, SecretAccessKey: mskTempSec, SessionToken: mskSessToken, Name: "temp"},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// verifierAt is a Verifier whose clock reads at.
func verifierAt(t testing.TB, at time.Time) *sigv4.Verifier {
	return &sigv4.Verifier{Credentials: mskStore(t), Region: mskRegion, Now: func() time.Time { return at }}
}

// awsKey is the credentials a client signs with.
type awsKey struct{ key, secret, token string }

var (
	rightCreds  = awsKey{mskKey, mskSecret, ""}
	tempCreds   = awsKey{mskTempKey, mskTempSec, mskSessToken}
	wrongSecret = awsKey{mskKey, "not-the-secret", ""}
	unknownKey  = awsKey{"AKIAUNKNOWNKEY000009", mskSecret, ""}
	noToken     = awsKey{mskTempKey, mskTempSec, ""}
	wrongToken  = awsKey{mskTempKey, mskTempSec, "another-token"}
	extraToken  = awsKey{mskKey, mskSecret, mskSessToken}
)

// franzPayload is the AWS_MSK_IAM message franz-go's client sends to
// broker, signed now.
func franzPayload(t *testing.T, c awsKey, broker string) []byte {
	t.Helper()
	m := kaws.Auth{AccessKey: c.key, SecretKey: c.secret, SessionToken: c.token, UserAgent: "franz-go/test"}.AsManagedStreamingIAMMechanism()
	_, msg, err := m.Authenticate(context.Background(), broker)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// signerToken is aws-msk-iam-sasl-signer-go's token for region, signed
// now with static credentials (the signer calls no AWS endpoint then).
func signerToken(t *testing.T, c awsKey, region string) string {
	t.Helper()
	tok, _, err := signer.GenerateAuthTokenFromCredentialsProvider(context.Background(), region,
		credentials.NewStaticCredentialsProvider(c.key, c.secret, c.token))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// sdkPresigned is a presigned GET https://host/?Action=kafka-cluster:Connect
// made by the AWS SDK's signer at a fixed time, for service, as the Java
// client's SDK signer makes it.
func sdkPresigned(t *testing.T, c awsKey, service, region, host string, at time.Time) *url.URL {
	t.Helper()
	q := url.Values{"Action": {MSKConnectAction}, "X-Amz-Expires": {"900"}}
	r, err := http.NewRequest(http.MethodGet, "https://"+host+"/?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: c.key, SecretAccessKey: c.secret, SessionToken: c.token}, r, emptySHA256, service, region, at)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// payloadOf turns a presigned URL into AWS_MSK_IAM's JSON message.
func payloadOf(t *testing.T, u *url.URL) []byte {
	t.Helper()
	kv := map[string]string{"version": MSKIAMVersion, "host": u.Hostname(), "user-agent": "aws-msk-iam-auth/test"}
	for k, vs := range u.Query() {
		kv[strings.ToLower(k)] = vs[0]
	}
	b, err := json.Marshal(kv)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tokenOf is an MSK IAM token of a presigned URL, with User-Agent added
// after signing as the signer adds it.
func tokenOf(u *url.URL) string {
	q := u.Query()
	q.Set("User-Agent", signerAgent+"test")
	v := *u
	v.RawQuery = q.Encode()
	return base64.RawURLEncoding.EncodeToString([]byte(v.String()))
}

// signedAt is when an AWS_MSK_IAM message or MSK IAM token was signed.
func signedAt(t *testing.T, msg []byte, token string) time.Time {
	t.Helper()
	var date string
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(string(raw))
		if err != nil {
			t.Fatal(err)
		}
		date = u.Query().Get("X-Amz-Date")
	} else {
		var kv map[string]string
		if err := json.Unmarshal(msg, &kv); err != nil {
			t.Fatal(err)
		}
		date = kv["x-amz-date"]
	}
	at, err := time.Parse("20060102T150405Z", date)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// editJSON changes one key of an AWS_MSK_IAM message ("" deletes it).
func editJSON(t *testing.T, msg []byte, key, value string) []byte {
	t.Helper()
	var kv map[string]string
	if err := json.Unmarshal(msg, &kv); err != nil {
		t.Fatal(err)
	}
	if value == "" {
		delete(kv, key)
	} else {
		kv[key] = value
	}
	b, _ := json.Marshal(kv)
	return b
}

// editToken changes one query parameter of an MSK IAM token.
func editToken(t *testing.T, token, param, value string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(param, value)
	u.RawQuery = q.Encode()
	return base64.RawURLEncoding.EncodeToString([]byte(u.String()))
}

func oauthMsg(authzid, token string) []byte {
	return []byte("n," + authzid + ",\x01auth=Bearer " + token + "\x01\x01")
}

func TestAWSMSKIAM(t *testing.T) {
	fixed, _ := time.Parse("20060102T150405Z", fixedSigning)
	type tc struct {
		name string
		msg  []byte
		// now is the bridge's clock as an offset from the signing time.
		now  time.Duration
		user string // "" when refused
	}
	franz := franzPayload(t, rightCreds, mskBroker)
	cases := []tc{
		{name: "franz-go", msg: franz, now: time.Minute, user: mskKey},
		{name: "franz-go session token", msg: franzPayload(t, tempCreds, mskBroker), user: mskTempKey},
		{name: "franz-go just before expiry", msg: franz, now: 900 * time.Second, user: mskKey},
		{name: "franz-go within skew before signing", msg: franz, now: -4 * time.Minute, user: mskKey},
		{name: "sdk signer", msg: payloadOf(t, sdkPresigned(t, rightCreds, MSKSigningName, mskRegion, "b-2.demo.kafka.us-east-1.amazonaws.com", fixed)), user: mskKey},
		{name: "sdk signer session token", msg: payloadOf(t, sdkPresigned(t, tempCreds, MSKSigningName, mskRegion, "b-2.demo.kafka.us-east-1.amazonaws.com", fixed)), user: mskTempKey},
		{name: "unsigned user-agent changed", msg: editJSON(t, franz, "user-agent", "someone-else"), user: mskKey},

		{name: "expired", msg: franz, now: 901 * time.Second},
		{name: "signed in the future", msg: franz, now: -6 * time.Minute},
		{name: "wrong secret", msg: franzPayload(t, wrongSecret, mskBroker)},
		{name: "unknown key", msg: franzPayload(t, unknownKey, mskBroker)},
		{name: "missing session token", msg: franzPayload(t, noToken, mskBroker)},
		{name: "wrong session token", msg: franzPayload(t, wrongToken, mskBroker)},
		{name: "session token for a key without one", msg: franzPayload(t, extraToken, mskBroker)},
		{name: "wrong region", msg: franzPayload(t, rightCreds, mskBrokerEU)},
		{name: "wrong service", msg: payloadOf(t, sdkPresigned(t, rightCreds, "sts", mskRegion, "sts.amazonaws.com", fixed))},
		{name: "tampered host", msg: editJSON(t, franz, "host", "b-9.other.kafka.us-east-1.amazonaws.com")},
		{name: "tampered expires", msg: editJSON(t, franz, "x-amz-expires", "3600")},
		{name: "tampered signature", msg: editJSON(t, franz, "x-amz-signature", strings.Repeat("0", 64))},
		{name: "token dropped", msg: editJSON(t, franzPayload(t, tempCreds, mskBroker), "x-amz-security-token", "")},
		{name: "other action", msg: editJSON(t, franz, "action", "kafka-cluster:AlterCluster")},
		{name: "other version", msg: editJSON(t, franz, "version", "2019_01_01")},
		{name: "no expires", msg: editJSON(t, franz, "x-amz-expires", "")},
		{name: "no signature", msg: editJSON(t, franz, "x-amz-signature", "")},
		{name: "not JSON", msg: []byte("n,,\x01auth=Bearer x\x01\x01")},
		{name: "JSON of numbers", msg: []byte(`{"version":2020}`)},
		{name: "empty", msg: nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := fixed
			if _, err := parseMSKIAM(c.msg); err == nil {
				at = signedAt(t, c.msg, "")
			}
			sess := AWSMSKIAM(verifierAt(t, at.Add(c.now))).Start()
			answer, done, err := sess.Step(c.msg)
			if c.user == "" {
				var f *Failure
				if !errors.As(err, &f) || done || !strings.HasSuffix(f.Message, "]: Access denied") {
					t.Fatalf("got done=%v err=%v; want an Access denied *Failure", done, err)
				}
				t.Logf("refused: %s", f.Reason)
				return
			}
			if err != nil || !done {
				t.Fatalf("got done=%v err=%v; want accepted", done, err)
			}
			var resp struct {
				Version   string `json:"version"`
				RequestID string `json:"request-id"`
			}
			if err := json.Unmarshal(answer, &resp); err != nil || resp.Version != MSKIAMVersion || len(resp.RequestID) != 36 {
				t.Fatalf("answer %s is not MSK's", answer)
			}
			if sess.Principal() != c.user {
				t.Fatalf("principal %q, want %q", sess.Principal(), c.user)
			}
			if want := at.Add(900 * time.Second); !sess.Expiry().Equal(want) {
				t.Fatalf("expiry %v, want %v", sess.Expiry(), want)
			}
			// franz-go's client accepts the answer.
			if _, _, err := (franzSession{}).challenge(answer); err != nil {
				t.Fatal(err)
			}
			if _, _, err := sess.Step(c.msg); err == nil {
				t.Fatal("a second message was accepted")
			}
		})
	}
}

// franzSession runs franz-go's AWS_MSK_IAM client session on an answer.
type franzSession struct{}

func (franzSession) challenge(answer []byte) (bool, []byte, error) {
	sess, _, err := kaws.Auth{AccessKey: mskKey, SecretKey: mskSecret}.AsManagedStreamingIAMMechanism().Authenticate(context.Background(), mskBroker)
	if err != nil {
		return false, nil, err
	}
	return sess.Challenge(answer)
}

func TestOAuthBearerMSKIAM(t *testing.T) {
	fixed, _ := time.Parse("20060102T150405Z", fixedSigning)
	type tc struct {
		name string
		msg  []byte
		now  time.Duration // after signing
		user string        // "" when refused
		// malformed: refused at once, without the error challenge.
		malformed bool
	}
	tok := signerToken(t, rightCreds, mskRegion)
	sdkTok := tokenOf(sdkPresigned(t, rightCreds, MSKSigningName, mskRegion, "kafka.us-east-1.amazonaws.com", fixed))
	cases := []tc{
		{name: "signer", msg: oauthMsg("", tok), now: time.Minute, user: mskKey},
		{name: "signer session token", msg: oauthMsg("", signerToken(t, tempCreds, mskRegion)), user: mskTempKey},
		{name: "signer with authzid", msg: oauthMsg("a="+mskKey, tok), user: mskKey},
		{name: "signer with extension", msg: []byte("n,,\x01auth=Bearer " + tok + "\x01traceId=abc\x01\x01"), user: mskKey},
		{name: "lower-case scheme", msg: []byte("n,,\x01auth=bearer " + tok + "\x01\x01"), user: mskKey},
		{name: "sdk signer", msg: oauthMsg("", sdkTok), user: mskKey},
		{name: "sdk signer without user agent", msg: oauthMsg("", editToken(t, sdkTok, "User-Agent", "")), user: mskKey},
		{name: "just before expiry", msg: oauthMsg("", tok), now: 900 * time.Second, user: mskKey},
		{name: "unsigned user-agent changed", msg: oauthMsg("", editToken(t, tok, "User-Agent", "other/1.0")), user: mskKey},

		{name: "expired", msg: oauthMsg("", tok), now: 901 * time.Second},
		{name: "signed in the future", msg: oauthMsg("", tok), now: -6 * time.Minute},
		{name: "wrong secret", msg: oauthMsg("", signerToken(t, wrongSecret, mskRegion))},
		{name: "unknown key", msg: oauthMsg("", signerToken(t, unknownKey, mskRegion))},
		{name: "missing session token", msg: oauthMsg("", signerToken(t, noToken, mskRegion))},
		{name: "wrong session token", msg: oauthMsg("", signerToken(t, wrongToken, mskRegion))},
		{name: "wrong region", msg: oauthMsg("", signerToken(t, rightCreds, "eu-west-1"))},
		{name: "wrong service", msg: oauthMsg("", tokenOf(sdkPresigned(t, rightCreds, "sts", mskRegion, "sts.amazonaws.com", fixed)))},
		{name: "tampered expires", msg: oauthMsg("", editToken(t, tok, "X-Amz-Expires", "3600"))},
		{name: "tampered action", msg: oauthMsg("", editToken(t, tok, "Action", "kafka-cluster:AlterCluster"))},
		{name: "extra parameter", msg: oauthMsg("", editToken(t, tok, "Extra", "1"))},
		{name: "token dropped", msg: oauthMsg("", editToken(t, signerToken(t, tempCreds, mskRegion), "X-Amz-Security-Token", ""))},
		{name: "other authzid", msg: oauthMsg("a=someone", tok)},
		{name: "not a URL", msg: oauthMsg("", base64.RawURLEncoding.EncodeToString([]byte("eyJhbGciOiJIUzI1NiJ9")))},
		{name: "http URL", msg: oauthMsg("", base64.RawURLEncoding.EncodeToString([]byte("http://kafka.us-east-1.amazonaws.com/?Action=kafka-cluster%3AConnect")))},

		{name: "no GS2 header", msg: []byte("\x01auth=Bearer " + tok + "\x01\x01"), malformed: true},
		{name: "channel binding", msg: []byte("y,,\x01auth=Bearer " + tok + "\x01\x01"), malformed: true},
		{name: "no auth", msg: []byte("n,,\x01host=x\x01\x01"), malformed: true},
		{name: "auth twice", msg: []byte("n,,\x01auth=Bearer " + tok + "\x01auth=Bearer " + tok + "\x01\x01"), malformed: true},
		{name: "not bearer", msg: []byte("n,,\x01auth=Basic " + tok + "\x01\x01"), malformed: true},
		{name: "unterminated", msg: []byte("n,,\x01auth=Bearer " + tok + "\x01"), malformed: true},
		{name: "padded base64", msg: oauthMsg("", base64.URLEncoding.EncodeToString([]byte("https://kafka.us-east-1.amazonaws.com/?Action=x"))), malformed: true},
		{name: "empty", msg: nil, malformed: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := fixed
			if m, err := parseOAuthBearer(c.msg); err == nil {
				if raw, err := base64.RawURLEncoding.DecodeString(m.token); err == nil {
					if u, err := url.Parse(string(raw)); err == nil && u.Query().Get("X-Amz-Date") != "" {
						at = signedAt(t, nil, m.token)
					}
				}
			}
			sess := OAuthBearerMSKIAM(verifierAt(t, at.Add(c.now))).Start()
			answer, done, err := sess.Step(c.msg)
			switch {
			case c.malformed:
				var f *Failure
				if !errors.As(err, &f) || done {
					t.Fatalf("got done=%v err=%v; want a *Failure at once", done, err)
				}
				return
			case c.user == "":
				if err != nil || done || string(answer) != `{"status":"invalid_token"}` {
					t.Fatalf("got %q done=%v err=%v; want the invalid_token challenge", answer, done, err)
				}
				_, done, err = sess.Step([]byte{1})
				var f *Failure
				if !errors.As(err, &f) || done {
					t.Fatalf("after %%x01: done=%v err=%v; want a *Failure", done, err)
				}
				t.Logf("refused: %s", f.Reason)
				return
			}
			if err != nil || !done || len(answer) != 0 {
				t.Fatalf("got %q done=%v err=%v; want accepted", answer, done, err)
			}
			if sess.Principal() != c.user {
				t.Fatalf("principal %q, want %q", sess.Principal(), c.user)
			}
			if want := at.Add(900 * time.Second); !sess.Expiry().Equal(want) {
				t.Fatalf("expiry %v, want %v", sess.Expiry(), want)
			}
		})
	}
}

// TestOAuthBearerFranzClient runs franz-go's OAUTHBEARER client session
// against ours, accepted and refused, as the Kafka front end relays it.
func TestOAuthBearerFranzClient(t *testing.T) {
	for _, c := range []struct {
		name string
		cr   awsKey
		ok   bool
	}{{"right key", rightCreds, true}, {"wrong secret", wrongSecret, false}} {
		t.Run(c.name, func(t *testing.T) {
			tok := signerToken(t, c.cr, mskRegion)
			cl, first, err := oauth.Auth{Token: tok}.AsMechanism().Authenticate(context.Background(), "127.0.0.1:9092")
			if err != nil {
				t.Fatal(err)
			}
			srv := OAuthBearerMSKIAM(verifierAt(t, signedAt(t, nil, tok))).Start()
			msg := first
			for range 3 {
				answer, done, serr := srv.Step(msg)
				if serr != nil {
					if c.ok {
						t.Fatalf("refused: %v", serr)
					}
					return
				}
				cdone, next, cerr := cl.Challenge(answer)
				switch {
				case done && cdone && c.ok:
					return
				case cerr != nil:
					t.Fatalf("client: %v", cerr)
				}
				msg = next
			}
			t.Fatal("the exchange did not end")
		})
	}
}

func TestParseOAuthBearerAuthzidEscapes(t *testing.T) {
	m, err := parseOAuthBearer([]byte("n,a=a=2Cb=3Dc,\x01auth=Bearer abc\x01\x01"))
	if err != nil || m.authzid != "a,b=c" || m.token != "abc" {
		t.Fatalf("got %+v, %v", m, err)
	}
}

func TestMechanismsEnabledByName(t *testing.T) {
	for _, tc := range []struct {
		list string
		ok   bool
	}{
		{"AWS_MSK_IAM,OAUTHBEARER", true},
		{"PLAIN,AWS_MSK_IAM", true},
		{"aws_msk_iam", false},
		{"OAUTHBEARER,OAUTHBEARER", false},
	} {
		_, err := ParseMechanisms(tc.list)
		if (err == nil) != tc.ok {
			t.Errorf("ParseMechanisms(%q): %v", tc.list, err)
		}
	}
	for _, m := range Default {
		if NeedsAWSCredentials(m) {
			t.Errorf("default mechanism %s needs AWS credentials", m)
		}
	}
}
