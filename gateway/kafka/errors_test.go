package kafka

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streambridge/bridge/store"
)

func TestErrorCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want *kerr.Error
	}{
		{store.ErrStreamNotFound, kerr.UnknownTopicOrPartition},
		{fmt.Errorf("grow: %w", &store.UnsupportedError{Backend: "kinesis", Op: "TrimBefore"}), kerr.PolicyViolation},
		{refuse(kerr.InvalidProducerEpoch, "epoch %d is old", 3), kerr.InvalidProducerEpoch},
		{fmt.Errorf("wrapped: %w", refuse(kerr.TopicAlreadyExists, "taken")), kerr.TopicAlreadyExists},
		{store.ErrClosed, kerr.NotLeaderForPartition},
	} {
		if got := errorCode(tc.err); got != tc.want.Code {
			t.Errorf("errorCode(%v) = %d, want %d (%s)", tc.err, got, tc.want.Code, tc.want.Message)
		}
	}
	if errorCode(nil) != 0 || errorMessage(nil) != nil {
		t.Error("nil error: want code 0 and no message")
	}
	// A refusal's message is its own text, without the code's name.
	if m := errorMessage(refuse(kerr.InvalidRequest, "bad %s", "thing")); m == nil || *m != "bad thing" {
		t.Errorf("errorMessage(refusal) = %v", m)
	}
}
