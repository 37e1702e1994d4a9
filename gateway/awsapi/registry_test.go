package awsapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// testAPI is an API's handler type: operations reach their API through it.
type testAPI struct{ greeting string }

type greetIn struct {
	Name *string `json:"Name"`
}

type greetOut struct {
	Text string `json:"Text"`
}

func greet(_ context.Context, api *testAPI, in *greetIn) (*greetOut, error) {
	if in.Name == nil {
		return nil, Errorf(400, TypeValidation, "no name")
	}
	return &greetOut{Text: api.greeting + ", " + *in.Name}, nil
}

func serveOp(t *testing.T, reg *Registry[*testAPI], api *testAPI, op, body string, c Codec) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	x := &Exchange{W: w, R: httptest.NewRequest("POST", "/", nil), Op: op, Body: []byte(body), Codec: c}
	fn := reg.Lookup(op)
	if fn == nil {
		t.Fatalf("no operation %s", op)
	}
	if err := fn(context.Background(), api, x); err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %v", op, err)
		}
		e.WriteJSON(w, c)
	}
	return w
}

func TestRegistry(t *testing.T) {
	var reg Registry[*testAPI]
	Register(&reg, "Greet", greet)
	RegisterStreaming(&reg, "Stream", func(_ context.Context, api *testAPI, in *greetIn, w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain")
		_, err := w.Write([]byte(api.greeting + " " + *in.Name + " via " + r.Method))
		return err
	})
	api := &testAPI{greeting: "hello"}

	w := serveOp(t, &reg, api, "Greet", `{"Name":"bob"}`, JSON10{})
	if w.Code != 200 || w.Body.String() != `{"Text":"hello, bob"}` || w.Header().Get("Content-Type") != ContentTypeJSON10 {
		t.Errorf("Greet: %d %v %s", w.Code, w.Header(), w.Body)
	}
	w = serveOp(t, &reg, api, "Greet", `{}`, JSON11{})
	if w.Code != 400 || !strings.Contains(w.Body.String(), "no name") {
		t.Errorf("Greet without a name: %d %s", w.Code, w.Body)
	}
	w = serveOp(t, &reg, api, "Greet", `{"Name":1}`, JSON11{})
	if w.Code != 400 || w.Header().Get("X-Amzn-ErrorType") != TypeSerialization {
		t.Errorf("Greet with a bad body: %d %v", w.Code, w.Header())
	}
	w = serveOp(t, &reg, api, "Stream", `{"Name":"ann"}`, JSON11{})
	if w.Code != 200 || w.Body.String() != "hello ann via POST" {
		t.Errorf("Stream: %d %s", w.Code, w.Body)
	}
	if reg.Lookup("Nope") != nil {
		t.Error("Lookup found an operation never registered")
	}
	if got := reg.Names(); !reflect.DeepEqual(got, []string{"Greet", "Stream"}) {
		t.Errorf("Names() = %v", got)
	}

	defer func() {
		if recover() == nil {
			t.Error("registering Greet twice did not panic")
		}
	}()
	Register(&reg, "Greet", greet)
}

// Each API's registry is its own; hooks change how it decodes and answers.
func TestRegistryHooks(t *testing.T) {
	reg := Registry[*testAPI]{
		Decode: func(x *Exchange, in any) error {
			if g, ok := in.(*greetIn); ok && string(x.Body) == "fast" {
				name := "fast path"
				g.Name = &name
				return nil
			}
			return x.Codec.Decode(x.Body, in)
		},
		Respond: func(api *testAPI, x *Exchange, out any) error {
			x.W.Header().Set("Content-Type", "text/xml")
			x.W.WriteHeader(http.StatusOK)
			_, _ = x.W.Write([]byte("<Greeting>" + out.(*greetOut).Text + "</Greeting>"))
			return nil
		},
	}
	Register(&reg, "Greet", greet)
	var other Registry[*testAPI]
	if other.Lookup("Greet") != nil {
		t.Fatal("a registry sees another's operations")
	}
	w := serveOp(t, &reg, &testAPI{greeting: "hi"}, "Greet", "fast", JSON11{})
	if w.Body.String() != "<Greeting>hi, fast path</Greeting>" {
		t.Errorf("hooked Greet: %s", w.Body)
	}
	w = serveOp(t, &reg, &testAPI{greeting: "hi"}, "Greet", `{"Name":"x"}`, JSON11{})
	if w.Body.String() != "<Greeting>hi, x</Greeting>" {
		t.Errorf("hooked Greet, slow path: %s", w.Body)
	}
}
