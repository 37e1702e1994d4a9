package connect

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ConfigType is a setting's type, as Kafka's ConfigDef.Type names it in the
// validate answer.
type ConfigType string

// The setting types.
const (
	ConfigString   ConfigType = "STRING"
	ConfigInt      ConfigType = "INT"
	ConfigLong     ConfigType = "LONG"
	ConfigDouble   ConfigType = "DOUBLE"
	ConfigBoolean  ConfigType = "BOOLEAN"
	ConfigList     ConfigType = "LIST"
	ConfigClass    ConfigType = "CLASS"
	ConfigPassword ConfigType = "PASSWORD"
)

// Importance is a setting's importance, as Kafka names it.
type Importance string

// The importances.
const (
	High   Importance = "HIGH"
	Medium Importance = "MEDIUM"
	Low    Importance = "LOW"
)

// ConfigKey describes one setting.
type ConfigKey struct {
	Name string
	Type ConfigType
	// Default is the value when the setting is absent, in its string form.
	// A Required setting has none.
	Default    string
	Required   bool
	Importance Importance
	Doc        string
	Group      string
	// DisplayName defaults to Name.
	DisplayName string
	// Recommended lists the accepted values of an enumeration (the validate
	// answer's recommended_values); when set, any other value is refused.
	Recommended []string
	// CaseInsensitive accepts Recommended values in any case (Kafka's
	// CaseInsensitiveValidString).
	CaseInsensitive bool
	// Check refuses a value that has the right type but is not acceptable;
	// its message follows "Invalid value V for configuration N: ".
	Check func(v any) error
}

// ConfigDef is an ordered list of settings.
type ConfigDef []ConfigKey

// Key returns the setting called name.
func (d ConfigDef) Key(name string) (ConfigKey, bool) {
	for _, k := range d {
		if k.Name == name {
			return k, true
		}
	}
	return ConfigKey{}, false
}

// Validate checks cfg against every setting of d and returns the errors per
// setting name, worded as Kafka words them; settings cfg has that d does not
// describe are left alone.
func (d ConfigDef) Validate(cfg Config) map[string][]string {
	_, errs := d.Parse(cfg)
	return errs
}

// Parse checks cfg and returns the typed values of every setting of d
// (defaults filled in), and the errors per setting name. Values of settings
// with errors are left out.
func (d ConfigDef) Parse(cfg Config) (Values, map[string][]string) {
	vals := Values{m: make(map[string]any, len(d))}
	var errs map[string][]string
	fail := func(name, msg string) {
		if errs == nil {
			errs = make(map[string][]string)
		}
		errs[name] = append(errs[name], msg)
	}
	for _, k := range d {
		raw, set := cfg[k.Name]
		if !set {
			if k.Required {
				fail(k.Name, fmt.Sprintf("Missing required configuration %q which has no default value.", k.Name))
				continue
			}
			raw = k.Default
		}
		v, err := parseValue(k.Type, raw)
		if err != nil {
			fail(k.Name, fmt.Sprintf("Invalid value %s for configuration %s: %v", raw, k.Name, err))
			continue
		}
		if len(k.Recommended) > 0 && k.Type != ConfigList {
			switch {
			case k.CaseInsensitive && !slices.ContainsFunc(k.Recommended, func(r string) bool { return strings.EqualFold(r, raw) }):
				fail(k.Name, fmt.Sprintf("Invalid value %s for configuration %s: String must be one of (case insensitive): %s", raw, k.Name, strings.ToUpper(strings.Join(k.Recommended, ", "))))
				continue
			case !k.CaseInsensitive && !contains(k.Recommended, raw):
				fail(k.Name, fmt.Sprintf("Invalid value %s for configuration %s: String must be one of: %s", raw, k.Name, strings.Join(k.Recommended, ", ")))
				continue
			}
		}
		if k.Check != nil {
			if err := k.Check(v); err != nil {
				fail(k.Name, fmt.Sprintf("Invalid value %s for configuration %s: %v", raw, k.Name, err))
				continue
			}
		}
		vals.m[k.Name] = v
	}
	return vals, errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// parseValue parses raw as Kafka's ConfigDef.parseType does: trimmed numbers
// and booleans, comma-separated lists with blanks dropped.
func parseValue(t ConfigType, raw string) (any, error) {
	trimmed := strings.TrimSpace(raw)
	switch t {
	case ConfigInt:
		n, err := strconv.ParseInt(trimmed, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("Not a number of type INT")
		}
		return int(n), nil
	case ConfigLong:
		n, err := strconv.ParseInt(trimmed, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("Not a number of type LONG")
		}
		return n, nil
	case ConfigDouble:
		f, err := strconv.ParseFloat(trimmed, 64)
		if err != nil {
			return nil, fmt.Errorf("Not a number of type DOUBLE")
		}
		return f, nil
	case ConfigBoolean:
		switch strings.ToLower(trimmed) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("Expected value to be either true or false")
	case ConfigList:
		var out []string
		for _, part := range strings.Split(raw, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
		return out, nil
	case ConfigClass:
		return trimmed, nil
	default: // STRING, PASSWORD
		return raw, nil
	}
}

// Values are a configuration parsed by ConfigDef.Parse. Asking for a setting
// the definition does not have, or with the wrong type, panics: that is a
// mistake in the plugin's code, not in a user's configuration.
type Values struct{ m map[string]any }

func (v Values) get(name string) any {
	x, ok := v.m[name]
	if !ok {
		panic(fmt.Sprintf("connect: setting %q not parsed", name))
	}
	return x
}

// String returns a STRING, PASSWORD or CLASS setting.
func (v Values) String(name string) string { return v.get(name).(string) }

// Int returns an INT setting.
func (v Values) Int(name string) int { return v.get(name).(int) }

// Long returns a LONG setting.
func (v Values) Long(name string) int64 { return v.get(name).(int64) }

// Double returns a DOUBLE setting.
func (v Values) Double(name string) float64 { return v.get(name).(float64) }

// Bool returns a BOOLEAN setting.
func (v Values) Bool(name string) bool { return v.get(name).(bool) }

// List returns a LIST setting.
func (v Values) List(name string) []string { return v.get(name).([]string) }

// Millis returns a LONG or INT setting that counts milliseconds as a duration.
func (v Values) Millis(name string) time.Duration {
	switch x := v.get(name).(type) {
	case int:
		return time.Duration(x) * time.Millisecond
	case int64:
		return time.Duration(x) * time.Millisecond
	}
	panic(fmt.Sprintf("connect: setting %q is not a number", name))
}

// AtLeast is a Check refusing numbers below min ("Value must be at least 1").
func AtLeast(min float64) func(any) error {
	return func(v any) error {
		if toFloat(v) < min {
			return fmt.Errorf("Value must be at least %s", strconv.FormatFloat(min, 'f', -1, 64))
		}
		return nil
	}
}

// Between is a Check refusing numbers outside [min, max].
func Between(min, max float64) func(any) error {
	return func(v any) error {
		switch f := toFloat(v); {
		case f < min:
			return fmt.Errorf("Value must be at least %s", strconv.FormatFloat(min, 'f', -1, 64))
		case f > max:
			return fmt.Errorf("Value must be no more than %s", strconv.FormatFloat(max, 'f', -1, 64))
		}
		return nil
	}
}

// NonEmpty is a Check refusing an empty string or list.
func NonEmpty(v any) error {
	switch x := v.(type) {
	case string:
		if x == "" {
			return fmt.Errorf("String must be non-empty")
		}
	case []string:
		if len(x) == 0 {
			return fmt.Errorf("Empty list")
		}
	}
	return nil
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}
