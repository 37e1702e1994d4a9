package sqs

import (
	"net/http"
	"strings"
	"testing"

	"github.com/streambridge/bridge/security/kms"
	"github.com/streambridge/bridge/store/embedded"
)

// TestQueueEncryption: a queue with KmsMasterKeyId (SSE-KMS) is stored
// encrypted, and a key that cannot be used is refused with SQS's Kms*
// errors in both protocols.
func TestQueueEncryption(t *testing.T) {
	keyring, err := kms.InMemory("us-east-1", "000000000000")
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(embedded.Options{InMemory: true, Keyring: keyring})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = h.Shutdown(t.Context())
		_ = st.Close()
	})
	ok := func(op, body string) string {
		t.Helper()
		w := callJSON(h, "AKID", op, body)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: HTTP %d %s", op, w.Code, w.Body)
		}
		return w.Body.String()
	}
	ok("CreateQueue", `{"QueueName":"q","Attributes":{"KmsMasterKeyId":"alias/aws/sqs"}}`)
	if s, _ := st.DescribeStream(t.Context(), "q"); s.Encryption.KeyID != "alias/aws/sqs" {
		t.Fatalf("the queue's stream is not encrypted: %+v", s.Encryption)
	}
	const url = `"QueueUrl":"http://h/000000000000/q"`
	ok("SendMessage", `{`+url+`,"MessageBody":"secret"}`)
	if body := ok("ReceiveMessage", `{`+url+`}`); !strings.Contains(body, `"Body":"secret"`) {
		t.Fatalf("receive: %s", body)
	}

	key, err := keyring.CreateKey(kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	ok("SetQueueAttributes", `{`+url+`,"Attributes":{"KmsMasterKeyId":"`+key.KeyID+`"}}`)
	if err := keyring.DisableKey(key.KeyID); err != nil {
		t.Fatal(err)
	}
	w := callJSON(h, "AKID", "SendMessage", `{`+url+`,"MessageBody":"refused"}`)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "KmsDisabled") || w.Header().Get("x-amzn-query-error") != "KMS.DisabledException;Sender" {
		t.Fatalf("send with the key disabled: HTTP %d %s %s", w.Code, w.Header().Get("x-amzn-query-error"), w.Body)
	}
	w = callJSON(h, "AKID", "SetQueueAttributes", `{`+url+`,"Attributes":{"KmsMasterKeyId":"alias/none"}}`)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "KmsNotFound") {
		t.Fatalf("an unknown key: HTTP %d %s", w.Code, w.Body)
	}
}
