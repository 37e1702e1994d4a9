package rest

import (
	"net/http"
	"strings"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/herder"
)

// pluginInfo is one entry of GET /connector-plugins (Kafka's PluginInfo).
type pluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version"`
}

func (s *Handler) listPlugins(w http.ResponseWriter, r *http.Request) {
	connectorsOnly := true
	switch strings.ToLower(r.URL.Query().Get("connectorsOnly")) {
	case "", "true":
	case "false":
		connectorsOnly = false
	default:
		writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
		return
	}
	// Kafka lists sinks, then sources, then the other types.
	types := []connect.PluginType{connect.PluginSink, connect.PluginSource}
	if !connectorsOnly {
		types = append(types, connect.PluginTransformation, connect.PluginPredicate, connect.PluginConverter, connect.PluginHeaderConverter)
	}
	out := []pluginInfo{}
	reg := s.cfg.Herder.Registry()
	for _, t := range types {
		for _, p := range reg.Plugins(t) {
			v := p.Version
			if v == "" {
				v = s.cfg.Version
			}
			out = append(out, pluginInfo{Class: p.Class, Type: string(p.Type), Version: v})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Handler) pluginConfig(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("plugin")
	p, ok := s.cfg.Herder.Registry().Lookup(name)
	if !ok {
		writeError(w, http.StatusNotFound, "Unknown plugin "+name+".")
		return
	}
	var def connect.ConfigDef
	if p.Type == connect.PluginSource || p.Type == connect.PluginSink {
		def = append(def, connect.CommonDef(p.Type)...)
	}
	def = append(def, p.Config...)
	writeJSON(w, http.StatusOK, herder.KeyInfos(def))
}

func (s *Handler) validate(w http.ResponseWriter, r *http.Request) {
	plugin := r.PathValue("plugin")
	cfg, _, err := readConfig(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if included, ok := cfg[connect.ConnectorClassConfig]; ok && !strings.HasSuffix(normalizedPluginName(included), normalizedPluginName(plugin)) {
		writeError(w, http.StatusBadRequest, "Included connector type "+included+" does not match request type "+plugin)
		return
	}
	infos, err := s.cfg.Herder.Validate(r.Context(), cfg)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, infos)
}

// normalizedPluginName drops a "Connector" suffix, so a class and its alias
// compare equal (Kafka's ConnectorPluginsResource.normalizedPluginName).
func normalizedPluginName(name string) string {
	if short, ok := strings.CutSuffix(name, "Connector"); ok && short != "" {
		return short
	}
	return name
}
