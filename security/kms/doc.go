// Package kms is the bridge's local key management service: a keyring of
// KMS-style keys kept in one JSON file, which wraps the data keys that
// encrypt records at rest (it implements store.Keyring) and backs the AWS
// KMS API that gateway/kms serves.
//
// It follows AWS KMS's model and words so the API maps onto it one to one
// and users' tooling (the AWS CLI, Terraform, SDKs) sees what it expects:
// keys have a UUID key id, an ARN, a state (Enabled, Disabled,
// PendingDeletion), a key manager (AWS or CUSTOMER), rotation settings and
// tags; aliases ("alias/NAME") name keys; "alias/aws/SERVICE" names an
// AWS-managed key that is created the first time it is used, as AWS does.
//
// Each key keeps a list of key materials (256-bit AES keys); the last is
// current. Rotation, on demand or automatic, appends a new material and
// keeps the old ones forever, so everything encrypted before a rotation
// stays readable. Ciphertexts are self-describing (see blob.go): they name
// the key and the material that made them, so Decrypt needs no key id.
//
// Time-driven changes (automatic rotation, the end of a deletion's waiting
// period) are applied lazily: when a key is used and when the keyring is
// opened. Nothing runs in the background.
//
// Every change is written to the file before the call returns (a temporary
// file, fsync, rename, fsync of the directory), so an acknowledged change
// survives a crash, and a crash never leaves half a keyring. The key
// materials are in the file in the clear: the file is created 0600 and is
// as sensitive as the data it protects.
package kms
