//go:build !unix

package embedded

import (
	"errors"
	"os"
)

// dupFile is unix only: elsewhere objects are copied, not sent by the
// kernel.
func dupFile(uintptr) (*os.File, error) { return nil, errors.New("no descriptor duplication here") }
