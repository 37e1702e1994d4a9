package main

import (
	"log/slog"
	"strings"

	"github.com/streambridge/bridge/connect"
)

// warnStandaloneExactlyOnce says that a standalone worker ignores
// exactly.once.source.support, as Kafka's standalone worker does (its
// StandaloneConfig has no such key and logs it as unknown): exactly-once
// source support needs distributed mode.
func warnStandaloneExactlyOnce(log *slog.Logger, props connect.Config) {
	if v := strings.TrimSpace(props["exactly.once.source.support"]); v != "" && !strings.EqualFold(v, "disabled") {
		log.Warn("connect: exactly.once.source.support is ignored by a standalone worker; exactly-once source support needs distributed mode (group.id)", "value", v)
	}
}
