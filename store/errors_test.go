package store

import (
	"errors"
	"fmt"
	"testing"
)

func TestUnsupportedErrorMatches(t *testing.T) {
	err := fmt.Errorf("split: %w", &UnsupportedError{Backend: "kafka", Op: "SplitShard"})
	for _, target := range []error{ErrUnsupported, errors.ErrUnsupported} {
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(%v, %v) = false", err, target)
		}
	}
	if errors.Is(ErrStreamNotFound, ErrUnsupported) {
		t.Error("an unrelated store error matches ErrUnsupported")
	}
	if got, want := err.Error(), "split: SplitShard is not supported by the kafka backend"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}
