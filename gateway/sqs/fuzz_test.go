package sqs

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzMessageAttributes decodes a SendMessage request as SQS JSON 1.0
// sends it, validates it and computes its size and MD5s: none of it may
// panic, a refusal is always an *Error, and an accepted message has
// digests of the right shape.
func FuzzMessageAttributes(f *testing.F) {
	seeds := []string{
		`{"MessageBody":"hello"}`,
		`{"MessageBody":"x","MessageAttributes":{"a":{"DataType":"String","StringValue":"v"}}}`,
		`{"MessageBody":"x","MessageAttributes":{"n":{"DataType":"Number.int","StringValue":"-1.5e10"}}}`,
		`{"MessageBody":"x","MessageAttributes":{"b":{"DataType":"Binary","BinaryValue":"AP8="}}}`,
		`{"MessageBody":"x","MessageAttributes":{"l":{"DataType":"String","StringListValues":["a"]}}}`,
		`{"MessageBody":"x","MessageAttributes":{"AWS.x":{"DataType":"String","StringValue":"v"},"a..b":{"DataType":"Bogus"}}}`,
		`{"MessageBody":"\u0000","MessageSystemAttributes":{"AWSTraceHeader":{"DataType":"String","StringValue":"Root=1"}}}`,
		`{"MessageBody":"x","MessageAttributes":{"n":{"DataType":"Number","StringValue":"1e999999999999"}}}`,
		`{"MessageBody":"\ud83d\ude00","MessageAttributes":{"s":{"DataType":"String","StringValue":"\ufffe"}}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in sendMessageRequest
		if json.Unmarshal(data, &in) != nil {
			return
		}
		err := ValidateMessage(in.MessageBody, in.MessageAttributes, in.MessageSystemAttributes, DefaultMaximumMessageSize)
		// Digests are computed whatever the verdict: a caller must not
		// crash on attributes it has not validated.
		attrs := MD5OfMessageAttributes(in.MessageAttributes)
		sys := MD5OfMessageSystemAttributes(in.MessageSystemAttributes)
		_ = MD5OfBody(in.MessageBody)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Type == "" || e.QueryCode == "" || e.Message == "" {
				t.Fatalf("refusal %v (%T) is not a complete *Error", err, err)
			}
			return
		}
		if MessageSize(in.MessageBody, in.MessageAttributes) > DefaultMaximumMessageSize {
			t.Fatalf("accepted a message over the maximum size")
		}
		if (len(in.MessageAttributes) == 0) != (attrs == "") || (len(in.MessageSystemAttributes) == 0) != (sys == "") {
			t.Fatalf("digests %q %q for %d and %d attributes", attrs, sys, len(in.MessageAttributes), len(in.MessageSystemAttributes))
		}
		if attrs != "" && len(attrs) != 32 || sys != "" && len(sys) != 32 {
			t.Fatalf("digests %q %q are not hex MD5s", attrs, sys)
		}
	})
}
