package sasl

import (
	"errors"
	"strings"
	"testing"
)

// A ConnectCheck decides a verified key's login on both MSK IAM
// mechanisms: its refusal is the mechanism's usual one (Access denied;
// OAUTHBEARER's invalid_token challenge), with the check's reason, and a
// signature that does not verify is refused before the check is asked.
func TestMSKIAMConnectCheck(t *testing.T) {
	onlyMain := func(key string) error {
		if key != mskKey {
			return errors.New("kafka-cluster:Connect: implicit deny")
		}
		return nil
	}
	franzRight, franzTemp := franzPayload(t, rightCreds, mskBroker), franzPayload(t, tempCreds, mskBroker)
	tokRight, tokTemp := signerToken(t, rightCreds, mskRegion), signerToken(t, tempCreds, mskRegion)
	for _, tc := range []struct {
		name   string
		oauth  bool
		msg    []byte
		token  string // for signedAt, OAUTHBEARER only
		reason string // in the refusal's reason; "" when accepted
	}{
		{name: "AWS_MSK_IAM allowed", msg: franzRight},
		{name: "AWS_MSK_IAM no Connect", msg: franzTemp, reason: "access key " + mskTempKey + ": kafka-cluster:Connect: implicit deny"},
		{name: "AWS_MSK_IAM bad signature first", msg: franzPayload(t, wrongSecret, mskBroker), reason: "signature"},
		{name: "OAUTHBEARER allowed", oauth: true, msg: oauthMsg("", tokRight), token: tokRight},
		{name: "OAUTHBEARER no Connect", oauth: true, msg: oauthMsg("", tokTemp), token: tokTemp, reason: "access key " + mskTempKey + ": kafka-cluster:Connect: implicit deny"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := false
			check := func(key string) error { asked = true; return onlyMain(key) }
			var sess Session
			if tc.oauth {
				sess = OAuthBearerMSKIAMConnect(verifierAt(t, signedAt(t, nil, tc.token)), check).Start()
			} else {
				sess = AWSMSKIAMConnect(verifierAt(t, signedAt(t, tc.msg, "")), check).Start()
			}
			answer, done, err := sess.Step(tc.msg)
			if tc.oauth && tc.reason != "" {
				if string(answer) != oauthInvalidToken || err != nil {
					t.Fatalf("got %q, %v; want the invalid_token challenge", answer, err)
				}
				_, done, err = sess.Step([]byte{1})
			}
			var f *Failure
			switch {
			case tc.reason == "" && (err != nil || !done || !asked):
				t.Fatalf("done=%v err=%v asked=%v; want accepted after the check", done, err, asked)
			case tc.reason == "":
				return
			case !errors.As(err, &f) || done || !strings.Contains(f.Reason, tc.reason):
				t.Fatalf("done=%v err=%v; want a *Failure whose reason has %q", done, err, tc.reason)
			case !tc.oauth && !strings.HasSuffix(f.Message, "]: Access denied"):
				t.Fatalf("client message %q; want Access denied", f.Message)
			case strings.Contains(tc.name, "first") && asked:
				t.Fatal("the check was asked about a signature that did not verify")
			}
		})
	}
}
