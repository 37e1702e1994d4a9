package transform

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/streambridge/bridge/connect"
)

// ---- RegexRouter ----

var regexRouterDef = connect.ConfigDef{
	{Name: "regex", Type: connect.ConfigString, Required: true, Importance: connect.High, Doc: "Regular expression to use for matching.",
		Check: checkRegex},
	{Name: "replacement", Type: connect.ConfigString, Required: true, Importance: connect.High, Doc: "Replacement string."},
}

// checkRegex is Kafka's NonEmptyString and RegexValidator together.
func checkRegex(v any) error {
	if err := connect.NonEmpty(v); err != nil {
		return err
	}
	_, err := compileJavaRegex(v.(string))
	return err
}

// compileJavaRegex compiles a Java regular expression for Matcher.matches:
// the whole input must match. Go's RE2 syntax covers the usual Java
// patterns; look-arounds and back-references are refused.
func compileJavaRegex(p string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + p + `)$`)
}

// javaReplacement turns a Java replacement string ($1, ${name}, \$) into a
// Go template for Regexp.Expand, where "$1x" would otherwise name group "1x".
func javaReplacement(repl string) string {
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '\\' && i+1 < len(repl):
			i++
			if repl[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(repl[i])
			}
		case c == '$' && i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9':
			j := i + 1
			for j < len(repl) && repl[j] >= '0' && repl[j] <= '9' {
				j++
			}
			b.WriteString("${" + repl[i+1:j] + "}")
			i = j - 1
		case c == '$' && i+1 < len(repl) && repl[i+1] == '{':
			end := strings.IndexByte(repl[i:], '}')
			if end < 0 {
				b.WriteString("$$")
				continue
			}
			b.WriteString(repl[i : i+end+1])
			i += end
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// regexRouter is org.apache.kafka.connect.transforms.RegexRouter: a topic
// matching regex is renamed to the replacement ($1 … its groups).
type regexRouter struct {
	re       *regexp.Regexp
	template string
}

func (t *regexRouter) Configure(cfg connect.Config) error {
	vals, err := parseConfig(regexRouterDef, cfg)
	if err != nil {
		return err
	}
	t.re, _ = compileJavaRegex(vals.String("regex"))
	t.template = javaReplacement(vals.String("replacement"))
	return nil
}

func (t *regexRouter) Apply(r *connect.Record) (*connect.Record, error) {
	m := t.re.FindStringSubmatchIndex(r.Topic)
	if m == nil {
		return r, nil
	}
	r.Topic = string(t.re.ExpandString(nil, t.template, r.Topic, m))
	return r, nil
}

// ---- TimestampRouter ----

var timestampRouterDef = connect.ConfigDef{
	{Name: "topic.format", Type: connect.ConfigString, Default: "${topic}-${timestamp}", Importance: connect.High,
		Doc: "Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as placeholders for the topic and timestamp, respectively."},
	{Name: "timestamp.format", Type: connect.ConfigString, Default: "yyyyMMdd", Importance: connect.High,
		Doc:   "Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>.",
		Check: func(v any) error { _, err := compileDateFormat(v.(string)); return err }},
}

// timestampRouter is org.apache.kafka.connect.transforms.TimestampRouter:
// the topic becomes topic.format with the topic and the record's timestamp
// (UTC) in it.
type timestampRouter struct {
	topicFormat string
	format      dateFormat
}

func (t *timestampRouter) Configure(cfg connect.Config) error {
	vals, err := parseConfig(timestampRouterDef, cfg)
	if err != nil {
		return err
	}
	t.topicFormat = vals.String("topic.format")
	t.format, _ = compileDateFormat(vals.String("timestamp.format"))
	return nil
}

func (t *timestampRouter) Apply(r *connect.Record) (*connect.Record, error) {
	if r.Timestamp.IsZero() {
		return nil, fmt.Errorf("Timestamp missing on record: %s", recordString(r))
	}
	ts := t.format.format(r.Timestamp)
	r.Topic = strings.ReplaceAll(strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic), "${timestamp}", ts)
	return r, nil
}
