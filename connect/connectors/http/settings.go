package http

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/streambridge/bridge/connect"
)

// settings are a task's parsed configuration.
type settings struct {
	url        string
	method     string
	headers    []header
	timeout    time.Duration
	authType   string
	user, pass string
	token      string
	maxSize    int
	maxBytes   int
	format     string
	backoff    time.Duration
	maxRetries int
}

// maxBackoff caps the doubling backoff (Kafka Connect's
// errors.retry.delay.max.ms default).
const maxBackoff = 60 * time.Second

func parseConfig(cfg connect.Config) (settings, error) {
	v, errs := def.Parse(cfg)
	if errs == nil {
		errs = (&connector{}).Validate(cfg)
	}
	if errs != nil {
		var msgs []string
		for _, list := range errs {
			msgs = append(msgs, list...)
		}
		sort.Strings(msgs)
		return settings{}, fmt.Errorf("invalid configuration: %s", strings.Join(msgs, "; "))
	}
	headers, _ := parseHeaders(v.String(HeadersConfig)) // checked by Parse
	s := settings{
		url:        v.String(URLConfig),
		method:     strings.ToUpper(v.String(MethodConfig)),
		headers:    headers,
		timeout:    v.Millis(TimeoutConfig),
		authType:   strings.ToLower(v.String(AuthTypeConfig)),
		user:       v.String(AuthUserConfig),
		pass:       v.String(AuthPasswordConfig),
		token:      v.String(AuthTokenConfig),
		maxSize:    v.Int(BatchMaxSizeConfig),
		maxBytes:   v.Int(BatchMaxBytesConfig),
		format:     strings.ToLower(v.String(BatchFormatConfig)),
		backoff:    v.Millis(RetryBackoffConfig),
		maxRetries: v.Int(MaxRetriesConfig),
	}
	if s.format == FormatSingle {
		s.maxSize = 1
	}
	return s, nil
}
