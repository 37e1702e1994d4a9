package rest

// Request bodies: only application/json, bounded, decoded into the shapes
// Kafka Connect accepts.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/streambridge/bridge/connect"
)

// maxBody bounds a request body; connector configurations are small.
const maxBody = 4 << 20

// clusterIDTimeout bounds GET /'s question to Kafka.
const clusterIDTimeout = 10 * time.Second

// bodyError is a refused request body.
type bodyError struct {
	code int
	msg  string
}

func (e *bodyError) Error() string { return e.msg }

// readBody returns the request's JSON body, refusing another content type
// (415) and a body over maxBody (400).
func readBody(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, errorf(http.StatusUnsupportedMediaType, "HTTP 415 Unsupported Media Type")
		}
	} else if r.ContentLength != 0 {
		return nil, errorf(http.StatusUnsupportedMediaType, "HTTP 415 Unsupported Media Type")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Cannot read the request body: %v", err)
	}
	if len(b) > maxBody {
		return nil, errorf(http.StatusBadRequest, "Request body is larger than %d bytes", maxBody)
	}
	keepBody(r, b)
	return b, nil
}

// decodeJSON decodes one JSON value into v, refusing trailing data.
func decodeJSON(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errorf(http.StatusBadRequest, "Request body is empty; a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "Request body is not valid JSON for this request: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "Request body has data after its JSON value")
	}
	return nil
}

// configValues turns a JSON object of settings into a Config: strings as
// they are, numbers and booleans as their JSON text (Jackson's coercion),
// nulls left out when dropNull is set and kept as nil in patch otherwise.
// Objects and arrays are refused.
func configValues(raw map[string]any) (cfg connect.Config, patch map[string]*string, err error) {
	cfg = connect.Config{}
	patch = map[string]*string{}
	for k, v := range raw {
		switch x := v.(type) {
		case nil:
			patch[k] = nil
			continue
		case string:
			cfg[k] = x
		case json.Number:
			cfg[k] = x.String()
		case bool:
			cfg[k] = fmt.Sprint(x)
		default:
			return nil, nil, errorf(http.StatusBadRequest, "Cannot deserialize value of type `java.lang.String` from %s for configuration %s", jsonKind(v), k)
		}
		s := cfg[k]
		patch[k] = &s
	}
	return cfg, patch, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "Object value (token `JsonToken.START_OBJECT`)"
	case []any:
		return "Array value (token `JsonToken.START_ARRAY`)"
	}
	return "value"
}

// readConfig reads a body that is a JSON object of settings.
func readConfig(r *http.Request) (connect.Config, map[string]*string, error) {
	b, err := readBody(r)
	if err != nil {
		return nil, nil, err
	}
	var raw map[string]any
	if err := decodeJSON(b, &raw); err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return nil, nil, errorf(http.StatusBadRequest, "Request body must be a JSON object of configuration settings")
	}
	return configValues(raw)
}

// createRequest is POST /connectors' body (Kafka's CreateConnectorRequest).
type createRequest struct {
	Name         *string        `json:"name"`
	Config       map[string]any `json:"config"`
	InitialState string         `json:"initial_state"`
}

func readCreate(r *http.Request) (name string, cfg connect.Config, initial string, err error) {
	b, err := readBody(r)
	if err != nil {
		return "", nil, "", err
	}
	var req createRequest
	if err := decodeJSON(b, &req); err != nil {
		return "", nil, "", err
	}
	if req.Config == nil {
		return "", nil, "", errorf(http.StatusBadRequest, "Connector config is required: the body must have a \"config\" object")
	}
	if req.Name != nil {
		name = strings.TrimSpace(*req.Name)
	}
	cfg, _, err = configValues(req.Config)
	return name, cfg, strings.ToUpper(req.InitialState), err
}
