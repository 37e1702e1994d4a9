package sqs

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// fakeQueue answers SendMessage and ReceiveMessage in SQS JSON 1.0 with
// this package's rules and MD5s, so that the real aws-sdk-go-v2 client,
// whose checksum validation is on by default, checks them. corrupt makes it
// answer a wrong MD5OfMessageBody, to show the SDK does check.
type fakeQueue struct {
	corrupt bool

	mu   sync.Mutex
	sent []sendMessageRequest
}

func (q *fakeQueue) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var answer any
	switch r.Header.Get("X-Amz-Target") {
	case "AmazonSQS.SendMessage":
		var in sendMessageRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := ValidateMessage(in.MessageBody, in.MessageAttributes, in.MessageSystemAttributes, DefaultMaximumMessageSize); err != nil {
			e := err.(*Error)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Header().Set("X-Amzn-Query-Error", e.QueryCode+";Sender")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + e.Type, "message": e.Message})
			return
		}
		q.mu.Lock()
		q.sent = append(q.sent, in)
		id := strconv.Itoa(len(q.sent))
		q.mu.Unlock()
		md5Body := MD5OfBody(in.MessageBody)
		if q.corrupt {
			md5Body = MD5OfBody(in.MessageBody + "!")
		}
		answer = map[string]string{
			"MessageId":                    id,
			"MD5OfMessageBody":             md5Body,
			"MD5OfMessageAttributes":       MD5OfMessageAttributes(in.MessageAttributes),
			"MD5OfMessageSystemAttributes": MD5OfMessageSystemAttributes(in.MessageSystemAttributes),
		}
	case "AmazonSQS.ReceiveMessage":
		type message struct {
			MessageId, ReceiptHandle, Body, MD5OfBody string
			MD5OfMessageAttributes                    string            `json:",omitempty"`
			MessageAttributes                         MessageAttributes `json:",omitempty"`
		}
		var out []message
		q.mu.Lock()
		for i, m := range q.sent {
			id := strconv.Itoa(i + 1)
			out = append(out, message{id, "rh-" + id, m.MessageBody, MD5OfBody(m.MessageBody), MD5OfMessageAttributes(m.MessageAttributes), m.MessageAttributes})
		}
		q.mu.Unlock()
		answer = map[string]any{"Messages": out}
	default:
		http.Error(w, "unexpected "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(answer)
}

func sqsClient(t *testing.T, h http.Handler) *awssqs.Client {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return awssqs.New(awssqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ts.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
}

// randomText returns 1 to n characters from every range SQS allows,
// astral planes included, so the JSON escaping of both sides is exercised.
func randomText(r *rand.Rand, n int) string {
	ranges := [][2]rune{{0x9, 0xA}, {0xD, 0xD}, {0x20, 0x7E}, {0x80, 0xD7FF}, {0xE000, 0xFFFD}, {0x10000, 0x10FFFF}}
	var b strings.Builder
	for range 1 + r.IntN(n) {
		rg := ranges[r.IntN(len(ranges))]
		b.WriteRune(rg[0] + r.Int32N(rg[1]-rg[0]+1))
	}
	return b.String()
}

// randomAttributes returns up to ten valid attributes of every base type,
// some with custom labels, as the SDK takes them and as this package does.
func randomAttributes(r *rand.Rand) (map[string]sqstypes.MessageAttributeValue, MessageAttributes) {
	const nameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
	sdk := map[string]sqstypes.MessageAttributeValue{}
	ours := MessageAttributes{}
	for range r.IntN(MaxMessageAttributes + 1) {
		var name strings.Builder
		for range 1 + r.IntN(20) {
			name.WriteByte(nameChars[r.IntN(len(nameChars))])
		}
		var v MessageAttributeValue
		switch r.IntN(3) {
		case 0:
			v = strAttr("String", randomText(r, 50))
		case 1:
			v = strAttr("Number", strconv.FormatFloat(r.NormFloat64()*1e6, 'g', -1, 64))
		default:
			b := make([]byte, 1+r.IntN(50))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			v = binAttr("Binary", b)
		}
		if r.IntN(3) == 0 {
			v.DataType += ".custom-" + strconv.Itoa(r.IntN(100))
		}
		ours[name.String()] = v
		sdk[name.String()] = sqstypes.MessageAttributeValue{DataType: aws.String(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue}
	}
	return sdk, ours
}

// TestSDKChecksums drives the fake queue with the real aws-sdk-go-v2
// client. The SDK verifies MD5OfMessageBody on SendMessage and on every
// received message and fails the call on a mismatch; it does not verify the
// attribute MD5s (the Java SDK does), so those are compared here with what
// this package computes from the SDK's own values, and their bit-exactness
// rests on the real-SQS vectors of TestMD5OfMessageAttributes.
func TestSDKChecksums(t *testing.T) {
	q := &fakeQueue{}
	c := sqsClient(t, q)
	r := rand.New(rand.NewPCG(1, 2))
	const trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	var want []sendMessageRequest
	types := map[string]int{}
	for range 30 {
		sdkAttrs, attrs := randomAttributes(r)
		body := randomText(r, 300)
		out, err := c.SendMessage(t.Context(), &awssqs.SendMessageInput{
			QueueUrl:          aws.String("http://queue/000000000000/q"),
			MessageBody:       aws.String(body),
			MessageAttributes: sdkAttrs,
			MessageSystemAttributes: map[string]sqstypes.MessageSystemAttributeValue{
				AWSTraceHeader: {DataType: aws.String("String"), StringValue: aws.String(trace)},
			},
		})
		if err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
		if got, want := aws.ToString(out.MD5OfMessageAttributes), MD5OfMessageAttributes(attrs); got != want {
			t.Fatalf("MD5OfMessageAttributes = %q, want %q", got, want)
		}
		if got, want := aws.ToString(out.MD5OfMessageSystemAttributes), "5ae4d5d7636402d80f4eb6d213245a88"; got != want {
			t.Fatalf("MD5OfMessageSystemAttributes = %q, want %q", got, want)
		}
		want = append(want, sendMessageRequest{MessageBody: body, MessageAttributes: attrs})
		for _, v := range attrs {
			base, _ := baseType(v.DataType)
			types[base]++
		}
	}
	if len(types) != 3 {
		t.Fatalf("the random messages carried attributes of types %v, want all three", types)
	}

	got, err := c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String("http://queue/000000000000/q")})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(got.Messages) != len(want) {
		t.Fatalf("received %d messages, want %d", len(got.Messages), len(want))
	}
	for i, m := range got.Messages {
		if aws.ToString(m.Body) != want[i].MessageBody {
			t.Fatalf("message %d: body %q, want %q", i, aws.ToString(m.Body), want[i].MessageBody)
		}
		attrs := MessageAttributes{}
		for name, v := range m.MessageAttributes {
			attrs[name] = MessageAttributeValue{DataType: aws.ToString(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue}
		}
		if len(attrs) != len(want[i].MessageAttributes) {
			t.Fatalf("message %d: %d attributes, want %d", i, len(attrs), len(want[i].MessageAttributes))
		}
		for name, v := range want[i].MessageAttributes {
			a := attrs[name]
			if a.DataType != v.DataType || aws.ToString(a.StringValue) != aws.ToString(v.StringValue) || !bytes.Equal(a.BinaryValue, v.BinaryValue) {
				t.Fatalf("message %d attribute %s: %+v, want %+v", i, name, a, v)
			}
		}
		if got, want := aws.ToString(m.MD5OfMessageAttributes), MD5OfMessageAttributes(attrs); got != want {
			t.Fatalf("message %d: MD5OfMessageAttributes = %q, want %q", i, got, want)
		}
	}
}

// TestSDKRejectsWrongChecksum shows the SDK's validation is live: the same
// fake queue, answering a wrong MD5OfMessageBody, fails the call.
func TestSDKRejectsWrongChecksum(t *testing.T) {
	c := sqsClient(t, &fakeQueue{corrupt: true})
	_, err := c.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String("http://queue/000000000000/q"), MessageBody: aws.String("hello")})
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("SendMessage with a wrong MD5 = %v, want a checksum error", err)
	}
}

// TestSDKSeesErrors checks that a refusal reaches the SDK as the modeled
// error (InvalidMessageContents) with AWS's message.
func TestSDKSeesErrors(t *testing.T) {
	c := sqsClient(t, &fakeQueue{})
	_, err := c.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String("http://queue/000000000000/q"), MessageBody: aws.String("a\x00")})
	var contents *sqstypes.InvalidMessageContents
	if !errors.As(err, &contents) || !strings.HasPrefix(contents.ErrorMessage(), "Invalid binary character '#x0'") {
		t.Fatalf("SendMessage with NUL = %v, want InvalidMessageContents", err)
	}
}
