package sqs

import "github.com/streambridge/bridge/connect"

// ExactlyOnceSupport: no. Messages are deleted after the offsets commit; a
// task that dies between the commit and DeleteMessageBatch gets them again
// once their visibility timeout ends, so a transactional worker can still
// write a message twice.
func (c *SourceConnector) ExactlyOnceSupport(connect.Config) (connect.ExactlyOnce, error) {
	return connect.ExactlyOnceUnsupported, nil
}
