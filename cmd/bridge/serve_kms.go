package main

import (
	"log/slog"
	"path/filepath"

	"github.com/streambridge/bridge/security/kms"
)

// keyringFile is where the KMS keyring is kept, in the data directory
// next to the store: the keys must live exactly as long as the records
// they encrypt.
const keyringFile = "kms-keyring.json"

// openKeyring opens the local KMS keyring the KMS API serves: in the data
// directory, or in memory with --in-memory.
//
// WIRING: the store's encryption at rest (store.Keyring) must use this
// same keyring, or keys made through the KMS API would not be the ones
// StartStreamEncryption names. When server.Deps gets the server's keyring,
// take it from there and drop this function.
func (o *serveOptions) openKeyring(log *slog.Logger) (*kms.Keyring, error) {
	if o.store.inMemory {
		return kms.InMemory(o.aws.region, o.aws.account, kms.WithLogger(log))
	}
	return kms.Open(filepath.Join(o.store.dataDir, keyringFile), o.aws.region, o.aws.account, kms.WithLogger(log))
}
