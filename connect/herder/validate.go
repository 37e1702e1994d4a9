package herder

// Validation of a connector configuration, answered in the shape of Kafka's
// PUT /connector-plugins/{plugin}/config/validate (ConfigInfos): the common
// settings for the connector's type, each transform's and predicate's
// settings under their aliases, the plugin's own settings, and the rules
// across fields (sink topics, the dead letter queue, converters and
// transforms that resolve and accept their settings, the connector's own
// Validate).

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/streambridge/bridge/connect"
)

// ConfigInfos is the validate answer.
type ConfigInfos struct {
	Name       string       `json:"name"`
	ErrorCount int          `json:"error_count"`
	Groups     []string     `json:"groups"`
	Configs    []ConfigInfo `json:"configs"`
}

// ConfigInfo is one setting's definition and value.
type ConfigInfo struct {
	Definition ConfigKeyInfo   `json:"definition"`
	Value      ConfigValueInfo `json:"value"`
}

// ConfigKeyInfo is a setting's definition, as Kafka's ConfigKeyInfo; it is
// also what GET /connector-plugins/{plugin}/config lists.
type ConfigKeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation string   `json:"documentation"`
	Group         *string  `json:"group"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
	Order         int      `json:"order"`
}

// ConfigValueInfo is a setting's value and its errors.
type ConfigValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

// hiddenPassword replaces a PASSWORD setting's value in answers.
const hiddenPassword = "[hidden]"

// KeyInfos describes the settings of def as GET
// /connector-plugins/{plugin}/config lists them.
func KeyInfos(def connect.ConfigDef) []ConfigKeyInfo {
	out := []ConfigKeyInfo{}
	orders := map[string]int{}
	for _, k := range def {
		out = append(out, keyInfo(k, orders))
	}
	return out
}

func keyInfo(k connect.ConfigKey, orders map[string]int) ConfigKeyInfo {
	info := ConfigKeyInfo{
		Name:          k.Name,
		Type:          string(k.Type),
		Required:      k.Required,
		DefaultValue:  defaultValue(k),
		Importance:    string(k.Importance),
		Documentation: k.Doc,
		Width:         "NONE",
		DisplayName:   k.DisplayName,
		Dependents:    []string{},
		Order:         -1,
	}
	if info.DisplayName == "" {
		info.DisplayName = k.Name
	}
	if info.Importance == "" {
		info.Importance = string(connect.Low)
	}
	if k.Group != "" {
		g := k.Group
		info.Group = &g
		orders[g]++
		info.Order = orders[g]
	}
	return info
}

// defaultValue is null for a required setting and for a class setting
// without default (Kafka's null defaults), the default's text otherwise.
func defaultValue(k connect.ConfigKey) *string {
	if k.Required || (k.Default == "" && k.Type == connect.ConfigClass) {
		return nil
	}
	d := k.Default
	return &d
}

// Validate checks a connector configuration and answers as Kafka's validate
// endpoint. It fails (400) only when the configuration names no connector
// class, or one this worker does not have.
func (h *Herder) Validate(ctx context.Context, cfg connect.Config) (ConfigInfos, error) {
	class := cfg[connect.ConnectorClassConfig]
	if class == "" {
		return ConfigInfos{}, badRequest("Connector config %s contains no connector type", javaMap(cfg))
	}
	p, ok := h.cfg.Registry.Lookup(class)
	if !ok || (p.Type != connect.PluginSource && p.Type != connect.PluginSink) {
		var classes []string
		for _, c := range h.cfg.Registry.Plugins(connect.PluginSource, connect.PluginSink) {
			classes = append(classes, c.Class)
		}
		return ConfigInfos{}, badRequest("Failed to find any class that implements Connector and which name matches %s, available connectors are: %s", class, strings.Join(classes, ", "))
	}
	v := &validation{reg: h.cfg.Registry, cfg: cfg, errs: map[string][]string{}}
	v.add(connect.CommonDef(p.Type), "")
	v.transforms()
	v.predicates()
	v.add(p.Config, "")
	_, errs := v.def.Parse(cfg)
	for name, msgs := range errs {
		v.errs[name] = append(v.errs[name], msgs...)
	}
	v.checkClasses()
	if p.Type == connect.PluginSink {
		v.sinkRules()
	}
	var conn connect.Connector
	if p.Type == connect.PluginSource && p.NewSource != nil {
		conn = p.NewSource()
	} else if p.Type == connect.PluginSink && p.NewSink != nil {
		conn = p.NewSink()
	}
	if cv, ok := conn.(connect.ConnectorValidator); ok {
		for name, msgs := range cv.Validate(cfg) {
			v.errs[name] = append(v.errs[name], msgs...)
		}
	}
	if p.Type == connect.PluginSource {
		v.exactlyOnceValues()
		if h.exactlyOnce != nil {
			v.exactlyOnceRules(conn, *h.exactlyOnce)
		}
	}
	return v.result(class), nil
}

// checkValid refuses a configuration with any validation error, with
// Kafka's message.
func (h *Herder) checkValid(ctx context.Context, cfg connect.Config) error {
	infos, err := h.Validate(ctx, cfg)
	if err != nil {
		return err
	}
	if infos.ErrorCount == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Connector configuration is invalid and contains the following %d error(s):", infos.ErrorCount)
	for _, c := range infos.Configs {
		for _, e := range c.Value.Errors {
			b.WriteString("\n" + e)
		}
	}
	b.WriteString("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`")
	return &Error{400, b.String()}
}

// validation gathers the definition and the errors of one configuration.
type validation struct {
	reg  *connect.Registry
	cfg  connect.Config
	def  connect.ConfigDef
	errs map[string][]string
	// listed are the aliases of transforms and predicates, read once so a
	// duplicate is reported once.
	listed map[string][]string
}

// add appends def's settings (names prefixed) unless already defined; a
// non-empty group replaces theirs.
func (v *validation) add(def connect.ConfigDef, prefix string, group ...string) {
	for _, k := range def {
		k.Name = prefix + k.Name
		if len(group) > 0 {
			k.Group = group[0]
		}
		if _, dup := v.def.Key(k.Name); !dup {
			v.def = append(v.def, k)
		}
	}
}

func (v *validation) fail(name, format string, args ...any) {
	v.errs[name] = append(v.errs[name], fmt.Sprintf(format, args...))
}

// aliases returns the aliases listed in key, and flags duplicates.
func (v *validation) aliases(key string) []string {
	if out, ok := v.listed[key]; ok {
		return out
	}
	if v.listed == nil {
		v.listed = map[string][]string{}
	}
	var out []string
	defer func() { v.listed[key] = out }()
	for _, a := range strings.Split(v.cfg[key], ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if slices.Contains(out, a) {
			v.fail(key, "Invalid value %s for configuration %s: Duplicate alias provided.", v.cfg[key], key)
			continue
		}
		out = append(out, a)
	}
	return out
}

func (v *validation) transforms() {
	predicates := v.aliases(connect.PredicatesConfig)
	for _, alias := range v.aliases(connect.TransformsConfig) {
		prefix := "transforms." + alias + "."
		group := "Transforms: " + alias
		v.add(connect.ConfigDef{
			{Name: "type", Type: connect.ConfigClass, Required: true, Importance: connect.High, DisplayName: "Transformation type for " + alias,
				Doc: "Class for the '" + alias + "' transformation."},
			{Name: "negate", Type: connect.ConfigBoolean, Default: "false", Importance: connect.Medium, DisplayName: "Negate",
				Doc: "Whether the configured predicate should be negated."},
			{Name: "predicate", Type: connect.ConfigString, Importance: connect.Medium, DisplayName: "Predicate",
				Doc: "The alias of a predicate used to determine whether to apply this transformation."},
		}, prefix, group)
		if pred := v.cfg[prefix+"predicate"]; pred != "" && !slices.Contains(predicates, pred) {
			v.fail(prefix+"predicate", "Invalid value %s for configuration %spredicate: there is no predicate with the alias %s in %s", pred, prefix, pred, connect.PredicatesConfig)
		}
		if p, ok := v.plugin(prefix+"type", connect.PluginTransformation); ok {
			v.add(p.Config, prefix, group)
			if p.NewTransform != nil && v.ownSettingsValid(p.Config, prefix) {
				if err := p.NewTransform().Configure(sub(v.cfg, prefix)); err != nil {
					v.fail(prefix+"type", "Invalid value %s for configuration %stype: %v", v.cfg[prefix+"type"], prefix, err)
				}
			}
		}
	}
}

func (v *validation) predicates() {
	for _, alias := range v.aliases(connect.PredicatesConfig) {
		prefix := "predicates." + alias + "."
		group := "Predicates: " + alias
		v.add(connect.ConfigDef{
			{Name: "type", Type: connect.ConfigClass, Required: true, Importance: connect.High, DisplayName: "Predicate type for " + alias,
				Doc: "Class for the '" + alias + "' predicate."},
		}, prefix, group)
		if p, ok := v.plugin(prefix+"type", connect.PluginPredicate); ok {
			v.add(p.Config, prefix, group)
			if p.NewPredicate != nil && v.ownSettingsValid(p.Config, prefix) {
				if err := p.NewPredicate().Configure(sub(v.cfg, prefix)); err != nil {
					v.fail(prefix+"type", "Invalid value %s for configuration %stype: %v", v.cfg[prefix+"type"], prefix, err)
				}
			}
		}
	}
}

// plugin resolves the class named by setting key to a plugin of one of the
// types; a missing setting is left to the required check.
func (v *validation) plugin(key string, types ...connect.PluginType) (connect.Plugin, bool) {
	class := strings.TrimSpace(v.cfg[key])
	if class == "" {
		return connect.Plugin{}, false
	}
	p, ok := v.reg.Lookup(class)
	if !ok || !slices.Contains(types, p.Type) {
		v.fail(key, "Invalid value %s for configuration %s: Class %s could not be found.", class, key, class)
		return connect.Plugin{}, false
	}
	return p, true
}

// ownSettingsValid reports whether a plugin's settings parse, so it is
// configured only when its own checks passed.
func (v *validation) ownSettingsValid(def connect.ConfigDef, prefix string) bool {
	_, errs := def.Parse(sub(v.cfg, prefix))
	return len(errs) == 0
}

// sub returns the settings under prefix, without it.
func sub(cfg connect.Config, prefix string) connect.Config {
	out := connect.Config{}
	for k, val := range cfg {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = val
		}
	}
	return out
}

// checkClasses resolves the converters and configures them with their
// settings (key.converter.* for key.converter).
func (v *validation) checkClasses() {
	for _, c := range []struct {
		key   string
		isKey bool
		types []connect.PluginType
	}{
		{connect.KeyConverterConfig, true, []connect.PluginType{connect.PluginConverter}},
		{connect.ValueConverterConfig, false, []connect.PluginType{connect.PluginConverter}},
		{connect.HeaderConverter, false, []connect.PluginType{connect.PluginHeaderConverter, connect.PluginConverter}},
	} {
		p, ok := v.plugin(c.key, c.types...)
		if !ok || p.NewConverter == nil {
			continue
		}
		if err := p.NewConverter().Configure(sub(v.cfg, c.key+"."), c.isKey); err != nil {
			v.fail(c.key, "Invalid value %s for configuration %s: %v", v.cfg[c.key], c.key, err)
		}
	}
}

// sinkRules are Kafka's SinkConnectorConfig.validate: exactly one of topics
// and topics.regex, a regex that compiles, and a dead letter queue topic
// that is not among the topics consumed.
func (v *validation) sinkRules() {
	var topics []string
	for _, t := range strings.Split(v.cfg[connect.TopicsConfig], ",") {
		if t = strings.TrimSpace(t); t != "" {
			topics = append(topics, t)
		}
	}
	regex := strings.TrimSpace(v.cfg[connect.TopicsRegexConfig])
	hasTopics, hasRegex := len(topics) > 0, regex != ""
	switch {
	case hasTopics && hasRegex:
		msg := connect.TopicsConfig + " and " + connect.TopicsRegexConfig + " are mutually exclusive options, but both are set."
		v.fail(connect.TopicsConfig, "%s", msg)
		v.fail(connect.TopicsRegexConfig, "%s", msg)
	case !hasTopics && !hasRegex:
		msg := "Must configure one of " + connect.TopicsConfig + " or " + connect.TopicsRegexConfig
		v.fail(connect.TopicsConfig, "%s", msg)
		v.fail(connect.TopicsRegexConfig, "%s", msg)
	}
	var re *regexp.Regexp
	if hasRegex {
		var err error
		if re, err = regexp.Compile("^(?:" + regex + ")$"); err != nil {
			v.fail(connect.TopicsRegexConfig, "Invalid value %s for configuration %s: %v", regex, connect.TopicsRegexConfig, err)
		}
	}
	dlq := strings.TrimSpace(v.cfg[connect.DLQTopicName])
	if dlq == "" {
		return
	}
	if slices.Contains(topics, dlq) {
		v.fail(connect.TopicsConfig, "The DLQ topic '%s' may not be included in the list of topics ('%s=[%s]') to be consumed by the connector",
			dlq, connect.TopicsConfig, strings.Join(topics, ", "))
	}
	if re != nil && re.MatchString(dlq) {
		v.fail(connect.TopicsRegexConfig, "The DLQ topic '%s' may not be included in the regex matching the topics ('%s=%s') to be consumed by the connector",
			dlq, connect.TopicsRegexConfig, regex)
	}
}

// result builds the answer: every defined setting in order, then settings
// with errors that no definition describes (a connector's own rules).
func (v *validation) result(class string) ConfigInfos {
	out := ConfigInfos{Name: class, Groups: []string{}, Configs: []ConfigInfo{}}
	orders := map[string]int{}
	for _, k := range v.def {
		if k.Group != "" && !slices.Contains(out.Groups, k.Group) {
			out.Groups = append(out.Groups, k.Group)
		}
		out.Configs = append(out.Configs, ConfigInfo{Definition: keyInfo(k, orders), Value: v.value(k)})
	}
	for _, name := range slices.Sorted(maps.Keys(v.errs)) {
		if _, ok := v.def.Key(name); !ok {
			k := connect.ConfigKey{Name: name, Type: connect.ConfigString}
			out.Configs = append(out.Configs, ConfigInfo{Definition: keyInfo(k, orders), Value: v.value(k)})
		}
	}
	for _, c := range out.Configs {
		out.ErrorCount += len(c.Value.Errors)
	}
	return out
}

func (v *validation) value(k connect.ConfigKey) ConfigValueInfo {
	val := ConfigValueInfo{Name: k.Name, RecommendedValues: []string{}, Errors: []string{}, Visible: true}
	if raw, set := v.cfg[k.Name]; set {
		val.Value = &raw
	} else {
		val.Value = defaultValue(k)
	}
	if k.Type == connect.ConfigPassword && val.Value != nil {
		hidden := hiddenPassword
		val.Value = &hidden
	}
	val.RecommendedValues = append(val.RecommendedValues, k.Recommended...)
	val.Errors = append(val.Errors, v.errs[k.Name]...)
	return val
}

// javaMap prints a configuration as Java prints a Map, as Kafka's messages
// quote it ({k1=v1, k2=v2}), keys sorted.
func javaMap(cfg connect.Config) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		parts = append(parts, k+"="+cfg[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
