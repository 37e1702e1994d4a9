package sqs

import (
	"errors"
	"fmt"
	"testing"
)

func TestError(t *testing.T) {
	err := fmt.Errorf("send: %w", newError(ErrInvalidMessageContents, "bad %s", "body"))
	if !errors.Is(err, ErrInvalidMessageContents) || errors.Is(err, ErrInvalidParameterValue) {
		t.Fatalf("errors.Is matches the wrong kinds for %v", err)
	}
	if got, want := err.Error(), "send: InvalidMessageContents: bad body"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
