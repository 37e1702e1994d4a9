package herder

// Validation of the exactly-once settings of a source connector as Kafka's
// DistributedHerder does it (KIP-618): exactly.once.support=required needs
// the worker's exactly.once.source.support=enabled and a connector that
// answers ExactlyOnceSupported; transaction.boundary=connector needs a
// connector that can define its own transactions. A standalone herder, like
// Kafka's StandaloneHerder, makes neither check: standalone mode has no
// exactly-once source support and ignores these settings.

import (
	"strings"

	"github.com/streambridge/bridge/connect"
)

// ExactlyOnceSourceSupport is the worker setting exactly.once.source.support.
type ExactlyOnceSourceSupport string

// Its values (DistributedConfig.ExactlyOnceSourceSupport in Kafka).
const (
	ExactlyOnceDisabled  ExactlyOnceSourceSupport = "disabled"
	ExactlyOncePreparing ExactlyOnceSourceSupport = "preparing"
	ExactlyOnceEnabled   ExactlyOnceSourceSupport = "enabled"
)

// ParseExactlyOnceSourceSupport reads the worker setting case-insensitively,
// with Kafka's error for another value; empty is disabled, the default.
func ParseExactlyOnceSourceSupport(s string) (ExactlyOnceSourceSupport, error) {
	switch v := ExactlyOnceSourceSupport(strings.ToLower(strings.TrimSpace(s))); v {
	case "":
		return ExactlyOnceDisabled, nil
	case ExactlyOnceDisabled, ExactlyOncePreparing, ExactlyOnceEnabled:
		return v, nil
	}
	return "", badRequest("Invalid value %s for configuration exactly.once.source.support: String must be one of (case insensitive): DISABLED, ENABLED, PREPARING", s)
}

// exactlyOnceRules adds DistributedHerder's validateSourceConnectorExactlyOnceSupport
// and validateSourceConnectorTransactionBoundary errors; enabled is whether
// this worker has exactly-once source support enabled.
func (v *validation) exactlyOnceRules(conn connect.Connector, enabled bool) {
	if len(v.errs[connect.ExactlyOnceSupport]) == 0 && strings.EqualFold(strings.TrimSpace(v.cfg[connect.ExactlyOnceSupport]), "required") {
		if !enabled {
			v.fail(connect.ExactlyOnceSupport, "This worker does not have exactly-once source support enabled.")
		}
		var support connect.ExactlyOnce
		var err error
		if s, ok := conn.(connect.ExactlyOnceSupporter); ok {
			support, err = s.ExactlyOnceSupport(v.cfg)
		}
		switch {
		case err != nil:
			v.fail(connect.ExactlyOnceSupport, "%s", unexpectedValidationError(err))
		case support == connect.ExactlyOnceUnknown:
			v.fail(connect.ExactlyOnceSupport, "The connector does not implement the API required for preflight validation of exactly-once source support. Please consult the documentation for the connector to determine whether it supports exactly-once semantics, and then consider reconfiguring the connector to use the value \"requested\" for this property (which will disable this preflight check and allow the connector to be created).")
		case support != connect.ExactlyOnceSupported:
			v.fail(connect.ExactlyOnceSupport, "The connector does not support exactly-once semantics with the provided configuration.")
		}
	}
	if len(v.errs[connect.TransactionBoundary]) == 0 && strings.EqualFold(strings.TrimSpace(v.cfg[connect.TransactionBoundary]), "connector") {
		bounds := connect.TransactionBoundariesUnsupported // Java's default
		var err error
		if b, ok := conn.(connect.TransactionBoundarier); ok {
			bounds, err = b.CanDefineTransactionBoundaries(v.cfg)
		}
		switch {
		case err != nil:
			v.fail(connect.TransactionBoundary, "%s", unexpectedValidationError(err))
		case bounds == connect.TransactionBoundariesUnknown:
			v.fail(connect.TransactionBoundary, "This connector has returned a null value from its canDefineTransactionBoundaries method, which is not permitted. The connector will be treated as if it cannot define its own transaction boundaries, and cannot be configured with 'transaction.boundary' set to 'connector'.")
		case bounds != connect.TransactionBoundariesSupported:
			v.fail(connect.TransactionBoundary, "The connector does not support connector-defined transaction boundaries with the given configuration. Please reconfigure it to use a different transaction boundary definition.")
		}
	}
}

// exactlyOnceValues are the checks of SourceConnectorConfig's definitions
// that CommonDef leaves out: transaction.boundary.interval.ms, when given,
// is at least 0 (Kafka's default is null, CommonDef's -1 stands for it),
// and offsets.storage.topic, when given, is not blank.
func (v *validation) exactlyOnceValues() {
	if raw, ok := v.cfg[connect.TransactionBoundaryInterval]; ok && len(v.errs[connect.TransactionBoundaryInterval]) == 0 {
		if strings.HasPrefix(strings.TrimSpace(raw), "-") {
			v.fail(connect.TransactionBoundaryInterval, "Invalid value %s for configuration %s: Value must be at least 0", raw, connect.TransactionBoundaryInterval)
		}
	}
	if raw, ok := v.cfg[connect.OffsetsStorageTopic]; ok && strings.TrimSpace(raw) == "" {
		v.fail(connect.OffsetsStorageTopic, "Invalid value %s for configuration %s: String must be non-empty", raw, connect.OffsetsStorageTopic)
	}
}

// unexpectedValidationError is Kafka's wording of an exception thrown by a
// connector's preflight check.
func unexpectedValidationError(err error) string {
	if msg := strings.TrimSpace(err.Error()); msg != "" {
		return "An unexpected error occurred during validation: " + msg
	}
	return "An unexpected error occurred during validation; please see the worker logs for more details."
}
