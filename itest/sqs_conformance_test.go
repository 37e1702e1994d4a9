package itest

// Conformance: the same raw requests, in both SQS protocols, to the bridge
// and to local-aws-sqs 2.0.2 (the SQS emulator that runs here, both
// protocols), comparing status, error code and type, message, and for
// requests that succeed the shape of the answer (its JSON keys or XML
// elements, attribute names included). The bad requests are the table of
// sqs_errors_test.go, which also says what SQS itself answers, so each
// difference has a side: the server that answers otherwise than SQS.
//
// The test fails on a difference that sqsConformanceAllow does not
// explain, except where the bridge is the side that deviates from SQS:
// TestSQSBadInput already fails for those, and this test logs them. The
// README's "SQS conformance" summarizes the table.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
)

// sqsAllow explains a difference between the bridge and local-aws-sqs:
// why local-aws-sqs deviates from SQS (the tests follow SQS), or, with
// unknown set, why neither answer can be shown to be SQS's.
type sqsAllow struct {
	why     string
	unknown bool
}

// Reasons shared by several entries.
const (
	whyLASAttrValue = "local-aws-sqs refuses an out-of-range queue attribute with InvalidParameterValue; SQS answers " +
		"InvalidAttributeValue \"Invalid value for the parameter X.\" (apache/airflow#65592 quotes SQS)"
	whyLASBadXML = "local-aws-sqs writes '<' and '>' of its message unescaped into its Query XML, which no XML " +
		"parser reads (SQS escapes them)"
	whyLASEmptyQueryBatch = "a Query batch with an empty Entries= (what botocore and the PHP SDK send for an empty " +
		"list) is EmptyBatchRequest in SQS (aws/aws-sdk-php#630); local-aws-sqs says MissingParameter"
	whyLASReceiptHandle = "SQS answers a made-up receipt handle with HTTP 404 (the service model's ReceiptHandleIsInvalid) " +
		"and \"The input receipt handle \\\"X\\\" is not a valid receipt handle.\" (AWS knowledge center); " +
		"local-aws-sqs with 400 and \"... is not valid.\""
	whyLASFifoOnly = "SQS refuses the FIFO-only attributes of a standard queue with \"Unknown Attribute X.\" " +
		"(ContentBasedDeduplication) or \"You can specify the X only when FifoQueue is set to true.\" " +
		"(DeduplicationScope, FifoThroughputLimit), as LocalStack's AWS-recorded snapshots show; " +
		"local-aws-sqs adds \" Should be used only with FIFO Queues.\""
	whyLASMaxResults = "local-aws-sqs accepts MaxResults 0 (it tests the number for truth); SQS refuses it " +
		"(its own refusal of 1001 shows the wording)"
)

// sqsConformanceAllow lists the accepted differences by case name, with
// "/json" or "/query" appended when only one protocol differs. A
// "shape/..." name is a successful request whose answers differ in shape.
var sqsConformanceAllow = map[string]sqsAllow{
	"unknown action": {why: "local-aws-sqs answers an unknown Query action with AWS.SimpleQueueService.UnsupportedOperation; " +
		"SQS with InvalidAction \"The action X is not valid for this endpoint.\" (LocalStack's AWS-validated test)"},
	"CreateQueue/FIFO name without .fifo": {why: "SQS answers FifoQueue=true on a name without .fifo with InvalidParameterValue " +
		"(LocalStack's AWS-validated test_fifo_queue_requires_suffix); local-aws-sqs with InvalidAttributeName"},
	"CreateQueue/ContentBasedDeduplication on standard": {why: whyLASFifoOnly},
	"CreateQueue/DeduplicationScope on standard":        {why: whyLASFifoOnly},
	"CreateQueue/FifoThroughputLimit on standard":       {why: whyLASFifoOnly},
	"CreateQueue/VisibilityTimeout 43201":               {why: whyLASAttrValue},
	"CreateQueue/MessageRetentionPeriod 59":             {why: whyLASAttrValue},
	"CreateQueue/MaximumMessageSize 1023":               {why: whyLASAttrValue},
	"CreateQueue/ReceiveMessageWaitTimeSeconds 21":      {why: whyLASAttrValue},
	"SetQueueAttributes/DelaySeconds 901":               {why: whyLASAttrValue},
	"CreateQueue/RedrivePolicy bad ARN": {why: "SQS gives the reason \"Invalid value for deadLetterTargetArn.\" " +
		"(LocalStack's AWS-recorded snapshot); local-aws-sqs \"Dead-letter target ARN should be fully qualified ARN.\""},
	"ListQueues/MaxResults 0":                 {why: whyLASMaxResults},
	"ListDeadLetterSourceQueues/MaxResults 0": {why: whyLASMaxResults},
	"GetQueueAttributes/unknown name": {why: "local-aws-sqs leaves out the final '.' of \"Unknown Attribute X.\" in " +
		"GetQueueAttributes (SQS has it: LocalStack's AWS-validated Query test)"},
	"SendMessage/control character": {why: "local-aws-sqs accepts a body with U+0001, which SQS refuses with InvalidMessageContents " +
		"(its documented character set excludes it)"},
	"SendMessage/DelaySeconds 901/query":            {why: whyLASBadXML},
	"ReceiveMessage/WaitTimeSeconds 21/query":       {why: whyLASBadXML},
	"ReceiveMessage/WaitTimeSeconds -1/query":       {why: whyLASBadXML},
	"ReceiveMessage/VisibilityTimeout 43201/query":  {why: whyLASBadXML},
	"ListMessageMoveTasks/not an ARN/query":         {why: whyLASBadXML},
	"SendMessageBatch/no entries/query":             {why: whyLASEmptyQueryBatch},
	"DeleteMessageBatch/no entries/query":           {why: whyLASEmptyQueryBatch},
	"ChangeMessageVisibilityBatch/no entries/query": {why: whyLASEmptyQueryBatch},
	"ChangeMessageVisibilityBatch/no entries/json": {why: "local-aws-sqs names the entry \"ChangeMessageVisibilityBatch\" " +
		"instead of \"ChangeMessageVisibilityBatchRequestEntry\" in its EmptyBatchRequest message"},
	"DeleteMessage/made-up handle":           {why: whyLASReceiptHandle},
	"ChangeMessageVisibility/made-up handle": {why: whyLASReceiptHandle},
	"shape/ReceiveMessage":                   {why: "local-aws-sqs ignores MessageSystemAttributeNames, the member current SDKs send instead of AttributeNames"},
	"DeleteMessageBatch/made-up handle": {unknown: true, why: "SQS's wording of a made-up receipt handle in a batch entry is not published; " +
		"the bridge words it as SQS words DeleteMessage's (AWS knowledge center), local-aws-sqs as its own DeleteMessage's"},
	"ChangeMessageVisibilityBatch/made-up handle": {unknown: true, why: "as DeleteMessageBatch/made-up handle"},
	"ChangeMessageVisibility/43201": {unknown: true, why: "SQS words an over-long visibility by the message's total " +
		"(\"Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]\", aws/aws-sdk-net#794); " +
		"the bridge and local-aws-sqs by the value, each with a wording of its own"},
	"UntagQueue/no keys":         {why: "local-aws-sqs answers InvalidParameterValue \"TagKeys must be an array of string\"; SQS requires the member (MissingParameter)"},
	"AddPermission/label exists": {why: "local-aws-sqs accepts a second permission with a label that exists; SQS refuses it (LocalStack's AWS-recorded snapshot)"},
	"RemovePermission/unknown label": {why: "SQS's reason is \"can't find label.\" (LocalStack's AWS-recorded snapshot); " +
		"local-aws-sqs adds \" on existing policy\""},
	"SetQueueAttributes/FifoQueue false on FIFO": {why: "SQS refuses changing FifoQueue with InvalidAttributeValue \"... Reason: Modifying queue type " +
		"is not supported.\" (LocalStack's AWS-recorded snapshot); local-aws-sqs calls the attribute unknown"},
	"SendMessage/empty MessageDeduplicationId": {why: "SQS refuses an empty MessageDeduplicationId as an invalid value (LocalStack's " +
		"AWS-recorded snapshot); local-aws-sqs takes it for a missing one"},
	"SendMessageBatch/one entry too large": {why: "SQS words a batch entry's size refusal \"One or more parameters cannot be validated.\" " +
		"(LocalStack's AWS-recorded snapshot), unlike SendMessage's; local-aws-sqs words both alike"},
}

// shapeCases are successful requests whose answers' shapes are compared.
// {proto} keeps the two protocols' queues apart.
func shapeCases() []sqsCase {
	q := "{q}/shape-{proto}"
	return []sqsCase{
		{name: "CreateQueue", op: "CreateQueue", params: map[string]any{"QueueName": "shape-{proto}", "Attributes": map[string]any{"VisibilityTimeout": "30"},
			"tags": map[string]any{"team": "bridge"}}},
		{name: "CreateQueue FIFO", op: "CreateQueue", params: map[string]any{"QueueName": "shape-{proto}.fifo", "Attributes": map[string]any{"FifoQueue": "true"}}},
		{name: "GetQueueUrl", op: "GetQueueUrl", params: map[string]any{"QueueName": "shape-{proto}"}},
		{name: "ListQueues", op: "ListQueues", params: map[string]any{"QueueNamePrefix": "shape-{proto}", "MaxResults": 1}},
		{name: "SetQueueAttributes", op: "SetQueueAttributes", params: map[string]any{"QueueUrl": q, "Attributes": map[string]any{"DelaySeconds": "0"}}},
		{name: "GetQueueAttributes", op: "GetQueueAttributes", params: map[string]any{"QueueUrl": q, "AttributeNames": []any{"All"}}},
		{name: "GetQueueAttributes FIFO", op: "GetQueueAttributes", params: map[string]any{"QueueUrl": q + ".fifo", "AttributeNames": []any{"All"}}},
		{name: "TagQueue", op: "TagQueue", params: map[string]any{"QueueUrl": q, "Tags": map[string]any{"env": "itest"}}},
		{name: "ListQueueTags", op: "ListQueueTags", params: map[string]any{"QueueUrl": q}},
		{name: "UntagQueue", op: "UntagQueue", params: map[string]any{"QueueUrl": q, "TagKeys": []any{"env"}}},
		{name: "SendMessage", op: "SendMessage", params: map[string]any{"QueueUrl": q, "MessageBody": "shape",
			"MessageAttributes":       map[string]any{"a": map[string]any{"DataType": "String", "StringValue": "v"}},
			"MessageSystemAttributes": map[string]any{"AWSTraceHeader": map[string]any{"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}}}},
		{name: "SendMessage FIFO", op: "SendMessage", params: map[string]any{"QueueUrl": q + ".fifo", "MessageBody": "shape", "MessageGroupId": "g", "MessageDeduplicationId": "d"}},
		{name: "SendMessageBatch", op: "SendMessageBatch", params: map[string]any{"QueueUrl": q, "Entries": entries(2, sendEntry)}},
		{name: "ReceiveMessage", op: "ReceiveMessage", params: map[string]any{"QueueUrl": q, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 1,
			"MessageSystemAttributeNames": []any{"All"}, "MessageAttributeNames": []any{"All"}}},
		{name: "ReceiveMessage AttributeNames", op: "ReceiveMessage", params: map[string]any{"QueueUrl": q, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 1,
			"AttributeNames": []any{"All"}, "MessageAttributeNames": []any{"All"}}},
		{name: "ChangeMessageVisibilityBatch", op: "ChangeMessageVisibilityBatch", params: map[string]any{"QueueUrl": q,
			"Entries": []any{map[string]any{"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 1}}}},
		{name: "DeleteMessageBatch", op: "DeleteMessageBatch", params: map[string]any{"QueueUrl": q,
			"Entries": []any{map[string]any{"Id": "bad", "ReceiptHandle": "garbage"}}}},
		{name: "ListDeadLetterSourceQueues", op: "ListDeadLetterSourceQueues", params: map[string]any{"QueueUrl": q}},
		{name: "PurgeQueue", op: "PurgeQueue", params: map[string]any{"QueueUrl": q}},
		{name: "DeleteQueue", op: "DeleteQueue", params: map[string]any{"QueueUrl": q}},
	}
}

// answerShape lists the paths of a successful answer: JSON keys (map keys
// included, [] for array elements) or XML elements (an element with a
// <Name> or <Key> child is named by it, as Query attribute lists are),
// leaving out RequestId, which differs by nature.
func answerShape(body []byte, proto string) []string {
	set := map[string]bool{}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil // an answer without members; SDKs take it as {}
	}
	if proto == "json" {
		var v any
		if json.Unmarshal(body, &v) != nil {
			return []string{"unreadable JSON"}
		}
		var walk func(p string, v any)
		walk = func(p string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					set[p+"."+k] = true
					walk(p+"."+k, e)
				}
			case []any:
				for _, e := range x {
					walk(p+"[]", e)
				}
			}
		}
		walk("", v)
	} else {
		dec := xml.NewDecoder(bytes.NewReader(body))
		var stack []string
		var named []bool
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				return []string{"unreadable XML: " + err.Error()}
			}
			switch x := tok.(type) {
			case xml.StartElement:
				stack = append(stack, x.Name.Local)
				named = append(named, false)
				if n := x.Name.Local; n != "RequestId" {
					set[strings.Join(stack, "/")] = true
				}
			case xml.CharData:
				if len(stack) >= 2 && (stack[len(stack)-1] == "Name" || stack[len(stack)-1] == "Key") && !named[len(named)-2] {
					// Name the parent by its Name or Key, as JSON names map entries.
					named[len(named)-2] = true
					parent := strings.Join(stack[:len(stack)-1], "/")
					set[parent+"["+string(x)+"]"] = true
				}
			case xml.EndElement:
				stack, named = stack[:len(stack)-1], named[:len(named)-1]
			}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// emptyLists returns the paths of a JSON answer's empty arrays.
func emptyLists(body []byte, proto string) []string {
	var m map[string]any
	if proto != "json" || json.Unmarshal(body, &m) != nil {
		return nil
	}
	var out []string
	for k, v := range m {
		if a, ok := v.([]any); ok && len(a) == 0 {
			out = append(out, "."+k)
		}
	}
	return out
}

func TestSQSConformance(t *testing.T) {
	need(t, "local-aws-sqs", checkNodeSQS, installNodeSQS)
	bridge, emu := startSQSBridge(t), startLocalSQS(t)
	rhBridge, rhEmu := sqsFixture(t, bridge), sqsFixture(t, emu)
	used := map[string]bool{}
	var explained, bridgeSide, unexplained []string
	judge := func(name, proto, what string, bridgeRight bool) {
		key := name
		if _, ok := sqsConformanceAllow[key]; !ok {
			key = name + "/" + proto
		}
		allow, listed := sqsConformanceAllow[key]
		used[key] = true
		switch {
		case listed:
			side := "local-aws-sqs deviates from SQS: "
			if allow.unknown {
				side = "SQS's answer is not published: "
			}
			explained = append(explained, what+"\n    "+side+allow.why)
		case !bridgeRight:
			bridgeSide = append(bridgeSide, what)
		default:
			unexplained = append(unexplained, what)
		}
	}

	cases := 0
	for _, c := range sqsCases() {
		if _, pending := sqsPending[c.feature]; pending && c.feature != "" {
			t.Logf("%s: not compared (pending on the bridge: %s)", c.name, c.feature)
			used[c.name], used[c.name+"/json"], used[c.name+"/query"] = true, true, true
			continue
		}
		for _, proto := range []string{"json", "query"} {
			if c.only != "" && c.only != proto {
				continue
			}
			cases++
			b, e := sendCase(t, bridge.endpoint, proto, c, rhBridge), sendCase(t, emu.endpoint, proto, c, rhEmu)
			if b.status >= 500 {
				unexplained = append(unexplained, fmt.Sprintf("%s (%s): the bridge answered %s", c.name, proto, b))
				continue
			}
			var parts []string
			if b.status != e.status {
				parts = append(parts, "status")
			}
			if b.code != e.code {
				parts = append(parts, "code")
			}
			if proto == "json" && b.typ != e.typ {
				parts = append(parts, "type")
			}
			if b.message != e.message {
				parts = append(parts, "message")
			}
			if len(parts) == 0 {
				continue
			}
			judge(c.name, proto, fmt.Sprintf("%s (%s): %s differ\n    bridge:        %s\n    local-aws-sqs: %s",
				c.name, proto, strings.Join(parts, ", "), b, e), caseMismatch(c, proto, b) == "")
		}
	}

	for _, c := range shapeCases() {
		for _, proto := range []string{"json", "query"} {
			cases++
			b, e := sendCase(t, bridge.endpoint, proto, c, rhBridge), sendCase(t, emu.endpoint, proto, c, rhEmu)
			if b.status != 200 || e.status != 200 {
				unexplained = append(unexplained, fmt.Sprintf("shape/%s (%s): bridge %s, local-aws-sqs %s; both must succeed", c.name, proto, b, e))
				continue
			}
			bs, es := answerShape(b.body, proto), answerShape(e.body, proto)
			if slices.Equal(bs, es) {
				continue
			}
			// SQS leaves empty lists out of JSON answers: the AWS-recorded
			// SendMessageBatch answers in LocalStack's snapshots have no
			// "Failed" when nothing failed.
			bridgeRight := true
			if extra := emptyLists(b.body, proto); len(extra) > 0 &&
				slices.Equal(slices.DeleteFunc(slices.Clone(bs), func(p string) bool { return slices.Contains(extra, p) }), es) {
				bridgeRight = false
			}
			only := func(a, b []string) []string {
				var out []string
				for _, x := range a {
					if !slices.Contains(b, x) {
						out = append(out, x)
					}
				}
				return out
			}
			judge("shape/"+c.name, proto, fmt.Sprintf("shape/%s (%s): answers differ in shape\n    only the bridge's has:        %v\n    only local-aws-sqs's has:     %v",
				c.name, proto, only(bs, es), only(es, bs)), bridgeRight)
		}
	}

	for name := range sqsConformanceAllow {
		if !used[name] {
			t.Logf("allow-list entry %q is stale: the bridge and local-aws-sqs now agree", name)
		}
	}
	sort.Strings(explained)
	t.Logf("%d requests compared; %d differences where local-aws-sqs deviates from SQS (allowed), %d where the bridge does "+
		"(TestSQSBadInput fails for those), %d unexplained", cases, len(explained), len(bridgeSide), len(unexplained))
	for _, d := range explained {
		t.Log(d)
	}
	for _, d := range bridgeSide {
		t.Log("the bridge deviates from SQS: " + d)
	}
	for _, d := range unexplained {
		t.Error(d)
	}
}
