package awsapi

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// systemPython is the interpreter Debian's python3-boto3 is installed for;
// a pyenv or venv python3 earlier on PATH has another boto3, or none, and
// boto3 1.26 is the one that speaks Query to SQS (later ones speak JSON).
const systemPython = "/usr/bin/python3"

// boto3API is a toy SQS over the Query protocol: its operations are
// registered once, as the SQS API's will be, and record the inputs they
// decoded so the test sees what boto3's requests became.
type boto3API struct {
	mu      sync.Mutex
	url     string
	decoded []any
	sent    []tSendMessageBatchRequestEntry
}

func (a *boto3API) record(op string, in any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.decoded = append(a.decoded, map[string]any{op: in})
}

var boto3Ops = func() *Registry[*boto3API] {
	reg := &Registry[*boto3API]{}
	Register(reg, "CreateQueue", func(_ context.Context, a *boto3API, in *tCreateQueueInput) (*struct{ QueueUrl string }, error) {
		a.record("CreateQueue", in)
		return &struct{ QueueUrl string }{a.url + "/000000000000/" + in.QueueName}, nil
	})
	Register(reg, "ListQueues", func(_ context.Context, a *boto3API, in *tListQueuesInput) (*tListQueuesOutput, error) {
		a.record("ListQueues", in)
		if in.QueueNamePrefix == nil {
			return &tListQueuesOutput{}, nil
		}
		return &tListQueuesOutput{QueueUrls: []string{a.url + "/000000000000/" + *in.QueueNamePrefix + "1", a.url + "/000000000000/" + *in.QueueNamePrefix + "2"}}, nil
	})
	Register(reg, "GetQueueAttributes", func(_ context.Context, a *boto3API, in *tGetQueueAttributesInput) (*tGetQueueAttributesOutput, error) {
		a.record("GetQueueAttributes", in)
		return &tGetQueueAttributesOutput{Attributes: map[string]string{"VisibilityTimeout": "30", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q1"}}, nil
	})
	Register(reg, "SetQueueAttributes", func(_ context.Context, a *boto3API, in *tSetQueueAttributesInput) (*struct{}, error) {
		a.record("SetQueueAttributes", in)
		return &struct{}{}, nil
	})
	Register(reg, "SendMessageBatch", func(_ context.Context, a *boto3API, in *tSendMessageBatchInput) (*tSendMessageBatchOutput, error) {
		a.record("SendMessageBatch", in)
		out := &tSendMessageBatchOutput{}
		for _, e := range in.Entries {
			if e.Id == "bad" {
				out.Failed = append(out.Failed, tBatchResultErrorEntry{Id: e.Id, SenderFault: true, Code: "InvalidMessageContents", Message: ptr("no <bad> & co")})
				continue
			}
			a.mu.Lock()
			a.sent = append(a.sent, e)
			a.mu.Unlock()
			out.Successful = append(out.Successful, tSendMessageBatchResultEntry{Id: e.Id, MessageId: "m-" + e.Id, MD5OfMessageBody: md5Hex(e.MessageBody)})
		}
		return out, nil
	})
	Register(reg, "ReceiveMessage", func(_ context.Context, a *boto3API, in *tReceiveMessageInput) (*tReceiveMessageOutput, error) {
		a.record("ReceiveMessage", in)
		if strings.HasSuffix(in.QueueUrl, "/missing") {
			return nil, &Error{Type: "com.amazonaws.sqs#QueueDoesNotExist", QueryCode: "AWS.SimpleQueueService.NonExistentQueue", Message: "The specified queue does not exist."}
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		out := &tReceiveMessageOutput{}
		for _, e := range a.sent {
			out.Messages = append(out.Messages, tMessage{MessageId: ptr("m-" + e.Id), ReceiptHandle: ptr("rh-" + e.Id), Body: ptr(e.MessageBody), MD5OfBody: ptr(md5Hex(e.MessageBody)),
				Attributes: map[string]string{"SentTimestamp": "1700000000000", "ApproximateReceiveCount": "1"}, MessageAttributes: e.MessageAttributes})
		}
		return out, nil
	})
	return reg
}()

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (a *boto3API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(HeaderRequestID, fmt.Sprintf("req-%d", time.Now().UnixNano()))
	form, ok, _ := QueryForm(r)
	if !ok {
		http.Error(w, "not a Query request", http.StatusBadRequest)
		return
	}
	x := &Exchange{W: w, R: r, Op: form.Get("Action"), Query: &sqsNamespace, Form: form}
	op := boto3Ops.Lookup(x.Op)
	if op == nil {
		x.WriteError(&Error{Type: CodeInvalidAction, Message: x.Op})
		return
	}
	if err := op(r.Context(), a, x); err != nil {
		var m ErrorMap
		x.WriteError(m.Of(err))
	}
}

const boto3Script = `
import base64, json, sys
import boto3, botocore.exceptions

url = sys.argv[1]
c = boto3.client('sqs', endpoint_url=url, region_name='us-east-1',
                 aws_access_key_id='x', aws_secret_access_key='x')
q = url + '/000000000000/q1'
out = []

def call(name, **kw):
    try:
        r = getattr(c, name)(**kw)
        md = r.pop('ResponseMetadata')
        assert md['RequestId'] == md['HTTPHeaders']['x-amzn-requestid'], md
    except botocore.exceptions.ClientError as e:
        r = {'Error': e.response['Error']}
    out.append({name: r})

call('create_queue', QueueName='q1', Attributes={'VisibilityTimeout': '30', 'DelaySeconds': '0'}, tags={'team': 'a&b'})
call('list_queues', QueueNamePrefix='q')
call('list_queues')
call('get_queue_attributes', QueueUrl=q, AttributeNames=['All'])
call('set_queue_attributes', QueueUrl=q, Attributes={'Policy': '{"a": "<b>"}'})
call('send_message_batch', QueueUrl=q, Entries=[
    {'Id': 'a', 'MessageBody': 'hello\r\nworld <&> \u00e9', 'DelaySeconds': 5, 'MessageAttributes': {
        's': {'DataType': 'String', 'StringValue': 'v'},
        'b': {'DataType': 'Binary', 'BinaryValue': b'\x00\x01\xff'}}},
    {'Id': 'bad', 'MessageBody': 'x'}])
call('receive_message', QueueUrl=q, AttributeNames=['All'], MessageAttributeNames=['All'], MaxNumberOfMessages=2, WaitTimeSeconds=0)
call('receive_message', QueueUrl=url + '/000000000000/missing')
print(json.dumps(out, default=lambda b: base64.b64encode(b).decode()))
`

// TestQueryBoto3 proves the Query protocol both ways against the real
// client: boto3 1.26's requests decode into the structs as expected, and
// what the encoder answers parses into what the operations returned.
func TestQueryBoto3(t *testing.T) {
	needBoto3(t)
	api := &boto3API{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	api.url = srv.URL

	script := filepath.Join(t.TempDir(), "sqs.py")
	if err := os.WriteFile(script, []byte(boto3Script), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, script, srv.URL)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1")
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, stderrOf(err))
	}

	u := srv.URL + "/000000000000/"
	body := "hello\r\nworld <&> \u00e9"
	wantParsed := `[
	{"create_queue": {"QueueUrl": "` + u + `q1"}},
	{"list_queues": {"QueueUrls": ["` + u + `q1", "` + u + `q2"]}},
	{"list_queues": {}},
	{"get_queue_attributes": {"Attributes": {"VisibilityTimeout": "30", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q1"}}},
	{"set_queue_attributes": {}},
	{"send_message_batch": {"Successful": [{"Id": "a", "MessageId": "m-a", "MD5OfMessageBody": "` + md5Hex(body) + `"}],
		"Failed": [{"Id": "bad", "SenderFault": true, "Code": "InvalidMessageContents", "Message": "no <bad> & co"}]}},
	{"receive_message": {"Messages": [{"MessageId": "m-a", "ReceiptHandle": "rh-a", "MD5OfBody": "` + md5Hex(body) + `", "Body": "hello\r\nworld <&> \u00e9",
		"Attributes": {"SentTimestamp": "1700000000000", "ApproximateReceiveCount": "1"},
		"MessageAttributes": {"s": {"StringValue": "v", "DataType": "String"}, "b": {"BinaryValue": "AAH/", "DataType": "Binary"}}}]}},
	{"receive_message": {"Error": {"Type": "Sender", "Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "The specified queue does not exist."}}}
	]`
	jsonEqual(t, "boto3 parsed", stdout, []byte(wantParsed))

	wantDecoded := `[
	{"CreateQueue": {"QueueName": "q1", "Attributes": {"VisibilityTimeout": "30", "DelaySeconds": "0"}, "tags": {"team": "a&b"}}},
	{"ListQueues": {"QueueNamePrefix": "q"}},
	{"ListQueues": {}},
	{"GetQueueAttributes": {"QueueUrl": "` + u + `q1", "AttributeNames": ["All"]}},
	{"SetQueueAttributes": {"QueueUrl": "` + u + `q1", "Attributes": {"Policy": "{\"a\": \"<b>\"}"}}},
	{"SendMessageBatch": {"QueueUrl": "` + u + `q1", "Entries": [
		{"Id": "a", "MessageBody": "hello\r\nworld <&> \u00e9", "DelaySeconds": 5, "MessageAttributes": {
			"s": {"StringValue": "v", "DataType": "String"}, "b": {"BinaryValue": "AAH/", "DataType": "Binary"}}},
		{"Id": "bad", "MessageBody": "x"}]}},
	{"ReceiveMessage": {"QueueUrl": "` + u + `q1", "AttributeNames": ["All"], "MessageAttributeNames": ["All"], "MaxNumberOfMessages": 2, "WaitTimeSeconds": 0}},
	{"ReceiveMessage": {"QueueUrl": "` + u + `missing"}}
	]`
	api.mu.Lock()
	decoded, err := json.Marshal(api.decoded)
	api.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "decoded from boto3", decoded, []byte(wantDecoded))
}

func jsonEqual(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: the test's own JSON: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

func stderrOf(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}

// needBoto3 skips the test without Debian's boto3, or fails it under
// CI=true, where CI must have installed it (as itest's tools).
func needBoto3(t *testing.T) {
	t.Helper()
	out, err := exec.Command(systemPython, "-c", "import boto3; print(boto3.__version__)").CombinedOutput()
	if err == nil {
		t.Logf("boto3 %s", strings.TrimSpace(string(out)))
		return
	}
	msg := fmt.Sprintf("%s with boto3 is not usable (%v: %s); install it with: apt-get install python3-boto3", systemPython, err, strings.TrimSpace(string(out)))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing tool fails the test)")
	}
	t.Skip(msg)
}
