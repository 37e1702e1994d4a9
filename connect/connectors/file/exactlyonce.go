package file

import (
	"strings"

	"github.com/streambridge/bridge/connect"
)

// ExactlyOnceSupport is Kafka's FileStreamSourceConnector answer: a named
// file (appended to only) has exact positions; stdin has none.
func (c *streamSourceConnector) ExactlyOnceSupport(cfg connect.Config) (connect.ExactlyOnce, error) {
	if strings.TrimSpace(cfg[FileConfig]) != "" {
		return connect.ExactlyOnceSupported, nil
	}
	return connect.ExactlyOnceUnsupported, nil
}

// ExactlyOnceSupport: a tailed file's offsets (file identity and byte
// position, rotations followed) say exactly where to resume.
func (c *tailConnector) ExactlyOnceSupport(connect.Config) (connect.ExactlyOnce, error) {
	return connect.ExactlyOnceSupported, nil
}
