package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// settings is the comparable view of serveOptions the tests check.
type settings struct {
	DataDir, KafkaAddr, Advertised, AWSAddr, AdminAddr string
	InMemory                                           bool
	LogFormat, LogLevel                                string
	ShutdownTimeout                                    time.Duration
}

func (o *serveOptions) settings() settings {
	return settings{
		DataDir: o.store.dataDir, KafkaAddr: o.kafka.addr, Advertised: o.kafka.advertisedAddr,
		AWSAddr: o.aws.addr, AdminAddr: o.admin.addr, InMemory: o.store.inMemory,
		LogFormat: o.admin.logFormat.value, LogLevel: o.admin.logLevel.value, ShutdownTimeout: o.admin.shutdownTimeout,
	}
}

var defaults = settings{
	DataDir: "./bridge-data", KafkaAddr: ":9092", AWSAddr: ":4566", AdminAddr: ":8080",
	LogFormat: "text", LogLevel: "info", ShutdownTimeout: 10 * time.Second,
}

// resolve runs `bridge serve args...` with env and, if file is not empty, a
// config file whose path replaces $CONFIG in args and env. It returns the
// settings serve would run with.
func resolve(t *testing.T, args []string, env map[string]string, file string) (settings, layered, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bridge.yaml")
	if file != "" {
		if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	expand := func(s string) string { return strings.ReplaceAll(s, "$CONFIG", path) }
	lookup := func(k string) (string, bool) {
		v, ok := env[k]
		return expand(v), ok
	}
	var got settings
	var lay layered
	root := newRootCmd(lookup, func(_ *cobra.Command, o *serveOptions, l layered) error {
		got, lay = o.settings(), l
		return nil
	})
	full := []string{"serve"}
	for _, a := range args {
		full = append(full, expand(a))
	}
	root.SetArgs(full)
	root.SetOut(&strings.Builder{})
	root.SetErr(&strings.Builder{})
	err := root.Execute()
	return got, lay, err
}

func TestSettingsPrecedence(t *testing.T) {
	const fullFile = `# every key once
data-dir: /from/file
kafka-addr: 127.0.0.1:19092
advertised-kafka-addr: kafka.example:19092
aws-addr: 127.0.0.1:14566
admin-addr: 127.0.0.1:18080
in-memory: true
log-format: json
log-level: debug
shutdown-timeout: 3s
`
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		file    string
		want    func(*settings)
		sources map[string]string // flag -> expected source prefix
	}{
		{
			name:    "defaults",
			want:    func(*settings) {},
			sources: map[string]string{"data-dir": "default", "in-memory": "default"},
		},
		{
			name: "file sets every key",
			args: []string{"--config", "$CONFIG"},
			file: fullFile,
			want: func(s *settings) {
				*s = settings{
					DataDir: "/from/file", KafkaAddr: "127.0.0.1:19092", Advertised: "kafka.example:19092",
					AWSAddr: "127.0.0.1:14566", AdminAddr: "127.0.0.1:18080", InMemory: true,
					LogFormat: "json", LogLevel: "debug", ShutdownTimeout: 3 * time.Second,
				}
			},
			sources: map[string]string{"data-dir": "config ", "shutdown-timeout": "config "},
		},
		{
			name: "file beats default, leaves the rest",
			args: []string{"--config", "$CONFIG"},
			file: "data-dir: ./x\n",
			want: func(s *settings) { s.DataDir = "./x" },
		},
		{
			name: "env beats file",
			args: []string{"--config", "$CONFIG"},
			env:  map[string]string{"BRIDGE_DATA_DIR": "/from/env", "BRIDGE_IN_MEMORY": "false", "BRIDGE_SHUTDOWN_TIMEOUT": "1m"},
			file: "data-dir: /from/file\nin-memory: true\nlog-level: warn\n",
			want: func(s *settings) {
				s.DataDir, s.InMemory, s.ShutdownTimeout, s.LogLevel = "/from/env", false, time.Minute, "warn"
			},
			sources: map[string]string{"data-dir": "env BRIDGE_DATA_DIR", "log-level": "config "},
		},
		{
			name:    "flag beats env and file",
			args:    []string{"--config", "$CONFIG", "--data-dir", "/from/flag", "--log-format=json", "--in-memory"},
			env:     map[string]string{"BRIDGE_DATA_DIR": "/from/env", "BRIDGE_LOG_FORMAT": "text", "BRIDGE_IN_MEMORY": "false"},
			file:    "data-dir: /from/file\nlog-format: text\n",
			want:    func(s *settings) { s.DataDir, s.LogFormat, s.InMemory = "/from/flag", "json", true },
			sources: map[string]string{"data-dir": "flag --data-dir", "log-format": "flag --log-format"},
		},
		{
			name: "env without a file",
			env:  map[string]string{"BRIDGE_KAFKA_ADDR": "127.0.0.1:0", "BRIDGE_ADVERTISED_KAFKA_ADDR": "h:1"},
			want: func(s *settings) { s.KafkaAddr, s.Advertised = "127.0.0.1:0", "h:1" },
		},
		{
			name: "empty env counts as unset",
			args: []string{"--config", "$CONFIG"},
			env:  map[string]string{"BRIDGE_DATA_DIR": ""},
			file: "data-dir: /from/file\n",
			want: func(s *settings) { s.DataDir = "/from/file" },
		},
		{
			name: "BRIDGE_CONFIG names the file",
			env:  map[string]string{"BRIDGE_CONFIG": "$CONFIG"},
			file: "aws-addr: 127.0.0.1:1\n",
			want: func(s *settings) { s.AWSAddr = "127.0.0.1:1" },
		},
		{
			name: "empty file and comments only",
			args: []string{"--config", "$CONFIG"},
			file: "# nothing set\n",
			want: func(*settings) {},
		},
		{
			name: "quoted empty string is a value",
			args: []string{"--config", "$CONFIG"},
			file: "advertised-kafka-addr: ''\n",
			want: func(*settings) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, lay, err := resolve(t, tt.args, tt.env, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			want := defaults
			tt.want(&want)
			if got != want {
				t.Fatalf("settings\n got %+v\nwant %+v", got, want)
			}
			for flag, prefix := range tt.sources {
				if src := string(lay.sources[flag]); !strings.HasPrefix(src, prefix) {
					t.Errorf("source of %s = %q, want %q...", flag, src, prefix)
				}
			}
		})
	}
}

func TestSettingsErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		file    string
		wantErr []string // substrings, all required
	}{
		{"unknown key", []string{"--config", "$CONFIG"}, nil, "data-dir: x\nkafka_addr: :1\n",
			[]string{"bridge.yaml:2", `unknown key "kafka_addr"`, "did you mean kafka-addr?", "known keys: account, admin-addr"}},
		{"env-style key", []string{"--config", "$CONFIG"}, nil, "BRIDGE_DATA_DIR: x\n",
			[]string{`unknown key "BRIDGE_DATA_DIR"`, "did you mean data-dir?"}},
		{"config key in the file", []string{"--config", "$CONFIG"}, nil, "config: other.yaml\n",
			[]string{`unknown key "config"`}},
		{"duplicate key", []string{"--config", "$CONFIG"}, nil, "data-dir: a\ndata-dir: b\n",
			[]string{"bridge.yaml:2", "data-dir is set twice (first on line 1)"}},
		{"nested value", []string{"--config", "$CONFIG"}, nil, "kafka-addr:\n  host: x\n",
			[]string{"kafka-addr: want a single value, got a mapping"}},
		{"list value", []string{"--config", "$CONFIG"}, nil, "kafka-addr: [a, b]\n",
			[]string{"got a list"}},
		{"null value", []string{"--config", "$CONFIG"}, nil, "data-dir:\n",
			[]string{"data-dir has no value"}},
		{"not a mapping", []string{"--config", "$CONFIG"}, nil, "- data-dir\n",
			[]string{"want a mapping of settings"}},
		{"bad yaml", []string{"--config", "$CONFIG"}, nil, "data-dir: [\n",
			[]string{"config file"}},
		{"missing file", []string{"--config", "/nonexistent/bridge.yaml"}, nil, "",
			[]string{"config file", "no such file"}},
		{"missing file from env", nil, map[string]string{"BRIDGE_CONFIG": "/nonexistent/b.yaml"}, "",
			[]string{"/nonexistent/b.yaml"}},
		{"bad bool in env", nil, map[string]string{"BRIDGE_IN_MEMORY": "maybe"}, "",
			[]string{`BRIDGE_IN_MEMORY="maybe"`, "--in-memory"}},
		{"bad duration in file", []string{"--config", "$CONFIG"}, nil, "shutdown-timeout: soon\n",
			[]string{"bridge.yaml:1", "shutdown-timeout", `"soon"`}},
		{"bad log format in file", []string{"--config", "$CONFIG"}, nil, "log-format: xml\n",
			[]string{"bridge.yaml:1", "log-format", "want one of text|json"}},
		{"bad log level in env", nil, map[string]string{"BRIDGE_LOG_LEVEL": "verbose"}, "",
			[]string{"BRIDGE_LOG_LEVEL", "want one of debug|info|warn|error"}},
		{"bad log level flag", []string{"--log-level", "trace"}, nil, "",
			[]string{"--log-level", "want one of debug|info|warn|error", "--help"}},
		{"unknown flag", []string{"--data-dri", "x"}, nil, "",
			[]string{"unknown flag: --data-dri"}},
		{"zero shutdown timeout", []string{"--shutdown-timeout", "0s"}, nil, "",
			[]string{"--shutdown-timeout", "positive"}},
		{"positional argument", []string{"extra"}, nil, "",
			[]string{"unknown command"}},
		{"every bad key reported", []string{"--config", "$CONFIG"}, nil, "a: 1\nb: 2\n",
			[]string{`unknown key "a"`, `unknown key "b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := resolve(t, tt.args, tt.env, tt.file)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{
		"data-dir":              "BRIDGE_DATA_DIR",
		"advertised-kafka-addr": "BRIDGE_ADVERTISED_KAFKA_ADDR",
		"in-memory":             "BRIDGE_IN_MEMORY",
		"config":                "BRIDGE_CONFIG",
	} {
		if got := envName(flag); got != want {
			t.Errorf("envName(%q) = %q, want %q", flag, got, want)
		}
	}
}
