package kms

import (
	"sort"
	"strings"
	"time"
)

// KeyMetadata describes a key with AWS KMS's KeyMetadata fields.
type KeyMetadata struct {
	AWSAccountID string
	KeyID        string
	Arn          string
	CreationDate time.Time
	Enabled      bool
	Description  string
	KeyUsage     string
	KeyState     string
	// DeletionDate and PendingDeletionWindowInDays are set while the key
	// is pending deletion.
	DeletionDate                time.Time
	PendingDeletionWindowInDays int
	Origin                      string
	KeyManager                  string
	KeySpec                     string
	EncryptionAlgorithms        []string
	CurrentKeyMaterialID        string
	MultiRegion                 bool
}

func (k *Keyring) metadataLocked(ky *key) KeyMetadata {
	md := KeyMetadata{
		AWSAccountID: k.account, KeyID: ky.ID, Arn: k.KeyARN(ky.ID),
		CreationDate: ky.Created, Enabled: ky.State == StateEnabled,
		Description: ky.Description, KeyUsage: UsageEncryptDecrypt, KeyState: ky.State,
		Origin: OriginAWSKMS, KeyManager: ky.Manager, KeySpec: SpecSymmetric,
		EncryptionAlgorithms: []string{AlgorithmSymmetric},
		CurrentKeyMaterialID: ky.current().ID,
	}
	if ky.State == StatePendingDeletion {
		md.DeletionDate = ky.DeletionDate
		md.PendingDeletionWindowInDays = ky.PendingWindowInDays
	}
	return md
}

// Tag is a key's tag, as KMS names its fields.
type Tag struct {
	TagKey   string
	TagValue string
}

// CreateKeyInput is AWS KMS's CreateKey request. Only symmetric
// encryption keys of KMS's own material exist here: KeyUsage, KeySpec
// and Origin may be empty or say so, anything else is unsupported.
type CreateKeyInput struct {
	Description string
	Tags        []Tag
	KeyUsage    string
	KeySpec     string
	Origin      string
	MultiRegion bool
}

// maxDescription is the longest description KMS accepts.
const maxDescription = 8192

// CreateKey creates a customer managed key, enabled, with one key
// material and automatic rotation off (as AWS KMS does).
func (k *Keyring) CreateKey(in CreateKeyInput) (KeyMetadata, error) {
	switch {
	case len(in.Description) > maxDescription:
		return KeyMetadata{}, errValidation("Value at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", maxDescription)
	case in.KeyUsage != "" && in.KeyUsage != UsageEncryptDecrypt:
		return KeyMetadata{}, newError(CodeUnsupportedOperation, "KeyUsage %s is not supported: this KMS keeps symmetric encryption keys only", in.KeyUsage)
	case in.KeySpec != "" && in.KeySpec != SpecSymmetric:
		return KeyMetadata{}, newError(CodeUnsupportedOperation, "KeySpec %s is not supported: this KMS keeps symmetric encryption keys only", in.KeySpec)
	case in.Origin != "" && in.Origin != OriginAWSKMS:
		return KeyMetadata{}, newError(CodeUnsupportedOperation, "Origin %s is not supported: this KMS makes its own key material", in.Origin)
	case in.MultiRegion:
		return KeyMetadata{}, newError(CodeUnsupportedOperation, "Multi-Region keys are not supported")
	}
	tags := map[string]string{}
	if err := mergeTags(tags, in.Tags); err != nil {
		return KeyMetadata{}, err
	}
	if len(tags) == 0 {
		tags = nil
	}
	var md KeyMetadata
	err := k.write(func() (bool, error) {
		ky := k.newKeyLocked(ManagerCustomer, in.Description, tags)
		md = k.metadataLocked(ky)
		return true, nil
	})
	return md, err
}

// DescribeKey describes the key ref names (any reference form). An
// AWS-managed alias not yet in use creates its key, as in AWS KMS.
func (k *Keyring) DescribeKey(ref string) (KeyMetadata, error) {
	var md KeyMetadata
	err := k.write(func() (bool, error) {
		ky, changed, err := k.resolve(ref, true)
		if err == nil {
			md = k.metadataLocked(ky)
		}
		return changed, err
	})
	return md, err
}

// KeyListEntry is an entry of ListKeys.
type KeyListEntry struct {
	KeyID  string
	KeyArn string
}

// ListKeys lists every key, pending deletion included, sorted by key id
// (the API pages through it).
func (k *Keyring) ListKeys() []KeyListEntry {
	var out []KeyListEntry
	_ = k.read(func() error {
		for _, ky := range k.sortedKeys() {
			out = append(out, KeyListEntry{KeyID: ky.ID, KeyArn: k.KeyARN(ky.ID)})
		}
		return nil
	})
	return out
}

// manageLocked resolves ref for a change of the key: AWS-managed keys
// are refused (AWS manages them), and so are keys in the states that
// refuse the change: a state in refuse answers with its usual error.
func (k *Keyring) manageLocked(ref string, refuse ...string) (*key, error) {
	ky, _, err := k.resolve(ref, false)
	if err != nil {
		return nil, err
	}
	if ky.Manager == ManagerAWS {
		return nil, errAWSManaged(k.KeyARN(ky.ID))
	}
	for _, s := range refuse {
		if ky.State == s {
			return nil, k.usableLocked(ky)
		}
	}
	return ky, nil
}

// EnableKey lets a disabled key encrypt and decrypt again.
func (k *Keyring) EnableKey(ref string) error {
	return k.write(func() (bool, error) {
		ky, err := k.manageLocked(ref, StatePendingDeletion)
		if err != nil || ky.State == StateEnabled {
			return false, err
		}
		ky.State = StateEnabled
		k.gen.Add(1)
		return true, nil
	})
}

// DisableKey stops a key from encrypting and decrypting until EnableKey.
func (k *Keyring) DisableKey(ref string) error {
	return k.write(func() (bool, error) {
		ky, err := k.manageLocked(ref, StatePendingDeletion)
		if err != nil || ky.State == StateDisabled {
			return false, err
		}
		ky.State = StateDisabled
		k.gen.Add(1)
		return true, nil
	})
}

// ScheduleKeyDeletion puts a key in PendingDeletion for days (7..30, 0
// for 30): it refuses to encrypt and decrypt, and once the deletion date
// passes it is gone with its key material and aliases, and whatever it
// encrypted with it for good. The metadata returned has the deletion date.
func (k *Keyring) ScheduleKeyDeletion(ref string, days int) (KeyMetadata, error) {
	if days == 0 {
		days = DefaultPendingWindowDays
	}
	if days < MinPendingWindowDays || days > MaxPendingWindowDays {
		return KeyMetadata{}, errIntRange("pendingWindowInDays", days, MinPendingWindowDays, MaxPendingWindowDays)
	}
	var md KeyMetadata
	err := k.write(func() (bool, error) {
		ky, err := k.manageLocked(ref, StatePendingDeletion)
		if err != nil {
			return false, err
		}
		ky.State = StatePendingDeletion
		ky.PendingWindowInDays = days
		ky.DeletionDate = utc(k.now()).Add(time.Duration(days) * day)
		k.gen.Add(1)
		md = k.metadataLocked(ky)
		return true, nil
	})
	return md, err
}

// CancelKeyDeletion takes a key out of PendingDeletion; it is Disabled
// afterwards, as in AWS KMS.
func (k *Keyring) CancelKeyDeletion(ref string) (KeyMetadata, error) {
	var md KeyMetadata
	err := k.write(func() (bool, error) {
		ky, err := k.manageLocked(ref)
		if err != nil {
			return false, err
		}
		if ky.State != StatePendingDeletion {
			return false, newError(CodeInvalidState, "%s is not pending deletion.", k.KeyARN(ky.ID))
		}
		ky.State = StateDisabled
		ky.DeletionDate, ky.PendingWindowInDays = time.Time{}, 0
		k.gen.Add(1)
		md = k.metadataLocked(ky)
		return true, nil
	})
	return md, err
}

// EnableKeyRotation turns automatic rotation on, every periodDays
// (90..2560, 0 for 365). Turned on, the first rotation is a period from
// now; already on, the new period counts from the last rotation.
func (k *Keyring) EnableKeyRotation(ref string, periodDays int) error {
	if periodDays == 0 {
		periodDays = DefaultRotationPeriodDays
	}
	if periodDays < MinRotationPeriodDays || periodDays > MaxRotationPeriodDays {
		return errIntRange("rotationPeriodInDays", periodDays, MinRotationPeriodDays, MaxRotationPeriodDays)
	}
	return k.write(func() (bool, error) {
		ky, err := k.manageLocked(ref, StateDisabled, StatePendingDeletion)
		if err != nil {
			return false, err
		}
		from := utc(k.now())
		if ky.RotationEnabled {
			from = ky.current().Created
		}
		ky.RotationEnabled = true
		ky.RotationPeriodInDays = periodDays
		ky.NextRotation = from.Add(time.Duration(periodDays) * day)
		return true, nil
	})
}

// DisableKeyRotation turns automatic rotation off.
func (k *Keyring) DisableKeyRotation(ref string) error {
	return k.write(func() (bool, error) {
		ky, err := k.manageLocked(ref, StateDisabled, StatePendingDeletion)
		if err != nil || !ky.RotationEnabled {
			return false, err
		}
		ky.RotationEnabled, ky.RotationPeriodInDays, ky.NextRotation = false, 0, time.Time{}
		return true, nil
	})
}

// RotationStatus is AWS KMS's GetKeyRotationStatus response.
type RotationStatus struct {
	KeyID                string // the key's ARN, as KMS answers
	KeyRotationEnabled   bool
	RotationPeriodInDays int       // 0 when rotation is off
	NextRotationDate     time.Time // zero when rotation is off
}

// GetKeyRotationStatus says whether and when the key rotates automatically.
func (k *Keyring) GetKeyRotationStatus(ref string) (RotationStatus, error) {
	var st RotationStatus
	err := k.read(func() error {
		ky, _, err := k.resolve(ref, false)
		if err != nil {
			return err
		}
		if ky.State == StatePendingDeletion {
			return errPendingDeletion(k.KeyARN(ky.ID))
		}
		st = RotationStatus{KeyID: k.KeyARN(ky.ID), KeyRotationEnabled: ky.RotationEnabled}
		if ky.RotationEnabled {
			st.RotationPeriodInDays, st.NextRotationDate = ky.RotationPeriodInDays, ky.NextRotation
		}
		return nil
	})
	return st, err
}

// RotateKeyOnDemand rotates the key now: new blobs use a new key
// material, old ones stay readable. At most MaxOnDemandRotations times per
// key, as in AWS KMS; the automatic schedule is unchanged.
func (k *Keyring) RotateKeyOnDemand(ref string) (keyID string, err error) {
	err = k.write(func() (bool, error) {
		ky, err := k.manageLocked(ref, StateDisabled, StatePendingDeletion)
		if err != nil {
			return false, err
		}
		n := 0
		for _, m := range ky.Materials {
			if m.RotationType == RotationOnDemand {
				n++
			}
		}
		if n >= MaxOnDemandRotations {
			return false, newError(CodeLimitExceeded, "The on-demand rotations limit has been reached for the given key")
		}
		k.rotateLocked(ky, RotationOnDemand, utc(k.now()))
		keyID = ky.ID
		return true, nil
	})
	return keyID, err
}

// Rotation is an entry of ListKeyRotations: a key material that replaced
// another.
type Rotation struct {
	KeyID         string
	KeyMaterialID string
	RotationDate  time.Time
	RotationType  string // AUTOMATIC or ON_DEMAND
}

// ListKeyRotations lists the key's rotations, oldest first (the first key
// material is not a rotation).
func (k *Keyring) ListKeyRotations(ref string) ([]Rotation, error) {
	var out []Rotation
	err := k.read(func() error {
		ky, _, err := k.resolve(ref, false)
		if err != nil {
			return err
		}
		for _, m := range ky.Materials[1:] {
			out = append(out, Rotation{KeyID: ky.ID, KeyMaterialID: m.ID, RotationDate: m.Created, RotationType: m.RotationType})
		}
		return nil
	})
	return out, err
}

// maxTags is how many tags a key may have in AWS KMS.
const maxTags = 50

// mergeTags adds tags to m, checking them as KMS does.
func mergeTags(m map[string]string, tags []Tag) error {
	for _, t := range tags {
		switch {
		case len(t.TagKey) < 1 || len(t.TagKey) > 128:
			return errValidation("Value '%s' at 'tags.member.tagKey' failed to satisfy constraint: Member must have length between 1 and 128", t.TagKey)
		case len(t.TagValue) > 256:
			return errValidation("Value at 'tags.member.tagValue' failed to satisfy constraint: Member must have length less than or equal to 256")
		case strings.HasPrefix(t.TagKey, "aws:"):
			return newError(CodeTag, "Tags beginning with aws: are reserved")
		}
		m[t.TagKey] = t.TagValue
	}
	if len(m) > maxTags {
		return newError(CodeLimitExceeded, "A KMS key can have at most %d tags", maxTags)
	}
	return nil
}

// TagResource adds or replaces tags of a customer managed key.
func (k *Keyring) TagResource(ref string, tags []Tag) error {
	return k.write(func() (bool, error) {
		ky, err := k.manageLocked(ref, StatePendingDeletion)
		if err != nil {
			return false, err
		}
		m := map[string]string{}
		for key, v := range ky.Tags {
			m[key] = v
		}
		if err := mergeTags(m, tags); err != nil {
			return false, err
		}
		ky.Tags = m
		return true, nil
	})
}

// UntagResource removes tags (by key) of a customer managed key.
func (k *Keyring) UntagResource(ref string, tagKeys []string) error {
	return k.write(func() (bool, error) {
		ky, err := k.manageLocked(ref, StatePendingDeletion)
		if err != nil {
			return false, err
		}
		for _, t := range tagKeys {
			delete(ky.Tags, t)
		}
		if len(ky.Tags) == 0 {
			ky.Tags = nil
		}
		return true, nil
	})
}

// ListResourceTags lists the key's tags, sorted by key.
func (k *Keyring) ListResourceTags(ref string) ([]Tag, error) {
	var out []Tag
	err := k.read(func() error {
		ky, _, err := k.resolve(ref, false)
		if err != nil {
			return err
		}
		for key, v := range ky.Tags {
			out = append(out, Tag{TagKey: key, TagValue: v})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].TagKey < out[j].TagKey })
		return nil
	})
	return out, err
}
