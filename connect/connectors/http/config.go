package http

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/internal/buildinfo"
)

// Class is HttpSinkConnector's class name.
const Class = "io.streambridge.connect.http.HttpSinkConnector"

// The settings.
const (
	URLConfig           = "http.url"
	MethodConfig        = "http.method"
	HeadersConfig       = "http.headers"
	TimeoutConfig       = "http.timeout.ms"
	AuthTypeConfig      = "http.auth.type"
	AuthUserConfig      = "http.auth.user"
	AuthPasswordConfig  = "http.auth.password"
	AuthTokenConfig     = "http.auth.token"
	BatchMaxSizeConfig  = "batch.max.size"
	BatchMaxBytesConfig = "batch.max.bytes"
	BatchFormatConfig   = "batch.format"
	RetryBackoffConfig  = "retry.backoff.ms"
	MaxRetriesConfig    = "max.retries"
)

// The batch formats.
const (
	FormatJSONArray = "json_array"
	FormatNDJSON    = "ndjson"
	FormatSingle    = "single"
)

// The authentication types.
const (
	AuthNone   = "none"
	AuthBasic  = "basic"
	AuthBearer = "bearer"
)

const groupHTTP, groupBatch, groupRetry = "HTTP", "Batching", "Retries"

var def = connect.ConfigDef{
	{Name: URLConfig, Type: connect.ConfigString, Required: true, Importance: connect.High, Group: groupHTTP, Check: checkURL,
		Doc: "The endpoint records are sent to: an http or https URL (a Lambda function URL, an API Gateway route, any HTTP service)."},
	{Name: MethodConfig, Type: connect.ConfigString, Default: "POST", Importance: connect.Medium, Group: groupHTTP,
		Recommended: []string{"POST", "PUT", "PATCH"},
		Doc:         "The HTTP method of each request."},
	{Name: HeadersConfig, Type: connect.ConfigString, Default: "", Importance: connect.Medium, Group: groupHTTP, Check: checkHeaders,
		Doc: "Headers added to every request, as Name:Value pairs separated by |, e.g. X-Api-Key:abc|X-Source:bridge. A Content-Type here replaces the format's."},
	{Name: TimeoutConfig, Type: connect.ConfigLong, Default: "30000", Importance: connect.Medium, Group: groupHTTP, Check: connect.AtLeast(1),
		Doc: "How long one request may take, connection to the end of the answer, in milliseconds; a request that takes longer is retried."},
	{Name: AuthTypeConfig, Type: connect.ConfigString, Default: AuthNone, Importance: connect.Medium, Group: groupHTTP,
		Recommended: []string{AuthNone, AuthBasic, AuthBearer},
		Doc:         "none, basic (http.auth.user and http.auth.password) or bearer (Authorization: Bearer http.auth.token)."},
	{Name: AuthUserConfig, Type: connect.ConfigString, Default: "", Importance: connect.Medium, Group: groupHTTP,
		Doc: "The user name of basic authentication."},
	{Name: AuthPasswordConfig, Type: connect.ConfigPassword, Default: "", Importance: connect.Medium, Group: groupHTTP,
		Doc: "The password of basic authentication."},
	{Name: AuthTokenConfig, Type: connect.ConfigPassword, Default: "", Importance: connect.Medium, Group: groupHTTP,
		Doc: "The token of bearer authentication."},
	{Name: BatchMaxSizeConfig, Type: connect.ConfigInt, Default: "500", Importance: connect.Medium, Group: groupBatch, Check: connect.AtLeast(1),
		Doc: "The most records one request carries (always 1 with batch.format=single)."},
	{Name: BatchMaxBytesConfig, Type: connect.ConfigInt, Default: "5242880", Importance: connect.Medium, Group: groupBatch, Check: connect.AtLeast(1),
		Doc: "The largest request body, in bytes (Lambda's synchronous payload limit is 6 MB). A single record larger than this is sent alone."},
	{Name: BatchFormatConfig, Type: connect.ConfigString, Default: FormatJSONArray, Importance: connect.Medium, Group: groupBatch,
		Recommended: []string{FormatJSONArray, FormatNDJSON, FormatSingle},
		Doc:         "json_array: a JSON array of the values; ndjson: one JSON value per line; single: one record per request, its value as the body."},
	{Name: RetryBackoffConfig, Type: connect.ConfigLong, Default: "1000", Importance: connect.Low, Group: groupRetry, Check: connect.AtLeast(0),
		Doc: "The wait before the first retry, in milliseconds; it doubles at each retry, up to 60 s. A Retry-After header on a 429 or 5xx answer replaces it."},
	{Name: MaxRetriesConfig, Type: connect.ConfigInt, Default: "10", Importance: connect.Low, Group: groupRetry, Check: connect.AtLeast(0),
		Doc: "How many times a request refused with 5xx or 429, or failed by the connection or the timeout, is retried before the task fails."},
}

func checkURL(v any) error {
	u, err := url.Parse(v.(string))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("not an http or https URL")
	}
	return nil
}

func checkHeaders(v any) error {
	_, err := parseHeaders(v.(string))
	return err
}

// header is one configured request header.
type header struct{ name, value string }

// parseHeaders reads http.headers: Name:Value pairs separated by |, blanks
// around names and values dropped, empty pairs ignored.
func parseHeaders(s string) ([]header, error) {
	var out []header
	for _, pair := range strings.Split(s, "|") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		name, value, ok := strings.Cut(pair, ":")
		name = strings.TrimSpace(name)
		if !ok || !validToken(name) {
			return nil, fmt.Errorf("header %q is not Name:Value", pair)
		}
		value = strings.TrimSpace(value)
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, fmt.Errorf("header %s has a line break in its value", name)
		}
		out = append(out, header{name, value})
	}
	return out, nil
}

// validToken reports whether s is an HTTP token (RFC 9110), the only form a
// header name may take.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// Plugins returns the HTTP sink.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{
		Class: Class, Type: connect.PluginSink, Version: buildinfo.Read().Version, Config: def,
		Doc:     "Sends records to an HTTP endpoint (a Lambda-style function) in batches, with retries and per-record error reporting.",
		NewSink: func() connect.SinkConnector { return &connector{} },
	}}
}

type connector struct{ cfg connect.Config }

// Validate checks the rules across settings: the credentials each
// authentication type needs.
func (c *connector) Validate(cfg connect.Config) map[string][]string {
	v, errs := def.Parse(cfg)
	if errs != nil {
		if _, bad := errs[AuthTypeConfig]; bad {
			return nil // the type itself is wrong: nothing to check across
		}
	}
	var out map[string][]string
	need := func(name, why string) {
		if cfg[name] == "" {
			if out == nil {
				out = map[string][]string{}
			}
			out[name] = append(out[name], fmt.Sprintf("Missing required configuration %q which is required when %s.", name, why))
		}
	}
	switch strings.ToLower(v.String(AuthTypeConfig)) {
	case AuthBasic:
		need(AuthUserConfig, "http.auth.type is basic")
	case AuthBearer:
		need(AuthTokenConfig, "http.auth.type is bearer")
	}
	return out
}

func (c *connector) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	if _, err := parseConfig(cfg); err != nil {
		return err
	}
	c.cfg = cfg
	return nil
}

// TaskConfigs gives every task the same configuration: each sends the
// records of the partitions it is assigned.
func (c *connector) TaskConfigs(n int) ([]connect.Config, error) {
	out := make([]connect.Config, n)
	for i := range out {
		out[i] = c.cfg
	}
	return out, nil
}

func (c *connector) Stop() error               { return nil }
func (c *connector) NewTask() connect.SinkTask { return &task{} }
