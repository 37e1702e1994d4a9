package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/security/awscreds"
)

// TestAWSSuite checks requests of AWS's published SigV4 test suite
// (aws-sig-v4-test-suite: get-vanilla and its kin), whose signatures AWS
// computed, so the verifier is held to AWS and not only to one SDK's
// signer.
func TestAWSSuite(t *testing.T) {
	const cred = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
	store, err := awscreds.New(awscreds.Credential{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Name: "suite"})
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Credentials: store, Region: "us-east-1", Now: func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) }}
	tests := []struct {
		name, method, target, signature string
	}{
		{"get-vanilla", "GET", "/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"post-vanilla", "POST", "/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://example.amazonaws.com"+tt.target, nil)
			r.Header.Set("X-Amz-Date", "20150830T123600Z")
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+cred+", SignedHeaders=host;x-amz-date, Signature="+tt.signature)
			if _, err := v.Verify(r, Service{Name: "service"}, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDateHeader checks the Date-header form, which no SDK signer makes:
// the canonical request and the signature are written out here by hand
// from the specification (Date signed, its ISO 8601 basic form in the
// string to sign), independently of the verifier's code.
func TestDateHeader(t *testing.T) {
	const (
		secretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
		date      = "Sun, 30 Aug 2015 12:36:00 GMT"
	)
	canonical := "GET\n/\n\ndate:" + date + "\nhost:example.amazonaws.com\n\ndate;host\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	sum := sha256.Sum256([]byte(canonical))
	sts := "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" + hex.EncodeToString(sum[:])
	mac := func(key []byte, s string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
	key := mac(mac(mac(mac([]byte("AWS4"+secretKey), "20150830"), "us-east-1"), "service"), "aws4_request")
	sig := hex.EncodeToString(mac(key, sts))

	store, err := awscreds.New(awscreds.Credential{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: secretKey, Name: "suite"})
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Credentials: store, Region: "us-east-1", Now: func() time.Time { return time.Date(2015, 8, 30, 12, 38, 0, 0, time.UTC) }}
	for _, tt := range []struct {
		name, signature string
		ok              bool
	}{{"right", sig, true}, {"wrong", strings.Repeat("0", 64), false}} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://example.amazonaws.com/", nil)
			r.Header.Set("Date", date)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=date;host, Signature="+tt.signature)
			_, err := v.Verify(r, Service{Name: "service"}, nil)
			if (err == nil) != tt.ok {
				t.Fatalf("Verify = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
