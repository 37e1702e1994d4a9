package users

import (
	"crypto/subtle"

	"github.com/streambridge/bridge/security/sasl"
)

// CheckPassword says whether password is user's, by deriving the SCRAM
// stored key from it with the salt and iterations of the user's credential
// (SCRAM-SHA-512 first, then SCRAM-SHA-256) and comparing. It is how an
// HTTP Basic login (the embedded Connect worker's REST API) checks a Kafka
// user without the store ever holding a password. Each call costs the
// credential's iterations of PBKDF2.
func (s *Store) CheckPassword(user, password string) bool {
	for _, mech := range []string{sasl.ScramSHA512, sasl.ScramSHA256} {
		c, ok := s.SCRAM(mech, user)
		if !ok {
			continue
		}
		got, err := sasl.NewCredential(mech, password, []byte(c.Salt), c.Iters)
		return err == nil && subtle.ConstantTimeCompare(got.StoredKey, c.StoredKey) == 1
	}
	return false
}
