package itest

// SQS's refusals, operation by operation: one table of bad requests, each
// sent raw in both protocols (JSON 1.0 with X-Amz-Target AmazonSQS.Op, and
// a Query form POST), each answer checked against what SQS itself answers:
// the HTTP status, the Query error code (for JSON: the x-amzn-query-error
// header the SDKs map back to it, with ";Sender"), the JSON __type, and the
// message. The conformance test (sqs_conformance_test.go) sends the same
// table to local-aws-sqs.
//
// Where the expectations come from (the src column):
//   model  the SQS service model (aws-sdk-go-v2 service/sqs v1.53 schemas,
//          botocore's sqs-2012-11-05): codes and HTTP statuses
//   ls     answers of the real SQS recorded by LocalStack's AWS-validated
//          snapshot tests (tests/aws/services/sqs/*.snapshot.json)
//   issue  a real SQS answer quoted in a public issue (named in the case)
//   las    local-aws-sqs 2.0.2's wording, where nothing better is
//          published; its author evidently copied SQS's answers (it keeps
//          quirks such as "The request include parameter")
// A case with no message asserts code and status only; its note says why.

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// sqsErr is an SQS error kind: its Query code, JSON __type and status.
type sqsErr struct {
	code, typ string
	status    int
}

// The error kinds, from the service model (codes, statuses) and the
// recorded answers (the __type of errors the model does not name).
var (
	errNonExistentQueue = sqsErr{"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", 400}
	errInvalidParameter = sqsErr{"InvalidParameterValue", "InvalidParameterValueException", 400}
	errMissingParameter = sqsErr{"MissingParameter", "MissingRequiredParameterException", 400}
	errAttributeName    = sqsErr{"InvalidAttributeName", "InvalidAttributeName", 400}
	errAttributeValue   = sqsErr{"InvalidAttributeValue", "InvalidAttributeValue", 400}
	errQueueExists      = sqsErr{"QueueAlreadyExists", "QueueNameExists", 400}
	errIdsNotDistinct   = sqsErr{"AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "BatchEntryIdsNotDistinct", 400}
	errTooManyEntries   = sqsErr{"AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "TooManyEntriesInBatchRequest", 400}
	errEmptyBatch       = sqsErr{"AWS.SimpleQueueService.EmptyBatchRequest", "EmptyBatchRequest", 400}
	errBatchEntryID     = sqsErr{"AWS.SimpleQueueService.InvalidBatchEntryId", "InvalidBatchEntryId", 400}
	errBatchTooLong     = sqsErr{"AWS.SimpleQueueService.BatchRequestTooLong", "BatchRequestTooLong", 400}
	errReceiptHandle    = sqsErr{"ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404}
	errPurgeInProgress  = sqsErr{"AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueueInProgress", 403}
	errMessageContents  = sqsErr{"InvalidMessageContents", "InvalidMessageContents", 400}
	errResourceNotFound = sqsErr{"ResourceNotFoundException", "ResourceNotFoundException", 404}
	// batchEntry is a 200 answer whose first Failed entry is checked.
	batchEntry = sqsErr{status: 200}
)

// sqsCase is one bad request and SQS's answer to it.
type sqsCase struct {
	name, op string
	// params are the JSON 1.0 request members; the Query form is derived
	// (queryForm). In strings, {q} is the account's URL prefix
	// (http://HOST:PORT/000000000000), {arn} the ARN prefix
	// (arn:aws:sqs:REGION:ACCOUNT), {rh} a receipt handle of a message in
	// flight in queue conf, {proto} "json" or "query".
	params map[string]any
	err    sqsErr
	// entryCode is the Code of the first Failed entry when err is batchEntry.
	entryCode string
	msg       string
	// queryMsg is the Query message when it differs from the JSON one.
	queryMsg string
	// only limits the case to one protocol ("json" or "query").
	only string
	// feature names a pending bridge feature (sqsPending) the case needs.
	feature  string
	src      string
	repeated bool // the request is sent twice; the first must succeed
}

const (
	msgNoQueue      = "The specified queue does not exist."
	msgNoQueueQuery = "The specified queue does not exist for this wsdl version."
	msgQueueName    = "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
	msgBatchID      = "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."
	msgNoDedup      = "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
)

func entries(n int, mk func(i int) map[string]any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = mk(i)
	}
	return out
}

func sendEntry(i int) map[string]any {
	return map[string]any{"Id": fmt.Sprint("e", i), "MessageBody": "x"}
}
func rhEntry(i int) map[string]any {
	return map[string]any{"Id": fmt.Sprint("e", i), "ReceiptHandle": "{rh}", "VisibilityTimeout": 10}
}

func sqsCases() []sqsCase {
	q := func(name string) string { return "{q}/" + name }
	noQueue := func(op string, extra map[string]any) sqsCase {
		p := map[string]any{"QueueUrl": q("conf-missing")}
		for k, v := range extra {
			p[k] = v
		}
		return sqsCase{name: op + "/missing queue", op: op, params: p, err: errNonExistentQueue, msg: msgNoQueue, queryMsg: msgNoQueueQuery, src: "ls"}
	}
	big := strings.Repeat("a", 1<<19+1)
	redrive := `{"deadLetterTargetArn": "dummy", "maxReceiveCount": 42}`
	redrive0 := `{"deadLetterTargetArn":"{arn}:conf-dlq","maxReceiveCount":0}`
	return []sqsCase{
		// Wire level.
		{name: "unknown action", op: "NoSuchOperation", params: map[string]any{}, only: "query", src: "ls",
			err: sqsErr{"InvalidAction", "", 400}, msg: "The action NoSuchOperation is not valid for this endpoint."},

		// CreateQueue.
		{name: "CreateQueue/no QueueName", op: "CreateQueue", params: map[string]any{}, err: errInvalidParameter, src: "las",
			msg: "Value for parameter QueueName is invalid. Reason: Must specify a queue name."},
		{name: "CreateQueue/bad name", op: "CreateQueue", params: map[string]any{"QueueName": "bad name!"}, err: errInvalidParameter, msg: msgQueueName, src: "ls"},
		{name: "CreateQueue/name of 81", op: "CreateQueue", params: map[string]any{"QueueName": strings.Repeat("n", 81)}, err: errInvalidParameter, msg: msgQueueName, src: "ls"},
		{name: "CreateQueue/.fifo name of a standard queue", op: "CreateQueue", params: map[string]any{"QueueName": "conf-std.fifo"},
			err: errInvalidParameter, src: "ls (code only: the recorded test matches the code)"},
		{name: "CreateQueue/FIFO name without .fifo", op: "CreateQueue", params: map[string]any{"QueueName": "conf-nosuffix", "Attributes": map[string]any{"FifoQueue": "true"}},
			err: errInvalidParameter, src: "ls (code only: the recorded test matches the code)"},
		{name: "CreateQueue/FifoQueue false", op: "CreateQueue", params: map[string]any{"QueueName": "conf-x", "Attributes": map[string]any{"FifoQueue": "false"}},
			err: errAttributeName, msg: "Unknown Attribute FifoQueue.", src: "ls"},
		{name: "CreateQueue/ContentBasedDeduplication on standard", op: "CreateQueue", src: "ls",
			params: map[string]any{"QueueName": "conf-x", "Attributes": map[string]any{"ContentBasedDeduplication": "false"}},
			err:    errAttributeName, msg: "Unknown Attribute ContentBasedDeduplication."},
		{name: "CreateQueue/DeduplicationScope on standard", op: "CreateQueue", src: "ls",
			params: map[string]any{"QueueName": "conf-x", "Attributes": map[string]any{"DeduplicationScope": "queue"}},
			err:    errAttributeName, msg: "You can specify the DeduplicationScope only when FifoQueue is set to true."},
		{name: "CreateQueue/FifoThroughputLimit on standard", op: "CreateQueue", src: "ls",
			params: map[string]any{"QueueName": "conf-x", "Attributes": map[string]any{"FifoThroughputLimit": "perQueue"}},
			err:    errAttributeName, msg: "You can specify the FifoThroughputLimit only when FifoQueue is set to true."},
		{name: "CreateQueue/VisibilityTimeout 43201", op: "CreateQueue", src: "issue apache/airflow#65592",
			params: map[string]any{"QueueName": "conf-x", "Attributes": map[string]any{"VisibilityTimeout": "43201"}},
			err:    errAttributeValue, msg: "Invalid value for the parameter VisibilityTimeout."},
		{name: "CreateQueue/MessageRetentionPeriod 59", op: "CreateQueue", src: "issue apache/airflow#65592 (same form)",
			params: map[string]any{"QueueName": "conf-x", "Attributes": map[string]any{"MessageRetentionPeriod": "59"}},
			err:    errAttributeValue, msg: "Invalid value for the parameter MessageRetentionPeriod."},
		{name: "CreateQueue/MaximumMessageSize 1023", op: "CreateQueue", src: "issue apache/airflow#65592 (same form)",
			params: map[string]any{"QueueName": "conf-x", "Attributes": map[string]any{"MaximumMessageSize": "1023"}},
			err:    errAttributeValue, msg: "Invalid value for the parameter MaximumMessageSize."},
		{name: "CreateQueue/ReceiveMessageWaitTimeSeconds 21", op: "CreateQueue", src: "issue apache/airflow#65592 (same form)",
			params: map[string]any{"QueueName": "conf-x", "Attributes": map[string]any{"ReceiveMessageWaitTimeSeconds": "21"}},
			err:    errAttributeValue, msg: "Invalid value for the parameter ReceiveMessageWaitTimeSeconds."},
		{name: "CreateQueue/unknown attribute", op: "CreateQueue", src: "ls",
			params: map[string]any{"QueueName": "conf-x", "Attributes": map[string]any{"NoSuchAttribute": "1"}},
			err:    errAttributeName, msg: "Unknown Attribute NoSuchAttribute."},
		{name: "CreateQueue/other attributes", op: "CreateQueue", src: "ls",
			params: map[string]any{"QueueName": "conf", "Attributes": map[string]any{"VisibilityTimeout": "5"}},
			err:    errQueueExists, msg: "A queue already exists with the same name and a different value for attribute VisibilityTimeout"},
		{name: "CreateQueue/RedrivePolicy bad ARN", op: "CreateQueue", src: "ls",
			params: map[string]any{"QueueName": "conf-x", "Attributes": map[string]any{"RedrivePolicy": redrive}},
			err:    errInvalidParameter, msg: "Value " + redrive + " for parameter RedrivePolicy is invalid. Reason: Invalid value for deadLetterTargetArn."},
		{name: "CreateQueue/RedrivePolicy maxReceiveCount 0", op: "CreateQueue", src: "las",
			params: map[string]any{"QueueName": "conf-x", "Attributes": map[string]any{"RedrivePolicy": redrive0}},
			err:    errInvalidParameter, msg: "Value " + redrive0 + " for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive."},

		// GetQueueUrl, ListQueues, attributes.
		noQueue("GetQueueAttributes", map[string]any{"AttributeNames": []any{"All"}}),
		{name: "GetQueueUrl/missing queue", op: "GetQueueUrl", params: map[string]any{"QueueName": "conf-missing"},
			err: errNonExistentQueue, msg: msgNoQueue, queryMsg: msgNoQueueQuery, src: "ls"},
		{name: "GetQueueUrl/no QueueName", op: "GetQueueUrl", params: map[string]any{}, err: errInvalidParameter, src: "las",
			msg: "Value for parameter QueueName is invalid. Reason: Must specify a queue name."},
		{name: "ListQueues/MaxResults 0", op: "ListQueues", params: map[string]any{"MaxResults": 0}, err: errInvalidParameter, src: "las",
			msg: "Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."},
		{name: "ListQueues/MaxResults 1001", op: "ListQueues", params: map[string]any{"MaxResults": 1001}, err: errInvalidParameter, src: "las",
			msg: "Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."},
		{name: "GetQueueAttributes/unknown name", op: "GetQueueAttributes", params: map[string]any{"QueueUrl": q("conf"), "AttributeNames": []any{"NoSuchAttribute"}},
			err: errAttributeName, msg: "Unknown Attribute NoSuchAttribute.", src: "ls"},
		{name: "SetQueueAttributes/FifoQueue on standard", op: "SetQueueAttributes", src: "ls",
			params: map[string]any{"QueueUrl": q("conf"), "Attributes": map[string]any{"FifoQueue": "true"}}, err: errAttributeName, msg: "Unknown Attribute FifoQueue."},
		{name: "SetQueueAttributes/FifoQueue false on FIFO", op: "SetQueueAttributes", src: "ls",
			params: map[string]any{"QueueUrl": q("conf.fifo"), "Attributes": map[string]any{"FifoQueue": "false"}},
			err:    errAttributeValue, msg: "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."},
		{name: "SetQueueAttributes/DelaySeconds 901", op: "SetQueueAttributes", src: "issue apache/airflow#65592 (same form)",
			params: map[string]any{"QueueUrl": q("conf"), "Attributes": map[string]any{"DelaySeconds": "901"}},
			err:    errAttributeValue, msg: "Invalid value for the parameter DelaySeconds."},
		{name: "SetQueueAttributes/KMS and SQS SSE", op: "SetQueueAttributes", src: "ls",
			params: map[string]any{"QueueUrl": q("conf"), "Attributes": map[string]any{"KmsMasterKeyId": "testKeyId", "SqsManagedSseEnabled": "true"}},
			err:    errAttributeName, msg: "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE."},
		noQueue("SetQueueAttributes", map[string]any{"Attributes": map[string]any{"DelaySeconds": "1"}}),

		// SendMessage.
		{name: "SendMessage/empty body", op: "SendMessage", params: map[string]any{"QueueUrl": q("conf"), "MessageBody": ""},
			err: errMissingParameter, msg: "The request must contain the parameter MessageBody.", src: "ls"},
		{name: "SendMessage/too large", op: "SendMessage", params: map[string]any{"QueueUrl": q("conf-small"), "MessageBody": strings.Repeat("a", 1025)},
			err: errInvalidParameter, msg: "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.", src: "ls"},
		{name: "SendMessage/control character", op: "SendMessage", params: map[string]any{"QueueUrl": q("conf"), "MessageBody": "a\x01b"},
			err: errMessageContents, src: "model; wording unpublished"},
		{name: "SendMessage/DelaySeconds 901", op: "SendMessage", params: map[string]any{"QueueUrl": q("conf"), "MessageBody": "x", "DelaySeconds": 901},
			err: errInvalidParameter, msg: "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", src: "las"},
		{name: "SendMessage/FIFO DelaySeconds", op: "SendMessage", src: "ls",
			params: map[string]any{"QueueUrl": q("conf.fifo"), "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d", "DelaySeconds": 2},
			err:    errInvalidParameter, msg: "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."},
		{name: "SendMessage/FIFO without MessageGroupId", op: "SendMessage", params: map[string]any{"QueueUrl": q("conf.fifo"), "MessageBody": "x", "MessageDeduplicationId": "d"},
			err: errMissingParameter, msg: "The request must contain the parameter MessageGroupId.", src: "ls"},
		{name: "SendMessage/FIFO without deduplication", op: "SendMessage", params: map[string]any{"QueueUrl": q("conf.fifo"), "MessageBody": "x", "MessageGroupId": "g"},
			err: errInvalidParameter, msg: msgNoDedup, src: "ls"},
		{name: "SendMessage/bad MessageGroupId", op: "SendMessage", params: map[string]any{"QueueUrl": q("conf"), "MessageBody": "x", "MessageGroupId": "group 123"},
			err: errInvalidParameter, src: "ls",
			msg: "Value group 123 for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length."},
		{name: "SendMessage/empty MessageDeduplicationId", op: "SendMessage", src: "ls",
			params: map[string]any{"QueueUrl": q("conf.fifo"), "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": ""},
			err:    errInvalidParameter, msg: "Value  for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length."},
		{name: "SendMessage/empty string attribute", op: "SendMessage", src: "ls",
			params: map[string]any{"QueueUrl": q("conf"), "MessageBody": "x", "MessageAttributes": map[string]any{"ErrorDetails": map[string]any{"DataType": "String", "StringValue": ""}}},
			err:    errInvalidParameter, msg: "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type 'String'."},
		noQueue("SendMessage", map[string]any{"MessageBody": "x"}),

		// SendMessageBatch.
		{name: "SendMessageBatch/no entries", op: "SendMessageBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": []any{}},
			err: errEmptyBatch, msg: "There should be at least one SendMessageBatchRequestEntry in the request.", src: "issue aws/aws-sdk-php#630 (same form)"},
		{name: "SendMessageBatch/11 entries", op: "SendMessageBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": entries(11, sendEntry)},
			err: errTooManyEntries, msg: "Maximum number of entries per request are 10. You have sent 11.", src: "ls"},
		{name: "SendMessageBatch/repeated id", op: "SendMessageBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": entries(2, func(int) map[string]any { return sendEntry(7) })},
			err: errIdsNotDistinct, msg: "Id e7 repeated.", src: "issue elixir-broadway/broadway_sqs#49"},
		{name: "SendMessageBatch/bad id", op: "SendMessageBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": []any{map[string]any{"Id": "invalid:id", "MessageBody": "x"}}},
			err: errBatchEntryID, msg: msgBatchID, src: "ls"},
		{name: "SendMessageBatch/id of 81", op: "SendMessageBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": []any{map[string]any{"Id": strings.Repeat("i", 81), "MessageBody": "x"}}},
			err: errBatchEntryID, msg: msgBatchID, src: "ls"},
		{name: "SendMessageBatch/over 1 MiB", op: "SendMessageBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": []any{
			map[string]any{"Id": "a", "MessageBody": big}, map[string]any{"Id": "b", "MessageBody": big}}},
			err: errBatchTooLong, msg: "Batch requests cannot be longer than 1048576 bytes. You have sent 1048578 bytes.", src: "ls"},
		{name: "SendMessageBatch/FIFO without MessageGroupId", op: "SendMessageBatch", src: "ls",
			params: map[string]any{"QueueUrl": q("conf.fifo"), "Entries": []any{map[string]any{"Id": "a", "MessageBody": "x", "MessageDeduplicationId": "d"}}},
			err:    errInvalidParameter, msg: "The request must contain the parameter MessageGroupId."},
		{name: "SendMessageBatch/FIFO without deduplication", op: "SendMessageBatch", src: "ls",
			params: map[string]any{"QueueUrl": q("conf.fifo"), "Entries": []any{map[string]any{"Id": "a", "MessageBody": "x", "MessageGroupId": "g"}}},
			err:    errInvalidParameter, msg: msgNoDedup},
		{name: "SendMessageBatch/one entry too large", op: "SendMessageBatch", src: "ls", err: batchEntry, entryCode: "InvalidParameterValue",
			params: map[string]any{"QueueUrl": q("conf-small"), "Entries": []any{map[string]any{"Id": "fits", "MessageBody": "x"}, map[string]any{"Id": "big", "MessageBody": strings.Repeat("a", 1025)}}},
			msg:    "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes."},

		// ReceiveMessage.
		{name: "ReceiveMessage/MaxNumberOfMessages 11", op: "ReceiveMessage", params: map[string]any{"QueueUrl": q("conf"), "MaxNumberOfMessages": 11},
			err: errInvalidParameter, msg: "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", src: "ls"},
		{name: "ReceiveMessage/MaxNumberOfMessages 0", op: "ReceiveMessage", params: map[string]any{"QueueUrl": q("conf"), "MaxNumberOfMessages": 0},
			err: errInvalidParameter, msg: "Value 0 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", src: "ls"},
		{name: "ReceiveMessage/WaitTimeSeconds 21", op: "ReceiveMessage", params: map[string]any{"QueueUrl": q("conf"), "WaitTimeSeconds": 21},
			err: errInvalidParameter, msg: "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", src: "ls"},
		{name: "ReceiveMessage/WaitTimeSeconds -1", op: "ReceiveMessage", params: map[string]any{"QueueUrl": q("conf"), "WaitTimeSeconds": -1},
			err: errInvalidParameter, msg: "Value -1 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", src: "ls"},
		{name: "ReceiveMessage/VisibilityTimeout 43201", op: "ReceiveMessage", params: map[string]any{"QueueUrl": q("conf"), "VisibilityTimeout": 43201},
			err: errInvalidParameter, msg: "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", src: "las"},
		noQueue("ReceiveMessage", nil),

		// DeleteMessage(Batch), ChangeMessageVisibility(Batch).
		{name: "DeleteMessage/made-up handle", op: "DeleteMessage", params: map[string]any{"QueueUrl": q("conf"), "ReceiptHandle": "garbage"},
			err: errReceiptHandle, msg: `The input receipt handle "garbage" is not a valid receipt handle.`, src: "model (404); AWS knowledge center sqs-receipt-handle-error"},
		{name: "DeleteMessage/no handle", op: "DeleteMessage", params: map[string]any{"QueueUrl": q("conf")},
			err: errMissingParameter, msg: "The request must contain the parameter ReceiptHandle.", src: "las"},
		noQueue("DeleteMessage", map[string]any{"ReceiptHandle": "{rh}"}),
		{name: "DeleteMessageBatch/no entries", op: "DeleteMessageBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": []any{}},
			err: errEmptyBatch, msg: "There should be at least one DeleteMessageBatchRequestEntry in the request.", src: "issue aws/aws-sdk-php#630"},
		{name: "DeleteMessageBatch/11 entries", op: "DeleteMessageBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": entries(11, rhEntry)},
			err: errTooManyEntries, msg: "Maximum number of entries per request are 10. You have sent 11.", src: "ls"},
		{name: "DeleteMessageBatch/repeated id", op: "DeleteMessageBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": entries(2, func(int) map[string]any { return map[string]any{"Id": "x", "ReceiptHandle": "{rh}"} })},
			err: errIdsNotDistinct, msg: "Id x repeated.", src: "issue elixir-broadway/broadway_sqs#49"},
		{name: "DeleteMessageBatch/bad id", op: "DeleteMessageBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": []any{map[string]any{"Id": "", "ReceiptHandle": "{rh}"}}},
			err: errBatchEntryID, msg: msgBatchID, src: "ls"},
		{name: "DeleteMessageBatch/made-up handle", op: "DeleteMessageBatch", err: batchEntry, entryCode: "ReceiptHandleIsInvalid", src: "model; per-entry wording unpublished",
			params: map[string]any{"QueueUrl": q("conf"), "Entries": []any{map[string]any{"Id": "bad", "ReceiptHandle": "garbage"}}}},
		{name: "ChangeMessageVisibility/made-up handle", op: "ChangeMessageVisibility", params: map[string]any{"QueueUrl": q("conf"), "ReceiptHandle": "garbage", "VisibilityTimeout": 1},
			err: errReceiptHandle, msg: `The input receipt handle "garbage" is not a valid receipt handle.`, src: "model (404); las"},
		{name: "ChangeMessageVisibility/no VisibilityTimeout", op: "ChangeMessageVisibility", params: map[string]any{"QueueUrl": q("conf"), "ReceiptHandle": "{rh}"},
			err: errMissingParameter, msg: "The request must contain the parameter VisibilityTimeout.", src: "las"},
		{name: "ChangeMessageVisibility/43201", op: "ChangeMessageVisibility", params: map[string]any{"QueueUrl": q("conf"), "ReceiptHandle": "{rh}", "VisibilityTimeout": 43201},
			err: errInvalidParameter, src: "issue aws/aws-sdk-net#794: SQS words it by the message's total visibility (\"Total VisibilityTimeout for the message is beyond the limit [43200 seconds]\"), local-aws-sqs by the value"},
		{name: "ChangeMessageVisibilityBatch/no entries", op: "ChangeMessageVisibilityBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": []any{}},
			err: errEmptyBatch, msg: "There should be at least one ChangeMessageVisibilityBatchRequestEntry in the request.", src: "issue aws/aws-sdk-php#630 (same form)"},
		{name: "ChangeMessageVisibilityBatch/11 entries", op: "ChangeMessageVisibilityBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": entries(11, rhEntry)},
			err: errTooManyEntries, msg: "Maximum number of entries per request are 10. You have sent 11.", src: "ls"},
		{name: "ChangeMessageVisibilityBatch/repeated id", op: "ChangeMessageVisibilityBatch", params: map[string]any{"QueueUrl": q("conf"), "Entries": entries(2, func(int) map[string]any { return rhEntry(3) })},
			err: errIdsNotDistinct, msg: "Id e3 repeated.", src: "issue elixir-broadway/broadway_sqs#49"},
		{name: "ChangeMessageVisibilityBatch/made-up handle", op: "ChangeMessageVisibilityBatch", err: batchEntry, entryCode: "ReceiptHandleIsInvalid", src: "model; per-entry wording unpublished",
			params: map[string]any{"QueueUrl": q("conf"), "Entries": []any{map[string]any{"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 1}}}},

		// PurgeQueue, tags, permissions, dead-letter source queues.
		{name: "PurgeQueue/twice within 60 s", op: "PurgeQueue", params: map[string]any{"QueueUrl": q("conf-purge-{proto}")}, repeated: true,
			err: errPurgeInProgress, msg: "Only one PurgeQueue operation on conf-purge-{proto} is allowed every 60 seconds.", src: "ls; model (403)"},
		noQueue("PurgeQueue", nil),
		{name: "TagQueue/no tags", op: "TagQueue", params: map[string]any{"QueueUrl": q("conf")},
			err: errMissingParameter, msg: "The request must contain the parameter Tags.", src: "las"},
		{name: "UntagQueue/no keys", op: "UntagQueue", params: map[string]any{"QueueUrl": q("conf")},
			err: errMissingParameter, msg: "The request must contain the parameter TagKeys.", src: "las"},
		noQueue("ListQueueTags", nil),
		{name: "AddPermission/label exists", op: "AddPermission", src: "ls",
			params: map[string]any{"QueueUrl": q("conf-perm"), "Label": "conf-label", "AWSAccountIds": []any{sqsAccount}, "Actions": []any{"SendMessage"}},
			err:    errInvalidParameter, msg: "Value conf-label for parameter Label is invalid. Reason: Already exists."},
		{name: "AddPermission/unknown action", op: "AddPermission", src: "las",
			params: map[string]any{"QueueUrl": q("conf"), "Label": "p2", "AWSAccountIds": []any{sqsAccount}, "Actions": []any{"NoSuchAction"}},
			err:    errInvalidParameter, msg: "Value SQS:NoSuchAction for parameter ActionName is invalid. Reason: Please refer to the appropriate WSDL for a list of valid actions."},
		{name: "AddPermission/no label", op: "AddPermission", params: map[string]any{"QueueUrl": q("conf"), "AWSAccountIds": []any{sqsAccount}, "Actions": []any{"SendMessage"}},
			err: errMissingParameter, msg: "The request must contain the parameter Label.", src: "las"},
		{name: "RemovePermission/unknown label", op: "RemovePermission", params: map[string]any{"QueueUrl": q("conf"), "Label": "no-label"},
			err: errInvalidParameter, msg: "Value no-label for parameter Label is invalid. Reason: can't find label.", src: "ls"},
		noQueue("ListDeadLetterSourceQueues", nil),
		{name: "ListDeadLetterSourceQueues/MaxResults 0", op: "ListDeadLetterSourceQueues", params: map[string]any{"QueueUrl": q("conf"), "MaxResults": 0},
			err: errInvalidParameter, msg: "Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", src: "las"},

		// Move tasks.
		{name: "StartMessageMoveTask/not a DLQ", op: "StartMessageMoveTask", params: map[string]any{"SourceArn": "{arn}:conf"}, feature: "move-tasks",
			err: errInvalidParameter, msg: "Source queue must be configured as a Dead Letter Queue.", src: "ls"},
		{name: "StartMessageMoveTask/missing source", op: "StartMessageMoveTask", params: map[string]any{"SourceArn": "{arn}:conf-missing"}, feature: "move-tasks",
			err: errResourceNotFound, msg: "The resource that you specified for the SourceArn parameter doesn't exist.", src: "ls; model (404)"},
		{name: "CancelMessageMoveTask/made-up handle", op: "CancelMessageMoveTask", params: map[string]any{"TaskHandle": "not-a-handle"}, feature: "move-tasks",
			err: errInvalidParameter, msg: "Value for parameter TaskHandle is invalid.", src: "ls"},
		{name: "ListMessageMoveTasks/not an ARN", op: "ListMessageMoveTasks", params: map[string]any{"SourceArn": "conf"}, feature: "move-tasks",
			err: errInvalidParameter, msg: "You must use this format to specify the SourceArn: arn:<partition>:<service>:<region>:<account-id>:<resource-id>", src: "las"},
	}
}

// ---- requests ----

// queryListNames are the Query names of list and map members (botocore's
// sqs-2012-11-05 model: locationName of the flattened member); Entries
// depend on the operation.
var queryListNames = map[string]string{
	"Attributes": "Attribute", "tags": "Tag", "Tags": "Tag", "AttributeNames": "AttributeName",
	"MessageAttributeNames": "MessageAttributeName", "MessageSystemAttributeNames": "MessageSystemAttributeName",
	"TagKeys": "TagKey", "AWSAccountIds": "AWSAccountId", "Actions": "ActionName",
	"MessageAttributes": "MessageAttribute", "MessageSystemAttributes": "MessageSystemAttribute",
}

// queryForm flattens JSON request members the way botocore's Query
// serializer does: lists as Name.N, maps as Name.N.Name/Value (Key/Value
// for tags), structures as Prefix.Member, an empty list as "Name=".
func queryForm(op string, params map[string]any) url.Values {
	form := url.Values{"Action": {op}, "Version": {"2012-11-05"}}
	var put func(key, member string, v any)
	put = func(key, member string, v any) {
		switch x := v.(type) {
		case []any:
			name := queryListNames[member]
			if member == "Entries" {
				name = op + "RequestEntry"
			}
			if len(x) == 0 {
				form.Set(strings.TrimSuffix(key, member)+member, "")
				return
			}
			for i, e := range x {
				put(fmt.Sprintf("%s%s.%d", strings.TrimSuffix(key, member), name, i+1), "", e)
			}
		case map[string]any:
			if name, ok := queryListNames[member]; ok { // a map member
				k, val := "Name", "Value"
				if member == "tags" || member == "Tags" {
					k = "Key"
				}
				for i, n := range sortedKeys(x) {
					p := fmt.Sprintf("%s%s.%d", strings.TrimSuffix(key, member), name, i+1)
					form.Set(p+"."+k, n)
					put(p+"."+val, "", x[n])
				}
				return
			}
			for _, n := range sortedKeys(x) { // a structure
				put(key+"."+n, n, x[n])
			}
		case []byte:
			form.Set(key, base64.StdEncoding.EncodeToString(x))
		default:
			form.Set(key, fmt.Sprint(x))
		}
	}
	for _, n := range sortedKeys(params) {
		put(n, n, params[n])
	}
	return form
}

// fillCase substitutes the placeholders of a case's strings.
func fillCase(v any, repl *strings.Replacer) any {
	switch x := v.(type) {
	case string:
		return repl.Replace(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fillCase(e, repl)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = fillCase(e, repl)
		}
		return out
	}
	return v
}

// sendCase sends a case in one protocol to a server and returns the
// answer, with a 200's first Failed batch entry as its error.
func sendCase(t *testing.T, endpoint, proto string, c sqsCase, rh string) sqsAnswer {
	t.Helper()
	repl := strings.NewReplacer("{q}", endpoint+"/"+sqsAccount, "{arn}", "arn:aws:sqs:"+sqsRegion+":"+sqsAccount, "{rh}", rh, "{proto}", proto)
	params := fillCase(c.params, repl).(map[string]any)
	send := func() sqsAnswer {
		if proto == "json" {
			body, _ := json.Marshal(params)
			return sqsJSON(t, endpoint, c.op, string(body))
		}
		return sqsQuery(t, endpoint, "/", queryForm(c.op, params))
	}
	if c.repeated {
		if first := send(); first.status != 200 {
			return sqsAnswer{status: first.status, code: "first request: " + first.code, message: first.message}
		}
	}
	a := send()
	if a.status == 200 {
		a.code, a.message, a.fault = firstFailedEntry(a.body, proto)
	}
	return a
}

// firstFailedEntry returns Code, Message and SenderFault ("Sender") of a
// batch answer's first Failed entry.
func firstFailedEntry(body []byte, proto string) (code, msg, fault string) {
	type entry struct {
		Code, Message string
		SenderFault   bool
	}
	var fs []entry
	if proto == "json" {
		var out struct{ Failed []entry }
		_ = json.Unmarshal(body, &out)
		fs = out.Failed
	} else {
		var doc struct {
			Parts []struct {
				Failed []entry `xml:"BatchResultErrorEntry"`
			} `xml:",any"`
		}
		_ = xml.Unmarshal(body, &doc)
		for _, p := range doc.Parts {
			fs = append(fs, p.Failed...)
		}
	}
	if len(fs) == 0 {
		return "", "", ""
	}
	if fs[0].SenderFault {
		fault = "Sender"
	}
	return fs[0].Code, fs[0].Message, fault
}

// caseMismatch compares an answer with the case's expectation in proto
// and describes the difference, or returns "".
func caseMismatch(c sqsCase, proto string, a sqsAnswer) string {
	want := c.err
	msg := c.msg
	if proto == "query" && c.queryMsg != "" {
		msg = c.queryMsg
	}
	msg = strings.NewReplacer("{proto}", proto, "{arn}", "arn:aws:sqs:"+sqsRegion+":"+sqsAccount).Replace(msg)
	var d []string
	if a.status != want.status {
		d = append(d, fmt.Sprintf("status %d, want %d", a.status, want.status))
	}
	code := want.code
	if want.status == 200 {
		code = c.entryCode
		if a.fault != "Sender" {
			d = append(d, "Failed entry without SenderFault true")
		}
	}
	if a.code != code {
		d = append(d, fmt.Sprintf("code %q, want %q", a.code, code))
	}
	if proto == "json" && want.status != 200 {
		if a.typ != want.typ && want.typ != "" {
			d = append(d, fmt.Sprintf("__type %q, want %q", a.typ, want.typ))
		}
		if a.queryErrorHeader != code+";Sender" {
			d = append(d, fmt.Sprintf("x-amzn-query-error %q, want %q", a.queryErrorHeader, code+";Sender"))
		}
	}
	if proto == "query" && want.status != 200 && a.fault != "Sender" {
		d = append(d, fmt.Sprintf("<Type> %q, want Sender", a.fault))
	}
	if msg != "" && a.message != msg {
		d = append(d, fmt.Sprintf("message %q, want %q", tail(a.message, 300), tail(msg, 300)))
	}
	return strings.Join(d, "; ")
}

// sqsFixture creates what the cases refer to: queues conf (with a message
// in flight, whose receipt handle is returned), conf-perm (with a
// permission labelled conf-label), conf.fifo, conf-small
// (MaximumMessageSize 1024), conf-dlq, and one queue per protocol to purge.
func sqsFixture(t *testing.T, s *sqsServer) string {
	t.Helper()
	for _, c := range []struct{ op, body string }{
		{"CreateQueue", `{"QueueName":"conf"}`},
		{"CreateQueue", `{"QueueName":"conf.fifo","Attributes":{"FifoQueue":"true"}}`},
		{"CreateQueue", `{"QueueName":"conf-small","Attributes":{"MaximumMessageSize":"1024"}}`},
		{"CreateQueue", `{"QueueName":"conf-dlq"}`},
		{"CreateQueue", `{"QueueName":"conf-purge-json"}`},
		{"CreateQueue", `{"QueueName":"conf-purge-query"}`},
		{"CreateQueue", `{"QueueName":"conf-perm"}`},
		{"SendMessage", fmt.Sprintf(`{"QueueUrl":%q,"MessageBody":"in flight"}`, s.queueURL("conf"))},
		{"AddPermission", fmt.Sprintf(`{"QueueUrl":%q,"Label":"conf-label","AWSAccountIds":[%q],"Actions":["SendMessage"]}`, s.queueURL("conf-perm"), sqsAccount)},
	} {
		if a := sqsJSON(t, s.endpoint, c.op, c.body); a.status != 200 {
			t.Fatalf("%s: %s %s: %s", s.name, c.op, c.body, a)
		}
	}
	a := sqsJSON(t, s.endpoint, "ReceiveMessage", fmt.Sprintf(`{"QueueUrl":%q,"VisibilityTimeout":600,"WaitTimeSeconds":5}`, s.queueURL("conf")))
	var out struct {
		Messages []struct{ ReceiptHandle string }
	}
	if a.status != 200 || json.Unmarshal(a.body, &out) != nil || len(out.Messages) != 1 {
		t.Fatalf("%s: receiving the fixture's message: %s", s.name, a)
	}
	return out.Messages[0].ReceiptHandle
}

// TestSQSBadInput runs against the bridge whatever ITEST_SQS_TARGET says:
// TestSQSConformance is where local-aws-sqs meets the same table.
func TestSQSBadInput(t *testing.T) {
	s := startSQSBridge(t)
	rh := sqsFixture(t, s)
	failed := 0
	var skipped []string
	for _, c := range sqsCases() {
		if c.feature != "" && s.bridge != nil {
			if _, pending := sqsPending[c.feature]; pending {
				skipped = append(skipped, c.name)
				continue
			}
		}
		for _, proto := range []string{"json", "query"} {
			if c.only != "" && c.only != proto {
				continue
			}
			a := sendCase(t, s.endpoint, proto, c, rh)
			if d := caseMismatch(c, proto, a); d != "" {
				failed++
				t.Errorf("%s (%s, %s): %s\n    answer: %s", c.name, proto, c.src, d, a)
			}
		}
	}
	sort.Strings(skipped)
	if len(skipped) > 0 {
		t.Logf("skipped %d cases of pending features: %s", len(skipped), strings.Join(skipped, ", "))
	}
	t.Logf("%d cases, %d answers differ from SQS's", len(sqsCases()), failed)
}
