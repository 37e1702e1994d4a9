package iampolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Set is the identity policies attached to each access key, and the IAM
// user each key is. Keys are access key ids, the principal the SigV4
// check hands the APIs (awsapi.PrincipalFrom): the same key, not the
// credentials-file section name, so a policy follows the key it was
// written for even when sections are renamed. It is read-only once built
// and safe for concurrent use.
type Set struct {
	account string
	keys    map[string]*attached
}

type attached struct {
	principal Principal
	policies  []*Policy
}

// NewSet returns an empty Set for the bridge's account.
func NewSet(account string) *Set {
	return &Set{account: account, keys: map[string]*attached{}}
}

// AddKey declares an access key and its IAM user name (the credentials
// file's section name), with the policies attached to it, if any. A key
// never added is decided as user KEYID with no policies.
func (s *Set) AddKey(accessKeyID, userName string, policies ...*Policy) {
	a := s.keys[accessKeyID]
	if a == nil {
		a = &attached{}
		s.keys[accessKeyID] = a
	}
	a.principal = UserPrincipal(s.account, userName)
	a.policies = append(a.policies, policies...)
}

// Principal returns the IAM principal of an access key.
func (s *Set) Principal(accessKeyID string) Principal {
	if a := s.keys[accessKeyID]; a != nil {
		return a.principal
	}
	return UserPrincipal(s.account, accessKeyID)
}

// Decide evaluates action on resource by the key's identity policies and
// the resource's policy (nil for none).
func (s *Set) Decide(accessKeyID, action, resource string, resourcePolicy *Policy) (Principal, Decision) {
	p := s.Principal(accessKeyID)
	var identity []*Policy
	if a := s.keys[accessKeyID]; a != nil {
		identity = a.policies
	}
	return p, Evaluate(identity, resourcePolicy, Request{Principal: p, Action: action, Resource: resource})
}

// LoadFile reads a policies file: a YAML (or JSON, which is YAML) mapping
// from access key id to a list of identity policies, each either a policy
// document written inline (as YAML or JSON) or the path of a JSON policy
// document file, relative to the policies file's directory:
//
//	AKIAPRODUCERS0000001:
//	  - Version: "2012-10-17"
//	    Statement:
//	      - Effect: Allow
//	        Action: ["kinesis:PutRecord", "kinesis:PutRecords"]
//	        Resource: arn:aws:kinesis:us-east-1:000000000000:stream/orders
//	  - policies/read-queues.json
//
// Every document is parsed now: an error names the file, the key and the
// policy's index.
func LoadFile(path string) (map[string][]*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var top map[string][]yaml.Node
	if err := yaml.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("%s: want a mapping from access key id to a list of policies: %w", path, err)
	}
	if len(top) == 0 {
		return nil, fmt.Errorf("%s: no access keys", path)
	}
	out := make(map[string][]*Policy, len(top))
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs []error
	for _, key := range keys {
		if strings.TrimSpace(key) == "" {
			errs = append(errs, fmt.Errorf("%s: an empty access key id", path))
			continue
		}
		out[key] = make([]*Policy, 0, len(top[key])) // a key with no policies is still named
		for i, n := range top[key] {
			doc, where, err := document(&n, filepath.Dir(path))
			if err == nil {
				var p *Policy
				if p, err = Parse(doc, Identity); err == nil {
					out[key] = append(out[key], p)
					continue
				}
			}
			errs = append(errs, fmt.Errorf("%s: %s: policy %d%s (line %d): %w", path, key, i, where, n.Line, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// document returns the JSON of a policy list entry: the file a string
// names, or the inline document re-encoded.
func document(n *yaml.Node, dir string) (doc []byte, where string, err error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		file := n.Value
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		doc, err = os.ReadFile(file)
		return doc, " " + file, err
	}
	if n.Kind != yaml.MappingNode {
		return nil, "", errors.New("want a policy document or the path of one")
	}
	v, err := plain(n)
	if err != nil {
		return nil, "", err
	}
	doc, err = json.Marshal(v)
	return doc, "", err
}

// plain is a YAML node as JSON values, with every scalar that YAML would
// read as a timestamp kept as written: Version: 2012-10-17 unquoted is a
// date to YAML and a string to IAM.
func plain(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return plain(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := plain(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := plain(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	}
	if n.Tag == "!!timestamp" || n.Tag == "!!str" {
		return n.Value, nil
	}
	var v any
	err := n.Decode(&v)
	return v, err
}
