package kms

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/gateway/awsapi/awsapitest"
	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/iampolicy"
	localkms "github.com/streambridge/bridge/security/kms"
)

// call serves one KMS request as the router would after authenticating
// key, and returns the status and the answer's __type ("" for none).
func call(h http.Handler, key, target, body string) (int, string, string) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("X-Amz-Target", target)
	r.Header.Set("Content-Type", awsapi.ContentTypeJSON11)
	r = r.WithContext(awsapi.WithPrincipal(r.Context(), awsapi.Principal{AccessKeyID: key}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	return w.Code, e.Type, e.Message
}

func TestWireErrors(t *testing.T) {
	ts := startTestServer(t)
	for _, tc := range []struct {
		name, target, body string
		status             int
		typ                string
	}{
		{"unknown operation", TargetPrefix + "Nope", "{}", 400, "UnknownOperationException"},
		{"another API's target", "Kinesis_20131202.ListStreams", "{}", 400, "UnknownOperationException"},
		{"not JSON", TargetPrefix + "DescribeKey", "{", 400, "SerializationException"},
		{"KeyId missing", TargetPrefix + "DescribeKey", "{}", 400, "ValidationException"},
		{"blob not base64", TargetPrefix + "Decrypt", `{"CiphertextBlob":"%%%"}`, 400, "SerializationException"},
		{"empty body is {}", TargetPrefix + "ListKeys", "", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, typ, msg := call(ts.Handler, "AKID", tc.target, tc.body)
			if status != tc.status || typ != tc.typ {
				t.Fatalf("HTTP %d %s %q; want %d %s", status, typ, msg, tc.status, tc.typ)
			}
		})
	}
	if _, _, msg := call(ts.Handler, "AKID", TargetPrefix+"DescribeKey", "{}"); msg != "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null" {
		t.Errorf("validation message %q", msg)
	}
}

// Every operation goes through the authorization step: with an authorizer
// that allows nothing, each is refused with AccessDeniedException naming
// its action, before it changes anything.
func TestAuthorizeEveryOperation(t *testing.T) {
	a := &awsapitest.RecordingAuthorizer{}
	ts := startTestServer(t, func(c *Config) { c.Authorizer = a })
	for _, op := range Operations() {
		status, typ, msg := call(ts.Handler, "AKID", TargetPrefix+op, "{}")
		if status != http.StatusBadRequest || typ != errAccessDenied {
			t.Errorf("%s: HTTP %d %s %s; want AccessDeniedException", op, status, typ, msg)
			continue
		}
		action := "kms:" + op
		if op == "ReEncrypt" {
			action = "kms:ReEncryptFrom"
		}
		if !strings.Contains(msg, "is not authorized to perform: "+action+" on resource: ") {
			t.Errorf("%s: message %q", op, msg)
		}
	}
	if n := len(ts.keys.ListKeys()); n != 0 {
		t.Fatalf("%d keys made by refused requests", n)
	}
}

// Each request is decided on the resource it names: the key's ARN
// however it is named, the alias ARN and target key of the alias
// operations, the key inside a ciphertext, "*" for CreateKey and ListKeys.
func TestAuthorizeResources(t *testing.T) {
	a := &awsapitest.RecordingAuthorizer{Allow: func(action, _ string, _ *iampolicy.Policy) bool { return action != "kms:DisableKey" }}
	var auditBuf bytes.Buffer
	ts := startTestServer(t, func(c *Config) { c.Authorizer = a; c.Audit = audit.New(&auditBuf, nil) })
	md, err := ts.keys.CreateKey(kmsCreateKeyInput())
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.keys.CreateAlias("alias/app", md.KeyID); err != nil {
		t.Fatal(err)
	}
	enc, err := ts.keys.Encrypt(md.KeyID, []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := json.Marshal(enc.CiphertextBlob)
	const aliasARN = "arn:aws:kms:us-east-1:000000000000:alias/app"
	for _, tc := range []struct {
		op, body, want string
	}{
		{"CreateKey", `{}`, "kms:CreateKey *"},
		{"ListKeys", `{}`, "kms:ListKeys *"},
		{"ListAliases", `{}`, "kms:ListAliases *"},
		{"DescribeKey", `{"KeyId":"` + md.KeyID + `"}`, "kms:DescribeKey " + md.Arn},
		{"DescribeKey", `{"KeyId":"alias/app"}`, "kms:DescribeKey " + md.Arn},
		{"DescribeKey", `{"KeyId":"` + aliasARN + `"}`, "kms:DescribeKey " + md.Arn},
		{"Encrypt", `{"KeyId":"alias/aws/kinesis","Plaintext":"eA=="}`, "kms:Encrypt arn:aws:kms:us-east-1:000000000000:alias/aws/kinesis"},
		{"Decrypt", `{"CiphertextBlob":` + string(blob) + `}`, "kms:Decrypt " + md.Arn},
		{"CreateAlias", `{"AliasName":"alias/b","TargetKeyId":"` + md.KeyID + `"}`, "kms:CreateAlias " + md.Arn},
		{"DeleteAlias", `{"AliasName":"alias/b"}`, "kms:DeleteAlias arn:aws:kms:us-east-1:000000000000:alias/b"},
		{"ReEncrypt", `{"CiphertextBlob":` + string(blob) + `,"DestinationKeyId":"alias/app"}`, "kms:ReEncryptTo " + md.Arn},
	} {
		t.Run(tc.op, func(t *testing.T) {
			if status, typ, msg := call(ts.Handler, "AKID", TargetPrefix+tc.op, tc.body); status != 200 {
				t.Fatalf("HTTP %d %s %s", status, typ, msg)
			}
			if got := a.Last(); got != tc.want {
				t.Fatalf("authorizer asked %q, want %q", got, tc.want)
			}
		})
	}
	if status, typ, _ := call(ts.Handler, "AKID", TargetPrefix+"DisableKey", `{"KeyId":"alias/app"}`); status != 400 || typ != errAccessDenied {
		t.Fatalf("denied DisableKey: %d %s", status, typ)
	}
	if got, _ := ts.keys.DescribeKey(md.KeyID); !got.Enabled {
		t.Fatal("a denied DisableKey disabled the key")
	}
	for _, want := range []string{`"kms:CreateAlias"`, `"kms:DisableKey"`} {
		if !strings.Contains(auditBuf.String(), want) {
			t.Errorf("audit log lacks %s:\n%s", want, auditBuf.String())
		}
	}
}

func kmsCreateKeyInput() localkms.CreateKeyInput { return localkms.CreateKeyInput{Description: "k"} }
