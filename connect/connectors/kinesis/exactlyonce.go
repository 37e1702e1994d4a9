package kinesis

import "github.com/streambridge/bridge/connect"

// ExactlyOnceSupport: a shard's offset is the sequence number of the last
// record written, from which a restart resumes (AFTER_SEQUENCE_NUMBER)
// without a gap or a repeat, so with a transactional worker every record
// lands once.
func (c *SourceConnector) ExactlyOnceSupport(connect.Config) (connect.ExactlyOnce, error) {
	return connect.ExactlyOnceSupported, nil
}
