package main

// Settings come in layers: a flag on the command line beats an environment
// variable, which beats the config file, which beats the flag's default.
// Flags are the single list of settings; the environment variable and the
// config-file key of each are derived from its name, so the three can never
// drift apart:
//
//	--data-dir  ↔  BRIDGE_DATA_DIR  ↔  data-dir: ./x

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

const (
	envPrefix  = "BRIDGE_"
	configFlag = "config"
)

// envName returns the environment variable for a flag: data-dir → BRIDGE_DATA_DIR.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// source says where a setting's value came from, for the startup log and for
// error messages that point at the line to fix.
type source string

// layered is the result of applyLayers: where each setting came from.
type layered struct {
	configFile string
	sources    map[string]source // flag name -> origin
}

// applyLayers fills every flag the command line left unset: from its
// environment variable if that is set and not empty, else from the config
// file (named by --config or BRIDGE_CONFIG), else the default stays. An
// unknown key in the config file is an error, so a typo never silently
// falls back to a default.
func applyLayers(fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) (layered, error) {
	res := layered{sources: map[string]source{}}
	env := func(name string) (string, bool) {
		v, ok := lookupEnv(name)
		return v, ok && v != "" // an empty variable counts as unset
	}

	if f := fs.Lookup(configFlag); f != nil {
		switch v, ok := env(envName(configFlag)); {
		case f.Changed:
			res.configFile = f.Value.String()
		case ok:
			res.configFile = v
			if err := f.Value.Set(v); err != nil {
				return res, err
			}
		}
	}
	file := map[string]fileValue{}
	if res.configFile != "" {
		var err error
		if file, err = readConfigFile(res.configFile, fs); err != nil {
			return res, err
		}
	}

	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == configFlag || f.Name == "help" {
			return
		}
		if f.Changed {
			res.sources[f.Name] = "flag --" + source(f.Name)
			return
		}
		if v, ok := env(envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: invalid value for --%s: %w", envName(f.Name), v, f.Name, err))
			}
			res.sources[f.Name] = source("env " + envName(f.Name))
			return
		}
		if fv, ok := file[f.Name]; ok {
			if err := f.Value.Set(fv.value); err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %s: invalid value %q: %w", res.configFile, fv.line, f.Name, fv.value, err))
			}
			res.sources[f.Name] = source(fmt.Sprintf("config %s:%d", res.configFile, fv.line))
			return
		}
		res.sources[f.Name] = "default"
	})
	return res, errors.Join(errs...)
}

type fileValue struct {
	value string
	line  int
}

// readConfigFile reads a YAML mapping of flag names to single values. Nested
// values, duplicate keys and keys that are not flags are errors.
func readConfigFile(path string, fs *pflag.FlagSet) (map[string]fileValue, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	out := map[string]fileValue{}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return out, nil // empty, or comments only
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config file %s:%d: want a mapping of settings (data-dir: ./x), got a %s", path, root.Line, kindName(root.Kind))
	}

	known := knownKeys(fs)
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		at := fmt.Sprintf("config file %s:%d", path, k.Line)
		switch {
		case k.Kind != yaml.ScalarNode:
			errs = append(errs, fmt.Errorf("%s: keys must be setting names", at))
		case !slices.Contains(known, k.Value):
			errs = append(errs, fmt.Errorf("%s: unknown key %q%s; known keys: %s", at, k.Value, suggest(k.Value, known), strings.Join(known, ", ")))
		case out[k.Value] != (fileValue{}):
			errs = append(errs, fmt.Errorf("%s: %s is set twice (first on line %d)", at, k.Value, out[k.Value].line))
		case v.Kind != yaml.ScalarNode:
			errs = append(errs, fmt.Errorf("%s: %s: want a single value, got a %s", at, k.Value, kindName(v.Kind)))
		case v.Tag == "!!null":
			errs = append(errs, fmt.Errorf("%s: %s has no value; give one or remove the line", at, k.Value))
		default:
			out[k.Value] = fileValue{value: v.Value, line: k.Line}
		}
	}
	return out, errors.Join(errs...)
}

// knownKeys are the config-file keys: every flag but --config and --help.
func knownKeys(fs *pflag.FlagSet) []string {
	var keys []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != configFlag && f.Name != "help" {
			keys = append(keys, f.Name)
		}
	})
	slices.Sort(keys)
	return keys
}

// suggest catches the usual slip, snake_case or env-style keys.
func suggest(key string, known []string) string {
	norm := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(key, envPrefix), "_", "-"))
	if norm != key && slices.Contains(known, norm) {
		return fmt.Sprintf(" (did you mean %s?)", norm)
	}
	return ""
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	case yaml.ScalarNode:
		return "single value"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}
