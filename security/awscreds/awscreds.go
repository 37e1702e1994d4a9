// Package awscreds holds the AWS credentials the bridge accepts: access key
// ids with their secrets and, for temporary credentials, session tokens.
// They come from a file in the AWS shared-credentials format
// (~/.aws/credentials), so operators can reuse the file their tools
// already read, and hand the same keys to clients.
//
// The package knows nothing of HTTP: SigV4 verification of the AWS port
// (security/sigv4) looks keys up here, and so do the Kafka port's MSK IAM
// SASL mechanisms (security/sasl: AWS_MSK_IAM, OAUTHBEARER), through the
// same verifier.
package awscreds

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Credential is one access key the bridge accepts.
type Credential struct {
	// AccessKeyID identifies the key; it is the principal of the requests
	// signed with it.
	AccessKeyID string
	// SecretAccessKey is the key the signatures are made with. It is
	// never logged.
	SecretAccessKey string
	// SessionToken, when set, must come with every request signed with
	// this key, as AWS requires of temporary credentials.
	SessionToken string
	// Name is the file's section name, for logs: a name an operator
	// recognises where an access key id says little.
	Name string
}

// Store is a set of credentials by access key id. It is read-only once
// loaded, so any number of goroutines may use it.
type Store struct {
	byID map[string]Credential
}

// New returns a Store of creds. It refuses an empty access key id or
// secret and an access key id given twice.
func New(creds ...Credential) (*Store, error) {
	s := &Store{byID: make(map[string]Credential, len(creds))}
	for _, c := range creds {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, fmt.Errorf("awscreds: credential %q needs an access key id and a secret access key", c.Name)
		}
		if prev, dup := s.byID[c.AccessKeyID]; dup {
			return nil, fmt.Errorf("awscreds: access key id %s is in both [%s] and [%s]", c.AccessKeyID, prev.Name, c.Name)
		}
		s.byID[c.AccessKeyID] = c
	}
	return s, nil
}

// Lookup returns the credential of accessKeyID.
func (s *Store) Lookup(accessKeyID string) (Credential, bool) {
	c, ok := s.byID[accessKeyID]
	return c, ok
}

// AccessKeyIDs returns the access key ids, sorted: for a caller that
// attaches something to each key (iampolicy.Set).
func (s *Store) AccessKeyIDs() []string {
	ids := make([]string, 0, len(s.byID))
	for id := range s.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Len is the number of credentials.
func (s *Store) Len() int { return len(s.byID) }

// Load reads a shared-credentials file: [name] sections holding
// aws_access_key_id, aws_secret_access_key and, optionally,
// aws_session_token, as `key = value` lines; lines starting with # or ;
// are comments. Other keys (region, output, ...) are ignored, and so is a
// section without any of the three keys, so a file that also configures
// tools loads. A section with some of them but not both the key id and
// the secret is an error, as is a file that admits no one: a bridge told to
// check signatures against nothing would refuse every request. Errors name
// the file and line.
func Load(path string) (*Store, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("awscreds: %w", err)
	}
	creds, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("awscreds: %s:%w", path, err)
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("awscreds: %s: no credentials (want [name] sections with aws_access_key_id and aws_secret_access_key)", path)
	}
	s, err := New(creds...)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return s, nil
}

// lineError is a problem on one line of the file.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("%d: %s", e.line, e.msg) }

// section is a credential being read, with where its keys were.
type section struct {
	Credential
	line int  // of the [name] header
	seen bool // any of our keys
}

// Parse reads the shared-credentials format (see Load) and returns the
// credentials in file order. Errors start with the line number.
func Parse(b []byte) ([]Credential, error) {
	var (
		out    []Credential
		cur    *section
		names  = map[string]int{} // section name -> line
		nested bool               // the last key had no value: indented lines are its settings
	)
	finish := func() error {
		if cur == nil || !cur.seen {
			return nil
		}
		if cur.AccessKeyID == "" || cur.SecretAccessKey == "" {
			return &lineError{cur.line, fmt.Sprintf("section [%s] needs both aws_access_key_id and aws_secret_access_key", cur.Name)}
		}
		out = append(out, cur.Credential)
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		if n == 1 {
			raw = strings.TrimPrefix(raw, "\uFEFF") // a BOM some editors write
		}
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case nested && (raw[0] == ' ' || raw[0] == '\t'):
			// An indented line under a key with no value is a nested
			// setting (the config file's "s3 =" block), none of ours.
			continue
		case line[0] == '[':
			if err := finish(); err != nil {
				return nil, err
			}
			name, ok := strings.CutSuffix(line[1:], "]")
			name = strings.TrimSpace(name)
			if !ok || name == "" {
				return nil, &lineError{n, fmt.Sprintf("bad section header %q: want [name]", line)}
			}
			if prev, dup := names[name]; dup {
				return nil, &lineError{n, fmt.Sprintf("section [%s] again (first on line %d)", name, prev)}
			}
			names[name] = n
			cur, nested = &section{Credential: Credential{Name: name}, line: n}, false
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, &lineError{n, fmt.Sprintf("want key = value, a [section] or a comment; got %q", truncate(line))}
		}
		if cur == nil {
			return nil, &lineError{n, "key before the first [section]"}
		}
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		nested = val == "" && !isOurs(key)
		var dst *string
		switch key {
		case "aws_access_key_id":
			dst = &cur.AccessKeyID
		case "aws_secret_access_key":
			dst = &cur.SecretAccessKey
		case "aws_session_token":
			dst = &cur.SessionToken
		default:
			continue
		}
		if val == "" {
			return nil, &lineError{n, key + " is empty"}
		}
		if *dst != "" {
			return nil, &lineError{n, fmt.Sprintf("%s given twice in [%s]", key, cur.Name)}
		}
		*dst, cur.seen = val, true
	}
	if err := sc.Err(); err != nil {
		return nil, &lineError{n + 1, err.Error()}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return out, nil
}

func isOurs(key string) bool {
	return key == "aws_access_key_id" || key == "aws_secret_access_key" || key == "aws_session_token"
}

// truncate keeps error messages short: the line may be a secret pasted
// without its key, so at most a few characters of it are quoted.
func truncate(s string) string {
	if len(s) > 12 {
		return s[:12] + "..."
	}
	return s
}
