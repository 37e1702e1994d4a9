package rest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/herder"
	"github.com/streambridge/bridge/connect/runtime"
)

func (s *Handler) listConnectors(w http.ResponseWriter, r *http.Request) {
	names := s.cfg.Herder.Connectors()
	if names == nil {
		names = []string{} // Kafka answers [], never null
	}
	expand := r.URL.Query()["expand"]
	if len(expand) == 0 {
		writeJSON(w, http.StatusOK, names)
		return
	}
	out := map[string]map[string]any{}
	for _, name := range names {
		one := map[string]any{}
		for _, e := range expand {
			switch e {
			case "status":
				if st, err := s.cfg.Herder.Status(name); err == nil {
					one["status"] = st
				}
			case "info":
				if info, err := s.cfg.Herder.Info(name); err == nil {
					one["info"] = info
				}
			}
		}
		out[name] = one
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Handler) createConnector(w http.ResponseWriter, r *http.Request) {
	name, cfg, initial, err := readCreate(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var target herder.TargetState
	switch initial {
	case "":
	case "RUNNING", "PAUSED", "STOPPED":
		target = herder.TargetState(initial)
	default:
		writeError(w, http.StatusBadRequest, "Invalid initial state "+initial+"; must be one of RUNNING, PAUSED, STOPPED")
		return
	}
	if err := checkName(name, cfg); err != nil {
		s.fail(w, r, err)
		return
	}
	info, _, err := s.cfg.Herder.Put(r.Context(), name, cfg, false, target)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", connectorLocation(r, name))
	writeJSON(w, http.StatusCreated, info)
}

// checkName puts the URL's or body's name into the config, refusing a
// config that names another connector (Kafka's checkAndPutConnectorConfigName).
func checkName(name string, cfg connect.Config) error {
	if included, ok := cfg[connect.NameConfig]; ok {
		if included != name {
			return errorf(http.StatusBadRequest, "Connector name configuration (%s) doesn't match connector name in the URL (%s)", included, name)
		}
		return nil
	}
	cfg[connect.NameConfig] = name
	return nil
}

func (s *Handler) getConnector(w http.ResponseWriter, r *http.Request) {
	info, err := s.cfg.Herder.Info(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Handler) deleteConnector(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Herder.Delete(r.Context(), r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Handler) getConfig(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.cfg.Herder.ConnectorConfig(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cfg)
}

func (s *Handler) putConfig(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	cfg, _, err := readConfig(r)
	if err == nil {
		err = checkName(name, cfg)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	info, created, err := s.cfg.Herder.Put(r.Context(), name, cfg, true, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if created {
		w.Header().Set("Location", connectorLocation(r, name))
		writeJSON(w, http.StatusCreated, info)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Handler) patchConfig(w http.ResponseWriter, r *http.Request) {
	_, patch, err := readConfig(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	info, err := s.cfg.Herder.Patch(r.Context(), r.PathValue("name"), patch)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Handler) getStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Herder.Status(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// boolParam reads a boolean query parameter as JAX-RS does: absent is
// false, and a value that is not a boolean makes the request not found.
func boolParam(r *http.Request, name string) (bool, bool) {
	v := r.URL.Query().Get(name)
	switch strings.ToLower(v) {
	case "", "false":
		return false, true
	case "true":
		return true, true
	}
	return false, false
}

func (s *Handler) restart(w http.ResponseWriter, r *http.Request) {
	includeTasks, ok1 := boolParam(r, "includeTasks")
	onlyFailed, ok2 := boolParam(r, "onlyFailed")
	if !ok1 || !ok2 {
		writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
		return
	}
	st, err := s.cfg.Herder.Restart(r.PathValue("name"), includeTasks, onlyFailed)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if st == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusAccepted, st)
}

// target answers pause, resume and stop: 202 without a body.
func (s *Handler) target(change func(string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := change(r.PathValue("name")); err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

func (s *Handler) getTasks(w http.ResponseWriter, r *http.Request) {
	tasks, err := s.cfg.Herder.TaskConfigs(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tasks)
}

// taskID reads {name} and {task}; a task that is not a number is a path
// that does not exist (JAX-RS's answer).
func taskID(w http.ResponseWriter, r *http.Request) (runtime.TaskID, bool) {
	n, err := strconv.Atoi(r.PathValue("task"))
	if err != nil {
		writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
		return runtime.TaskID{}, false
	}
	return runtime.TaskID{Connector: r.PathValue("name"), Task: n}, true
}

func (s *Handler) getTaskStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	st, err := s.cfg.Herder.TaskStatus(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Handler) restartTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Herder.RestartTask(id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Handler) getTopics(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	writeJSON(w, http.StatusOK, map[string]map[string][]string{name: {"topics": s.cfg.Herder.ActiveTopics(name)}})
}

func (s *Handler) resetTopics(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Herder.ResetActiveTopics(r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Handler) getOffsets(w http.ResponseWriter, r *http.Request) {
	offs, err := s.cfg.Herder.GetOffsets(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, offs)
}

func (s *Handler) alterOffsets(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(r)
	var body herder.Offsets
	if err == nil {
		err = decodeOffsets(b, &body)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg, err := s.cfg.Herder.AlterOffsets(r.Context(), r.PathValue("name"), body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": msg})
}

// decodeOffsets decodes an offsets body with numbers as float64, as the
// offset stores keep them.
func decodeOffsets(b []byte, body *herder.Offsets) error {
	var raw struct {
		Offsets []struct {
			Partition map[string]any `json:"partition"`
			Offset    map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	if err := decodeJSON(b, &raw); err != nil {
		return err
	}
	for _, o := range raw.Offsets {
		body.Offsets = append(body.Offsets, runtime.SourceOffset{Partition: numbersToFloat(o.Partition), Offset: numbersToFloat(o.Offset)})
	}
	return nil
}

// numbersToFloat replaces json.Numbers (decodeJSON's) by float64s.
func numbersToFloat(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	for k, v := range m {
		m[k] = normalize(v)
	}
	return m
}

func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return numbersToFloat(x)
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
		return x
	case interface{ Float64() (float64, error) }:
		f, _ := x.Float64()
		return f
	}
	return v
}

func (s *Handler) resetOffsets(w http.ResponseWriter, r *http.Request) {
	msg, err := s.cfg.Herder.ResetOffsets(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": msg})
}
