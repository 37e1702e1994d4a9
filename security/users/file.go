package users

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/streambridge/bridge/security/sasl"
)

// FileUser is one user of a users file.
type FileUser struct {
	Name     string `yaml:"name"`
	Password string `yaml:"password"`
	// Mechanisms the user may log in with; empty means both SCRAM ones
	// (PLAIN checks against either).
	Mechanisms []string `yaml:"mechanisms"`
	// Iterations of the salted credential; zero means DefaultIterations.
	Iterations int `yaml:"iterations"`
}

// usersFile is the file's shape:
//
//	users:
//	  - name: alice
//	    password: alice-secret
//	  - name: bob
//	    password: bob-secret
//	    mechanisms: [SCRAM-SHA-512]
//	    iterations: 8192
type usersFile struct {
	Users []FileUser `yaml:"users"`
}

// LoadFile reads and checks a users file. Errors name the entry.
func LoadFile(path string) ([]FileUser, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFile(data)
}

// ParseFile is LoadFile on the file's contents.
func ParseFile(data []byte) ([]FileUser, error) {
	var f usersFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	var errs []error
	seen := map[string]bool{}
	for i := range f.Users {
		u := &f.Users[i]
		where := fmt.Sprintf("users file: entry %d (%q)", i+1, u.Name)
		switch {
		case u.Name == "":
			errs = append(errs, fmt.Errorf("%s: no name", where))
		case seen[u.Name]:
			errs = append(errs, fmt.Errorf("%s: user listed twice", where))
		case u.Password == "":
			errs = append(errs, fmt.Errorf("%s: no password", where))
		}
		seen[u.Name] = true
		if len(u.Mechanisms) == 0 {
			u.Mechanisms = slices.Clone(SCRAMMechanisms)
		}
		for _, m := range u.Mechanisms {
			if !slices.Contains(SCRAMMechanisms, m) {
				errs = append(errs, fmt.Errorf("%s: mechanism %q: want %s or %s", where, m, sasl.ScramSHA256, sasl.ScramSHA512))
			}
		}
		if u.Iterations == 0 {
			u.Iterations = DefaultIterations
		}
		if u.Iterations < sasl.MinIterations || u.Iterations > sasl.MaxIterations {
			errs = append(errs, fmt.Errorf("%s: iterations %d: want %d to %d", where, u.Iterations, sasl.MinIterations, sasl.MaxIterations))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f.Users, nil
}
