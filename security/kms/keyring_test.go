package kms

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/streambridge/bridge/store"
)

const (
	region  = "us-east-1"
	account = "000000000000"
)

// clock is a fake clock tests move forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// open opens the keyring file in dir with the clock.
func open(t *testing.T, dir string, c *clock) *Keyring {
	t.Helper()
	k, err := Open(filepath.Join(dir, "keyring.json"), region, account, WithClock(c.now), WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func createKey(t *testing.T, k *Keyring) KeyMetadata {
	t.Helper()
	md, err := k.CreateKey(CreateKeyInput{Description: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// wantCode fails unless err is a *Error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func TestDataKeyRoundTrip(t *testing.T) {
	ctx := context.Background()
	k := open(t, t.TempDir(), newClock())
	md := createKey(t, k)
	dk, err := k.GenerateDataKey(ctx, md.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if len(dk.Plaintext) != 32 || dk.KeyARN != md.Arn {
		t.Fatalf("data key %d bytes, ARN %s; want 32, %s", len(dk.Plaintext), dk.KeyARN, md.Arn)
	}
	got, err := k.Decrypt(ctx, dk.Wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Plaintext, dk.Plaintext) || got.KeyARN != md.Arn || !bytes.Equal(got.Wrapped, dk.Wrapped) {
		t.Fatalf("Decrypt = %+v, want %+v", got, dk)
	}
	if dk2, _ := k.GenerateDataKey(ctx, md.KeyID); bytes.Equal(dk2.Plaintext, dk.Plaintext) {
		t.Fatal("two data keys alike")
	}
}

func TestReferenceForms(t *testing.T) {
	ctx := context.Background()
	k := open(t, t.TempDir(), newClock())
	md := createKey(t, k)
	if err := k.CreateAlias("alias/mine", md.KeyID); err != nil {
		t.Fatal(err)
	}
	arnOf := func(r, a, res string) string { return "arn:aws:kms:" + r + ":" + a + ":" + res }
	for _, tc := range []struct {
		name, ref string
		code      string // "" for the key
	}{
		{"key id", md.KeyID, ""},
		{"key ARN", md.Arn, ""},
		{"alias name", "alias/mine", ""},
		{"alias ARN", arnOf(region, account, "alias/mine"), ""},
		{"unknown key id", "11111111-2222-4333-8444-555555555555", CodeNotFound},
		{"unknown alias", "alias/other", CodeNotFound},
		{"key ARN of another region", arnOf("eu-west-1", account, "key/"+md.KeyID), CodeNotFound},
		{"key ARN of another account", arnOf(region, "111111111111", "key/"+md.KeyID), CodeNotFound},
		{"alias ARN of another account", arnOf(region, "111111111111", "alias/mine"), CodeNotFound},
		{"upper-case key id", "ABCDEFAB-2222-4333-8444-555555555555", CodeNotFound},
		{"not a key id", "my-key", CodeNotFound},
		{"ARN of another service", "arn:aws:sqs:us-east-1:000000000000:key/" + md.KeyID, CodeInvalidArn},
		{"ARN of no key", arnOf(region, account, "grant/x"), CodeInvalidArn},
		{"empty", "", CodeValidation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dk, err := k.GenerateDataKey(ctx, tc.ref)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil || dk.KeyARN != md.Arn {
				t.Fatalf("GenerateDataKey(%s) = %s, %v; want %s", tc.ref, dk.KeyARN, err, md.Arn)
			}
			got, err := k.DescribeKey(tc.ref)
			if err != nil || got.KeyID != md.KeyID {
				t.Fatalf("DescribeKey(%s) = %s, %v", tc.ref, got.KeyID, err)
			}
		})
	}
	if _, err := k.GenerateDataKey(ctx, "alias/other"); !errors.Is(err, store.ErrKeyNotFound) {
		t.Fatalf("unknown alias: %v, want store.ErrKeyNotFound", err)
	}
}

func TestAWSManagedAlias(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := open(t, dir, newClock())
	before := k.Generation()
	dk, err := k.GenerateDataKey(ctx, "alias/aws/kinesis")
	if err != nil {
		t.Fatal(err)
	}
	md, err := k.DescribeKey("alias/aws/kinesis")
	if err != nil || md.Arn != dk.KeyARN || md.KeyManager != ManagerAWS || md.KeyState != StateEnabled {
		t.Fatalf("DescribeKey = %+v, %v", md, err)
	}
	if k.Generation() != before {
		t.Fatal("creating an AWS managed key changed the generation")
	}
	st, err := k.GetKeyRotationStatus(md.KeyID)
	if err != nil || !st.KeyRotationEnabled || st.RotationPeriodInDays != 365 {
		t.Fatalf("AWS managed key's rotation: %+v, %v; want yearly", st, err)
	}
	// The same alias names the same key, also after a reopen; another
	// service's alias another key.
	if again, _ := open(t, dir, newClock()).DescribeKey("alias/aws/kinesis"); again.KeyID != md.KeyID {
		t.Fatalf("reopened: alias/aws/kinesis is %s, want %s", again.KeyID, md.KeyID)
	}
	if sqs, _ := k.DescribeKey("alias/aws/sqs"); sqs.KeyID == md.KeyID || sqs.KeyManager != ManagerAWS {
		t.Fatalf("alias/aws/sqs = %+v", sqs)
	}
	// Decrypt and ListAliases name no key into being.
	if _, err := k.ListAliases("alias/aws/kafka"); !errors.Is(err, store.ErrKeyNotFound) {
		t.Fatalf("ListAliases of an unused AWS alias: %v", err)
	}

	customer := createKey(t, k)
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"CreateAlias under alias/aws/", func() error { return k.CreateAlias("alias/aws/mine", customer.KeyID) }, CodeNotAuthorized},
		{"UpdateAlias under alias/aws/", func() error { return k.UpdateAlias("alias/aws/kinesis", customer.KeyID) }, CodeNotAuthorized},
		{"DeleteAlias under alias/aws/", func() error { return k.DeleteAlias("alias/aws/kinesis") }, CodeNotAuthorized},
		{"alias to an AWS managed key", func() error { return k.CreateAlias("alias/mine", md.KeyID) }, CodeUnsupportedOperation},
		{"DisableKey", func() error { return k.DisableKey(md.KeyID) }, CodeUnsupportedOperation},
		{"EnableKey", func() error { return k.EnableKey(md.KeyID) }, CodeUnsupportedOperation},
		{"ScheduleKeyDeletion", func() error { _, err := k.ScheduleKeyDeletion(md.KeyID, 7); return err }, CodeUnsupportedOperation},
		{"RotateKeyOnDemand", func() error { _, err := k.RotateKeyOnDemand(md.KeyID); return err }, CodeUnsupportedOperation},
		{"DisableKeyRotation", func() error { return k.DisableKeyRotation(md.KeyID) }, CodeUnsupportedOperation},
		{"TagResource", func() error { return k.TagResource(md.KeyID, []Tag{{"a", "b"}}) }, CodeUnsupportedOperation},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
}

func TestAliases(t *testing.T) {
	k := open(t, t.TempDir(), newClock())
	a, b := createKey(t, k), createKey(t, k)
	if err := k.CreateAlias("alias/x", a.KeyID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"twice", func() error { return k.CreateAlias("alias/x", b.KeyID) }, CodeAlreadyExists},
		{"no prefix", func() error { return k.CreateAlias("x", a.KeyID) }, CodeValidation},
		{"bad character", func() error { return k.CreateAlias("alias/a b", a.KeyID) }, CodeValidation},
		{"empty name", func() error { return k.CreateAlias("alias/", a.KeyID) }, CodeInvalidAliasName},
		{"to an alias", func() error { return k.CreateAlias("alias/y", "alias/x") }, CodeValidation},
		{"to no key", func() error { return k.CreateAlias("alias/y", "11111111-2222-4333-8444-555555555555") }, CodeNotFound},
		{"update no alias", func() error { return k.UpdateAlias("alias/none", a.KeyID) }, CodeNotFound},
		{"delete no alias", func() error { return k.DeleteAlias("alias/none") }, CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
	gen := k.Generation()
	if err := k.UpdateAlias("alias/x", b.KeyID); err != nil {
		t.Fatal(err)
	}
	if k.Generation() == gen {
		t.Error("UpdateAlias left the generation")
	}
	if md, _ := k.DescribeKey("alias/x"); md.KeyID != b.KeyID {
		t.Fatalf("alias/x names %s after UpdateAlias, want %s", md.KeyID, b.KeyID)
	}
	if l, _ := k.ListAliases(a.KeyID); len(l) != 0 {
		t.Fatalf("aliases of a: %+v", l)
	}
	if l, _ := k.ListAliases(b.Arn); len(l) != 1 || l[0].AliasName != "alias/x" || l[0].AliasArn != "arn:aws:kms:us-east-1:000000000000:alias/x" {
		t.Fatalf("aliases of b: %+v", l)
	}
	if err := k.DeleteAlias("alias/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.DescribeKey("alias/x"); !errors.Is(err, store.ErrKeyNotFound) {
		t.Fatalf("deleted alias: %v", err)
	}
}

func TestRotationKeepsOldBlobsReadable(t *testing.T) {
	ctx := context.Background()
	k := open(t, t.TempDir(), newClock())
	md := createKey(t, k)
	old, err := k.GenerateDataKey(ctx, md.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	gen := k.Generation()
	if _, err := k.RotateKeyOnDemand(md.KeyID); err != nil {
		t.Fatal(err)
	}
	if k.Generation() == gen {
		t.Fatal("rotation left the generation")
	}
	rot, err := k.ListKeyRotations(md.KeyID)
	if err != nil || len(rot) != 1 || rot[0].RotationType != RotationOnDemand {
		t.Fatalf("ListKeyRotations = %+v, %v", rot, err)
	}
	next, err := k.GenerateDataKey(ctx, md.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	oldH, _ := parseBlob(old.Wrapped)
	newH, _ := parseBlob(next.Wrapped)
	if oldH.keyID != md.KeyID || newH.keyID != md.KeyID || newH.materialID != rot[0].KeyMaterialID || oldH.materialID == newH.materialID {
		t.Fatalf("blob headers: old %+v, new %+v; rotation %+v", oldH, newH, rot[0])
	}
	for _, dk := range []store.DataKey{old, next} {
		if got, err := k.Decrypt(ctx, dk.Wrapped); err != nil || !bytes.Equal(got.Plaintext, dk.Plaintext) {
			t.Fatalf("Decrypt after rotation: %v", err)
		}
	}
	for range MaxOnDemandRotations - 1 {
		if _, err := k.RotateKeyOnDemand(md.KeyID); err != nil {
			t.Fatal(err)
		}
	}
	_, err = k.RotateKeyOnDemand(md.KeyID)
	wantCode(t, err, CodeLimitExceeded)
}

func TestAutomaticRotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := newClock()
	k := open(t, dir, c)
	md := createKey(t, k)
	for _, tc := range []struct {
		days int
		code string
	}{{89, CodeValidation}, {2561, CodeValidation}, {90, ""}} {
		err := k.EnableKeyRotation(md.KeyID, tc.days)
		if tc.code != "" {
			wantCode(t, err, tc.code)
		} else if err != nil {
			t.Fatal(err)
		}
	}
	st, _ := k.GetKeyRotationStatus(md.KeyID)
	if want := c.now().Add(90 * day); !st.KeyRotationEnabled || !st.NextRotationDate.Equal(want) {
		t.Fatalf("rotation status %+v, want next %v", st, want)
	}
	first, _ := k.GenerateDataKey(ctx, md.KeyID)

	c.add(89 * day)
	if rot, _ := k.ListKeyRotations(md.KeyID); len(rot) != 0 {
		t.Fatalf("rotated early: %+v", rot)
	}
	c.add(day)
	gen := k.Generation()
	// A use of the key rotates it when due, reads included.
	if _, err := k.Decrypt(ctx, first.Wrapped); err != nil {
		t.Fatal(err)
	}
	rot, _ := k.ListKeyRotations(md.KeyID)
	if len(rot) != 1 || rot[0].RotationType != RotationAutomatic || k.Generation() == gen {
		t.Fatalf("after 90 days: rotations %+v, generation %d (was %d)", rot, k.Generation(), gen)
	}
	if st, _ := k.GetKeyRotationStatus(md.KeyID); !st.NextRotationDate.Equal(c.now().Add(90 * day)) {
		t.Fatalf("next rotation %v", st.NextRotationDate)
	}

	// Open rotates what came due while the keyring was closed.
	c.add(91 * day)
	k = open(t, dir, c)
	if rot, _ := k.ListKeyRotations(md.KeyID); len(rot) != 2 {
		t.Fatalf("after reopen: %d rotations, want 2", len(rot))
	}
	if err := k.DisableKeyRotation(md.KeyID); err != nil {
		t.Fatal(err)
	}
	c.add(400 * day)
	if rot, _ := k.ListKeyRotations(md.KeyID); len(rot) != 2 {
		t.Fatalf("rotation off: %d rotations, want 2", len(rot))
	}
	if got, err := k.Decrypt(ctx, first.Wrapped); err != nil || !bytes.Equal(got.Plaintext, first.Plaintext) {
		t.Fatalf("first data key after two rotations: %v", err)
	}
}

func TestDisabledKey(t *testing.T) {
	ctx := context.Background()
	k := open(t, t.TempDir(), newClock())
	md := createKey(t, k)
	dk, _ := k.GenerateDataKey(ctx, md.KeyID)
	gen := k.Generation()
	if err := k.DisableKey(md.KeyID); err != nil {
		t.Fatal(err)
	}
	if k.Generation() == gen {
		t.Fatal("DisableKey left the generation")
	}
	_, err := k.GenerateDataKey(ctx, md.KeyID)
	if !errors.Is(err, store.ErrKeyDisabled) {
		t.Fatalf("GenerateDataKey: %v, want ErrKeyDisabled", err)
	}
	wantCode(t, err, CodeDisabled)
	if _, err := k.Decrypt(ctx, dk.Wrapped); !errors.Is(err, store.ErrKeyDisabled) {
		t.Fatalf("Decrypt: %v, want ErrKeyDisabled", err)
	}
	wantCode(t, k.EnableKeyRotation(md.KeyID, 0), CodeDisabled)
	if err := k.EnableKey(md.KeyID); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Decrypt(ctx, dk.Wrapped); err != nil {
		t.Fatalf("Decrypt after EnableKey: %v", err)
	}
}

func TestScheduledDeletion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := newClock()
	k := open(t, dir, c)
	md := createKey(t, k)
	if err := k.CreateAlias("alias/doomed", md.KeyID); err != nil {
		t.Fatal(err)
	}
	dk, _ := k.GenerateDataKey(ctx, md.KeyID)
	for _, days := range []int{6, 31} {
		_, err := k.ScheduleKeyDeletion(md.KeyID, days)
		wantCode(t, err, CodeValidation)
	}
	sched, err := k.ScheduleKeyDeletion(md.KeyID, 7)
	if err != nil || sched.KeyState != StatePendingDeletion || !sched.DeletionDate.Equal(c.now().Add(7*day)) || sched.PendingDeletionWindowInDays != 7 {
		t.Fatalf("ScheduleKeyDeletion = %+v, %v", sched, err)
	}
	if _, err := k.GenerateDataKey(ctx, md.KeyID); !errors.Is(err, store.ErrKeyInvalidState) {
		t.Fatalf("GenerateDataKey: %v, want ErrKeyInvalidState", err)
	}
	if _, err := k.Decrypt(ctx, dk.Wrapped); !errors.Is(err, store.ErrKeyInvalidState) {
		t.Fatalf("Decrypt: %v, want ErrKeyInvalidState", err)
	}
	wantCode(t, k.EnableKey(md.KeyID), CodeInvalidState)

	// Cancelled, the key is disabled, as in AWS KMS.
	if md2, err := k.CancelKeyDeletion(md.KeyID); err != nil || md2.KeyState != StateDisabled {
		t.Fatalf("CancelKeyDeletion = %+v, %v", md2, err)
	}
	_, err = k.CancelKeyDeletion(md.KeyID)
	wantCode(t, err, CodeInvalidState)
	if _, err := k.ScheduleKeyDeletion(md.KeyID, 0); err != nil {
		t.Fatal(err)
	}

	c.add(30*day - time.Second)
	if _, err := k.Decrypt(ctx, dk.Wrapped); !errors.Is(err, store.ErrKeyInvalidState) {
		t.Fatalf("a second before the deletion date: %v", err)
	}
	c.add(time.Second)
	gen := k.Generation()
	if _, err := k.Decrypt(ctx, dk.Wrapped); !errors.Is(err, store.ErrKeyNotFound) {
		t.Fatalf("Decrypt after the deletion date: %v, want ErrKeyNotFound", err)
	}
	if k.Generation() == gen {
		t.Fatal("deletion left the generation")
	}
	if _, err := k.DescribeKey("alias/doomed"); !errors.Is(err, store.ErrKeyNotFound) {
		t.Fatalf("the deleted key's alias: %v", err)
	}
	k = open(t, dir, c)
	if _, err := k.DescribeKey(md.KeyID); !errors.Is(err, store.ErrKeyNotFound) {
		t.Fatalf("after reopen: %v", err)
	}
	if len(k.ListKeys()) != 0 {
		t.Fatalf("keys after deletion: %+v", k.ListKeys())
	}
}

// TestDeletionAtOpen: a key whose deletion date passed while the keyring
// was closed is gone when it is opened, from the file too.
func TestDeletionAtOpen(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	k := open(t, dir, c)
	md := createKey(t, k)
	if _, err := k.ScheduleKeyDeletion(md.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	c.add(8 * day)
	open(t, dir, c)
	data, err := os.ReadFile(filepath.Join(dir, "keyring.json"))
	if err != nil || bytes.Contains(data, []byte(md.KeyID)) {
		t.Fatalf("the file still names the deleted key (%v)", err)
	}
}

// TestConcurrentUse: data keys made and unwrapped while the key rotates
// and time passes (run with -race).
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	k := open(t, t.TempDir(), c)
	md := createKey(t, k)
	if err := k.EnableKeyRotation(md.KeyID, 90); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for range 50 {
				dk, err := k.GenerateDataKey(ctx, md.KeyID)
				if err == nil {
					var got store.DataKey
					got, err = k.Decrypt(ctx, dk.Wrapped)
					if err == nil && !bytes.Equal(got.Plaintext, dk.Plaintext) {
						err = errors.New("unwrapped another data key")
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if _, err := k.RotateKeyOnDemand(md.KeyID); err != nil {
				errs <- err
				return
			}
			c.add(91 * day)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
