// Package users keeps the SCRAM credentials of Kafka users: salted
// passwords, never passwords. Users come from two places:
//
//   - a users file (LoadFile), read at start: passwords in it are salted
//     with a fresh random salt as they are read and then dropped;
//   - Kafka's AlterUserScramCredentials API (kadm, kafka-configs.sh), which
//     sends salted passwords; these are kept in the store's state area and
//     survive restarts.
//
// Where both name the same user and mechanism, the API's credential wins,
// so an operator can rotate a password without editing the file; deleting
// it through the API brings the file's back.
package users

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/xdg-go/scram"

	"github.com/streambridge/bridge/security/sasl"
	"github.com/streambridge/bridge/store"
)

// stateNamespace and statePrefix place API-set credentials in the state
// area: key "scram/MECHANISM/USER".
const (
	stateNamespace = "security"
	statePrefix    = "scram/"
)

// DefaultIterations is the iteration count of credentials made from a
// users file's passwords: Kafka's minimum, which is also what its tools use
// by default.
const DefaultIterations = sasl.MinIterations

// SCRAMMechanisms are the mechanisms a credential can be kept for.
var SCRAMMechanisms = []string{sasl.ScramSHA256, sasl.ScramSHA512}

type credKey struct{ mechanism, user string }

// Store is the set of users. It is safe for concurrent use.
type Store struct {
	state store.State

	mu   sync.RWMutex
	file map[credKey]scram.StoredCredentials
	api  map[credKey]scram.StoredCredentials
}

// Open loads the API-set credentials from st and salts the file's users.
// st may be nil for a store of file users only (tests).
func Open(ctx context.Context, st store.State, file []FileUser) (*Store, error) {
	s := &Store{
		state: st,
		file:  make(map[credKey]scram.StoredCredentials),
		api:   make(map[credKey]scram.StoredCredentials),
	}
	for _, u := range file {
		for _, mech := range u.Mechanisms {
			salt := make([]byte, 24)
			rand.Read(salt)
			c, err := sasl.NewCredential(mech, u.Password, salt, u.Iterations)
			if err != nil {
				return nil, fmt.Errorf("user %q: %w", u.Name, err)
			}
			s.file[credKey{mech, u.Name}] = c
		}
	}
	if st == nil {
		return s, nil
	}
	err := st.Scan(ctx, stateNamespace, statePrefix, func(key string, value []byte) error {
		mech, user, ok := strings.Cut(strings.TrimPrefix(key, statePrefix), "/")
		if !ok {
			return fmt.Errorf("users: bad credential key %q", key)
		}
		var v storedValue
		if err := json.Unmarshal(value, &v); err != nil {
			return fmt.Errorf("users: credential %q: %w", key, err)
		}
		s.api[credKey{mech, user}] = v.credentials()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// storedValue is a credential as the state area keeps it.
type storedValue struct {
	Salt       []byte `json:"salt"`
	Iterations int    `json:"iterations"`
	StoredKey  []byte `json:"storedKey"`
	ServerKey  []byte `json:"serverKey"`
}

func (v storedValue) credentials() scram.StoredCredentials {
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(v.Salt), Iters: v.Iterations},
		StoredKey:  v.StoredKey,
		ServerKey:  v.ServerKey,
	}
}

// SCRAM implements sasl.Credentials.
func (s *Store) SCRAM(mechanism, user string) (scram.StoredCredentials, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := credKey{mechanism, user}
	if c, ok := s.api[k]; ok {
		return c, true
	}
	c, ok := s.file[k]
	return c, ok
}

// Info describes one credential of a user, as DescribeUserScramCredentials
// answers: the mechanism and iterations, never the keys.
type Info struct {
	Mechanism  string
	Iterations int
}

// Describe returns the credentials of user, by mechanism; none for an
// unknown user.
func (s *Store) Describe(user string) []Info {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Info
	for _, mech := range SCRAMMechanisms {
		k := credKey{mech, user}
		c, ok := s.api[k]
		if !ok {
			c, ok = s.file[k]
		}
		if ok {
			out = append(out, Info{Mechanism: mech, Iterations: c.Iters})
		}
	}
	return out
}

// Names returns every user with a credential, sorted.
func (s *Store) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, m := range []map[credKey]scram.StoredCredentials{s.api, s.file} {
		for k := range m {
			out = append(out, k.user)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Change is one alteration of AlterUserScramCredentials: an upsertion
// (SaltedPassword set) or a deletion (SaltedPassword nil).
type Change struct {
	User           string
	Mechanism      string
	Iterations     int
	Salt           []byte
	SaltedPassword []byte
}

// ErrNotFound is a deletion of a credential the API never set.
var ErrNotFound = errors.New("attempt to delete a user credential that does not exist")

// Check validates a change as Kafka does before applying any: the
// mechanism, the iteration bounds, the salted password's size. The error's
// text is Kafka's, for the response's error message.
func Check(c Change) error {
	if c.User == "" {
		return errors.New("username must not be empty")
	}
	if !slices.Contains(SCRAMMechanisms, c.Mechanism) {
		return fmt.Errorf("unknown SCRAM mechanism %q", c.Mechanism)
	}
	if c.SaltedPassword == nil {
		return nil
	}
	switch {
	case c.Iterations < sasl.MinIterations:
		return fmt.Errorf("too few iterations (%d < %d)", c.Iterations, sasl.MinIterations)
	case c.Iterations > sasl.MaxIterations:
		return fmt.Errorf("too many iterations (%d > %d)", c.Iterations, sasl.MaxIterations)
	case len(c.Salt) == 0:
		return errors.New("salt must not be empty")
	}
	if _, err := sasl.StoredFromSalted(c.Mechanism, c.SaltedPassword, c.Salt, c.Iterations); err != nil {
		return err
	}
	return nil
}

// Apply writes changes, already checked with Check, in one durable update.
// A deletion of a credential the API did not set fails the whole call with
// ErrNotFound before anything is written; callers check that first with
// HasAPICredential when they answer per user.
func (s *Store) Apply(ctx context.Context, changes []Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	writes := make([]store.KV, 0, len(changes))
	next := make(map[credKey]*scram.StoredCredentials, len(changes))
	for _, c := range changes {
		k := credKey{c.Mechanism, c.User}
		kv := store.KV{Namespace: stateNamespace, Key: statePrefix + c.Mechanism + "/" + c.User}
		if c.SaltedPassword == nil {
			if _, ok := s.api[k]; !ok {
				return fmt.Errorf("%w: %s %s", ErrNotFound, c.User, c.Mechanism)
			}
			next[k] = nil
			writes = append(writes, kv)
			continue
		}
		cred, err := sasl.StoredFromSalted(c.Mechanism, c.SaltedPassword, c.Salt, c.Iterations)
		if err != nil {
			return err
		}
		kv.Value, _ = json.Marshal(storedValue{Salt: c.Salt, Iterations: c.Iterations, StoredKey: cred.StoredKey, ServerKey: cred.ServerKey})
		next[k] = &cred
		writes = append(writes, kv)
	}
	if s.state != nil {
		if err := s.state.Update(ctx, writes...); err != nil {
			return err
		}
	}
	for k, c := range next {
		if c == nil {
			delete(s.api, k)
		} else {
			s.api[k] = *c
		}
	}
	return nil
}

// HasAPICredential says whether the API set a credential for user and
// mechanism (one a deletion can remove).
func (s *Store) HasAPICredential(user, mechanism string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.api[credKey{mechanism, user}]
	return ok
}
