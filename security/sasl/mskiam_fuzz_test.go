package sasl

import (
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"
)

// FuzzParseMSKIAM holds AWS_MSK_IAM's message parser and session to their
// contract on any bytes: no panic; a parsed message has a host, the
// Connect action and the SigV4 parameters; and a session given forged
// bytes refuses them with a *Failure (nothing here is signed with a key
// of the store).
func FuzzParseMSKIAM(f *testing.F) {
	for _, s := range []string{
		`{"version":"2020_10_22","host":"b-1.kafka.us-east-1.amazonaws.com","user-agent":"franz-go","action":"kafka-cluster:Connect","x-amz-algorithm":"AWS4-HMAC-SHA256","x-amz-credential":"AKIAMSKTESTKEY000001/20261204/us-east-1/kafka-cluster/aws4_request","x-amz-date":"20261204T054500Z","x-amz-signedheaders":"host","x-amz-expires":"900","x-amz-signature":"0000000000000000000000000000000000000000000000000000000000000000"}`,
		`{"version":"2020_10_22","host":"h","action":"kafka-cluster:Connect","x-amz-algorithm":"x","x-amz-credential":"a/b/c/d/e","x-amz-date":"d","x-amz-signedheaders":"host;x","x-amz-expires":"-1","x-amz-signature":"s","x-amz-security-token":"t"}`,
		`{"version":"2020_10_22","host":"a/b?c"}`,
		`{"version":2020}`,
		`[]`,
		`null`,
		``,
		"{\"host\":\"\\u0000\"}",
	} {
		f.Add([]byte(s))
	}
	v := verifierAt(f, time.Date(2026, 12, 4, 5, 45, 0, 0, time.UTC))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if p, err := parseMSKIAM(msg); err == nil {
			if p.host == "" || p.query.Get("Action") != MSKConnectAction || p.query.Get("X-Amz-Signature") == "" || p.query.Get("X-Amz-Expires") == "" {
				t.Fatalf("parsed %q into %+v", msg, p)
			}
			if r := p.request(); r.Method != http.MethodGet || r.Host != p.host {
				t.Fatalf("request %+v", r)
			}
		}
		_, done, err := AWSMSKIAM(v).Start().Step(msg)
		var fl *Failure
		if done || !errors.As(err, &fl) {
			t.Fatalf("forged message: done=%v err=%v", done, err)
		}
	})
}

// FuzzParseOAuthBearer holds the OAUTHBEARER parser, the token decoder
// and the session to their contract: no panic; a parsed message has a
// token of RFC 6750's characters; and forged bytes are refused, with
// either a *Failure at once or the invalid_token challenge and then one.
func FuzzParseOAuthBearer(f *testing.F) {
	url := "https://kafka.us-east-1.amazonaws.com/?Action=kafka-cluster%3AConnect&User-Agent=aws-msk-iam-sasl-signer-go%2F1.0.4&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAMSKTESTKEY000001%2F20261204%2Fus-east-1%2Fkafka-cluster%2Faws4_request&X-Amz-Date=20261204T054500Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=00"
	tok := base64.RawURLEncoding.EncodeToString([]byte(url))
	for _, s := range []string{
		"n,,\x01auth=Bearer " + tok + "\x01\x01",
		"n,a=AKIAMSKTESTKEY000001,\x01auth=Bearer " + tok + "\x01k=v\x01\x01",
		"n,a=x=2Cy,\x01auth=bearer abc\x01\x01",
		"n,,\x01auth=Bearer " + base64.RawURLEncoding.EncodeToString([]byte("https://h/?Action=kafka-cluster%3AConnect&User-Agent=a&User-Agent=b")) + "\x01\x01",
		"n,,\x01\x01",
		"y,,\x01auth=Bearer x\x01\x01",
		"n,,",
		"\x01",
		"",
	} {
		f.Add([]byte(s))
	}
	v := verifierAt(f, time.Date(2026, 12, 4, 5, 45, 0, 0, time.UTC))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if m, err := parseOAuthBearer(msg); err == nil {
			if !oauthAuth.MatchString("Bearer " + m.token) {
				t.Fatalf("parsed %q into token %q", msg, m.token)
			}
			if r, _, err := mskToken(m.token); err == nil && (r.Method != http.MethodGet || r.URL.Query().Get("Action") != MSKConnectAction || r.URL.Query().Has("User-Agent")) {
				t.Fatalf("token %q made request %v", m.token, r.URL)
			}
		}
		sess := OAuthBearerMSKIAM(v).Start()
		answer, done, err := sess.Step(msg)
		if err == nil && !done {
			if string(answer) != oauthInvalidToken {
				t.Fatalf("challenge %q", answer)
			}
			answer, done, err = sess.Step([]byte{1})
		}
		var fl *Failure
		if done || !errors.As(err, &fl) {
			t.Fatalf("forged message: answer %q done=%v err=%v", answer, done, err)
		}
	})
}
