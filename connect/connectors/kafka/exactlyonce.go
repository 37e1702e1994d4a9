package kafka

import "github.com/streambridge/bridge/connect"

// ExactlyOnceSupport: no, by MirrorSourceConnector's rule: the source
// cluster is read read_uncommitted, so records of transactions the source
// later aborts are copied.
func (c *sourceConnector) ExactlyOnceSupport(connect.Config) (connect.ExactlyOnce, error) {
	return connect.ExactlyOnceUnsupported, nil
}
