package kms

import (
	"fmt"

	"github.com/streambridge/bridge/store"
)

// AWS KMS's exception codes, the Code of an *Error. gateway/kms answers
// with them as they are, so clients' typed errors (the SDKs'
// *types.NotFoundException, ...) work.
const (
	CodeNotFound              = "NotFoundException"
	CodeDisabled              = "DisabledException"
	CodeInvalidState          = "KMSInvalidStateException"
	CodeInvalidCiphertext     = "InvalidCiphertextException"
	CodeIncorrectKey          = "IncorrectKeyException"
	CodeAlreadyExists         = "AlreadyExistsException"
	CodeValidation            = "ValidationException"
	CodeInvalidAliasName      = "InvalidAliasNameException"
	CodeNotAuthorized         = "NotAuthorizedException"
	CodeUnsupportedOperation  = "UnsupportedOperationException"
	CodeInvalidArn            = "InvalidArnException"
	CodeLimitExceeded         = "LimitExceededException"
	CodeTag                   = "TagException"
	CodeInternal              = "KMSInternalException"
	CodeDependencyTimeout     = "DependencyTimeoutException"
	CodeInvalidKeyUsage       = "InvalidKeyUsageException"
	CodeInvalidMarker         = "InvalidMarkerException"
	CodeAccessDenied          = "AccessDeniedException"
	CodeInvalidGrantToken     = "InvalidGrantTokenException"
	CodeKeyUnavailable        = "KeyUnavailableException"
	CodeMalformedPolicy       = "MalformedPolicyDocumentException"
	CodeCustomKeyStoreInvalid = "CustomKeyStoreInvalidStateException"
)

// Error is a refusal of the keyring, with AWS KMS's exception code and, as
// far as it is known, its message. It matches the store's sentinels with
// errors.Is (see Is), so the store and the other front ends need not know
// KMS's codes.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "kms: " + e.Code
	}
	return "kms: " + e.Code + ": " + e.Message
}

// Is maps KMS's codes onto the errors store.Keyring promises.
func (e *Error) Is(target error) bool {
	switch target {
	case store.ErrKeyNotFound:
		return e.Code == CodeNotFound
	case store.ErrKeyDisabled:
		return e.Code == CodeDisabled
	case store.ErrKeyInvalidState:
		return e.Code == CodeInvalidState
	case store.ErrKeyAccessDenied:
		return e.Code == CodeInvalidCiphertext || e.Code == CodeIncorrectKey || e.Code == CodeAccessDenied
	}
	return false
}

func newError(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// The refusals below use AWS KMS's wording where it is known.

func errKeyNotFound(arn string) *Error {
	return newError(CodeNotFound, "Key '%s' does not exist", arn)
}

func errAliasNotFound(arn string) *Error {
	return newError(CodeNotFound, "Alias %s is not found.", arn)
}

func errInvalidKeyID(ref string) *Error {
	return newError(CodeNotFound, "Invalid keyId '%s'", ref)
}

func errDisabled(arn string) *Error { return newError(CodeDisabled, "%s is disabled.", arn) }

func errPendingDeletion(arn string) *Error {
	return newError(CodeInvalidState, "%s is pending deletion.", arn)
}

// errInvalidCiphertext has no message: AWS KMS sends none, so as not to
// say why a ciphertext was refused.
func errInvalidCiphertext() *Error { return &Error{Code: CodeInvalidCiphertext} }

func errAWSManaged(arn string) *Error {
	return newError(CodeUnsupportedOperation, "%s is an AWS managed key, which is not valid for this operation.", arn)
}

func errReservedAlias(name string) *Error {
	return newError(CodeNotAuthorized, "%s: the alias/aws/ prefix is reserved for AWS managed keys", name)
}

// errValidation words a bad parameter as AWS's validation layer does.
func errValidation(format string, args ...any) *Error {
	return newError(CodeValidation, "1 validation error detected: "+format, args...)
}

func errIntRange(name string, v, lo, hi int) *Error {
	if v < lo {
		return errValidation("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", v, name, lo)
	}
	return errValidation("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", v, name, hi)
}
