package sqs

import (
	"errors"
	"maps"
	"testing"
)

func TestCheckAttributes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		attrs    map[string]string
		fifo     bool
		creating bool
		want     string // the refusal's message; "" for none
		code     string
	}{
		{"defaults' bounds", map[string]string{"VisibilityTimeout": "43200", "DelaySeconds": "0", "MessageRetentionPeriod": "60", "MaximumMessageSize": "1048576", "ReceiveMessageWaitTimeSeconds": "20"}, false, true, "", ""},
		{"visibility over 12 h", map[string]string{"VisibilityTimeout": "43201"}, false, true, "Invalid value for the parameter VisibilityTimeout.", "InvalidAttributeValue"},
		{"negative delay", map[string]string{"DelaySeconds": "-1"}, false, false, "Invalid value for the parameter DelaySeconds.", "InvalidAttributeValue"},
		{"not a number", map[string]string{"MaximumMessageSize": "1e6"}, false, true, "Invalid value for the parameter MaximumMessageSize.", "InvalidAttributeValue"},
		{"message size under 1 KiB", map[string]string{"MaximumMessageSize": "1023"}, false, true, "Invalid value for the parameter MaximumMessageSize.", "InvalidAttributeValue"},
		{"retention over 14 days", map[string]string{"MessageRetentionPeriod": "1209601"}, false, true, "Invalid value for the parameter MessageRetentionPeriod.", "InvalidAttributeValue"},
		{"unknown name", map[string]string{"VisibilityTimeoutSeconds": "30"}, false, true, "Unknown Attribute VisibilityTimeoutSeconds.", "InvalidAttributeName"},
		{"computed name", map[string]string{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q"}, false, true, "Unknown Attribute QueueArn.", "InvalidAttributeName"},
		{"FIFO attribute on a standard queue", map[string]string{"ContentBasedDeduplication": "true"}, false, true, "Unknown Attribute ContentBasedDeduplication.", "InvalidAttributeName"},
		{"FIFO attributes", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "TRUE", "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}, true, true, "", ""},
		{"FifoQueue set later", map[string]string{"FifoQueue": "true"}, true, false, "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.", "InvalidAttributeValue"},
		{"bad scope", map[string]string{"DeduplicationScope": "group"}, true, true, "Invalid value for the parameter DeduplicationScope.", "InvalidAttributeValue"},
		{"redrive, count as string", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"5"}`}, false, true, "", ""},
		{"redrive, count as number", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":1000}`}, false, true, "", ""},
		{"redrive without target", map[string]string{"RedrivePolicy": `{"maxReceiveCount":5}`}, false, true,
			`Value {"maxReceiveCount":5} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory attribute: deadLetterTargetArn.`, "InvalidParameterValue"},
		{"redrive count 0", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":0}`}, false, true,
			`Value {"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":0} for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive.`, "InvalidParameterValue"},
		{"redrive allow by queue", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:000000000000:src"]}`}, false, true, "", ""},
		{"redrive allow by queue, none named", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"byQueue"}`}, false, true, "Invalid value for the parameter RedriveAllowPolicy.", "InvalidAttributeValue"},
		{"policy not JSON", map[string]string{"Policy": "allow all"}, false, true, "Invalid value for the parameter Policy.", "InvalidAttributeValue"},
		// The first refusal in name order, whatever order the map has.
		{"two bad", map[string]string{"VisibilityTimeout": "-1", "DelaySeconds": "901"}, false, true, "Invalid value for the parameter DelaySeconds.", "InvalidAttributeValue"},
	} {
		err := checkAttributes(tc.attrs, tc.fifo, tc.creating)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var ae *Error
		if !errors.As(err, &ae) || ae.Message != tc.want || ae.QueryCode != tc.code {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.code, tc.want)
		}
	}
}

func TestDefaultsAndDescribe(t *testing.T) {
	std := withDefaults(map[string]string{"VisibilityTimeout": "60"}, false)
	want := map[string]string{
		"DelaySeconds": "0", "MaximumMessageSize": "1048576", "MessageRetentionPeriod": "345600",
		"ReceiveMessageWaitTimeSeconds": "0", "VisibilityTimeout": "60", "SqsManagedSseEnabled": "true",
	}
	if !maps.Equal(std, want) {
		t.Fatalf("standard queue defaults: %v, want %v", std, want)
	}
	fifo := withDefaults(nil, true)
	if fifo["FifoQueue"] != "true" || fifo["DeduplicationScope"] != "queue" || fifo["FifoThroughputLimit"] != "perQueue" || fifo["ContentBasedDeduplication"] != "false" {
		t.Fatalf("FIFO queue defaults: %v", fifo)
	}

	computed := map[string]string{"ApproximateNumberOfMessages": "3", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q"}
	got, err := describeAttributes([]string{"All"}, std, computed)
	if err != nil || len(got) != len(std)+len(computed) || got["ApproximateNumberOfMessages"] != "3" {
		t.Fatalf("All: %v %v", got, err)
	}
	// A known attribute the queue has no value for is left out, as SQS
	// leaves out RedrivePolicy on a queue without one.
	got, err = describeAttributes([]string{"VisibilityTimeout", "RedrivePolicy"}, std, computed)
	if err != nil || !maps.Equal(got, map[string]string{"VisibilityTimeout": "60"}) {
		t.Fatalf("two names: %v %v", got, err)
	}
	if _, err := describeAttributes([]string{"Visibility"}, std, computed); !errors.Is(err, ErrInvalidAttributeName) {
		t.Fatalf("unknown name: %v", err)
	}
}
