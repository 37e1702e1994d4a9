package sigv4

import (
	"net/http/httptest"
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
