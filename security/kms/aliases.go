package kms

import (
	"sort"
	"strings"
	"time"
)

// awsAliasPrefix starts the aliases of AWS-managed keys, which only
// AWS (here: the keyring, on first use) creates.
const awsAliasPrefix = "alias/aws/"

func isAWSAlias(name string) bool { return strings.HasPrefix(name, awsAliasPrefix) }

// validAliasName reports whether name is "alias/" and 1 to 250 of KMS's
// alias characters (AliasName is at most 256 characters).
func validAliasName(name string) bool {
	rest, ok := strings.CutPrefix(name, "alias/")
	if !ok || rest == "" || len(name) > 256 {
		return false
	}
	for i := range len(rest) {
		switch c := rest[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '/', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// checkAliasName refuses a name users may not create, change or delete,
// with the errors AWS KMS gives.
func checkAliasName(name string) error {
	switch {
	case name == "":
		return errValidation("Value null at 'aliasName' failed to satisfy constraint: Member must not be null")
	case !strings.HasPrefix(name, "alias/"):
		return newError(CodeValidation, `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`)
	case isAWSAlias(name) || name == "alias/aws":
		return errReservedAlias(name)
	case strings.Contains(name, ":"):
		return newError(CodeValidation, "%s contains invalid characters for an alias", name)
	case !validAliasName(name):
		if name == "alias/" {
			return newError(CodeInvalidAliasName, "Alias name must not be empty")
		}
		return errValidation("Value '%s' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$", name)
	}
	return nil
}

// aliasTargetLocked resolves an alias's target: a customer managed key,
// named by key id or key ARN (not by another alias), not pending deletion.
func (k *Keyring) aliasTargetLocked(ref string) (*key, error) {
	if strings.HasPrefix(ref, "alias/") || strings.HasPrefix(ref, "arn:") && strings.Contains(ref, ":alias/") {
		return nil, newError(CodeValidation, "Aliases must refer to keys. Not aliases")
	}
	return k.manageLocked(ref, StatePendingDeletion)
}

// CreateAlias names a customer managed key.
func (k *Keyring) CreateAlias(name, targetRef string) error {
	if err := checkAliasName(name); err != nil {
		return err
	}
	return k.write(func() (bool, error) {
		ky, err := k.aliasTargetLocked(targetRef)
		if err != nil {
			return false, err
		}
		if k.aliases[name] != nil {
			return false, newError(CodeAlreadyExists, "An alias with the name %s already exists", k.AliasARN(name))
		}
		now := utc(k.now())
		k.aliases[name] = &alias{Name: name, TargetKeyID: ky.ID, Created: now, LastUpdated: now}
		k.gen.Add(1)
		return true, nil
	})
}

// UpdateAlias points an existing alias at another customer managed key:
// new blobs made through the alias use that key; old blobs name the key
// that made them and stay readable.
func (k *Keyring) UpdateAlias(name, targetRef string) error {
	if err := checkAliasName(name); err != nil {
		return err
	}
	return k.write(func() (bool, error) {
		a := k.aliases[name]
		if a == nil {
			return false, errAliasNotFound(k.AliasARN(name))
		}
		ky, err := k.aliasTargetLocked(targetRef)
		if err != nil {
			return false, err
		}
		a.TargetKeyID, a.LastUpdated = ky.ID, utc(k.now())
		k.gen.Add(1)
		return true, nil
	})
}

// DeleteAlias removes an alias; its key is unchanged.
func (k *Keyring) DeleteAlias(name string) error {
	if err := checkAliasName(name); err != nil {
		return err
	}
	return k.write(func() (bool, error) {
		if k.aliases[name] == nil {
			return false, errAliasNotFound(k.AliasARN(name))
		}
		delete(k.aliases, name)
		k.gen.Add(1)
		return true, nil
	})
}

// AliasListEntry is an entry of ListAliases.
type AliasListEntry struct {
	AliasName       string
	AliasArn        string
	TargetKeyID     string
	CreationDate    time.Time
	LastUpdatedDate time.Time
}

// ListAliases lists the aliases sorted by name: all of them, or those of
// the key keyRef names if it is not empty. The AWS-managed aliases not yet
// used are not listed (AWS lists them without a target key).
func (k *Keyring) ListAliases(keyRef string) ([]AliasListEntry, error) {
	var out []AliasListEntry
	err := k.read(func() error {
		target := ""
		if keyRef != "" {
			ky, _, err := k.resolve(keyRef, false)
			if err != nil {
				return err
			}
			target = ky.ID
		}
		for _, a := range k.sortedAliases() {
			if target == "" || a.TargetKeyID == target {
				out = append(out, AliasListEntry{AliasName: a.Name, AliasArn: k.AliasARN(a.Name), TargetKeyID: a.TargetKeyID, CreationDate: a.Created, LastUpdatedDate: a.LastUpdated})
			}
		}
		return nil
	})
	return out, err
}

func (k *Keyring) sortedAliases() []*alias {
	out := make([]*alias, 0, len(k.aliases))
	for _, a := range k.aliases {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
