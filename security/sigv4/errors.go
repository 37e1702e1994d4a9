package sigv4

// Code is why a request was refused. AWS names each reason twice, once
// for JSON-protocol services (Kinesis) and once for Query-protocol ones
// (SQS, and SQS's JSON protocol, which kept the Query codes in
// x-amzn-query-error): JSONType and QueryCode say which.
type Code int

// The reasons a request is refused, in the order they are checked.
const (
	// MissingAuthenticationToken: no Authorization header and no
	// X-Amz-Algorithm query parameter.
	MissingAuthenticationToken Code = iota + 1
	// IncompleteSignature: the signature's parts are missing or
	// malformed (Credential, SignedHeaders, Signature, a date).
	IncompleteSignature
	// InvalidSignature: a well-formed signature that is wrong: the
	// computed signature differs, the scope names another region or
	// service, Host is not signed, or both signature forms were sent.
	InvalidSignature
	// SignatureExpired: the request's date is more than the allowed skew
	// from the bridge's clock, or a presigned URL has expired.
	SignatureExpired
	// PayloadHashMismatch: X-Amz-Content-Sha256 is not the body's hash,
	// or is UNSIGNED-PAYLOAD where the service wants the body signed.
	// Kinesis and SQS word it as a signature mismatch; S3 has its own
	// code (XAmzContentSHA256Mismatch).
	PayloadHashMismatch
	// UnknownAccessKey: no credential has the access key id.
	UnknownAccessKey
	// InvalidSecurityToken: the session token is missing, wrong, or
	// presented for a key that has none.
	InvalidSecurityToken
)

// JSONType is the code's __type in a JSON-protocol service's answer
// (Kinesis, DynamoDB): the Coral framework's exception names.
func (c Code) JSONType() string {
	switch c {
	case MissingAuthenticationToken:
		return "MissingAuthenticationTokenException"
	case IncompleteSignature:
		return "IncompleteSignatureException"
	case UnknownAccessKey, InvalidSecurityToken:
		return "UnrecognizedClientException"
	}
	return "InvalidSignatureException"
}

// QueryCode is the code's Code in a Query-protocol service's answer
// (SQS, STS).
func (c Code) QueryCode() string {
	switch c {
	case MissingAuthenticationToken:
		return "MissingAuthenticationToken"
	case IncompleteSignature:
		return "IncompleteSignature"
	case UnknownAccessKey, InvalidSecurityToken:
		return "InvalidClientTokenId"
	}
	return "SignatureDoesNotMatch"
}

func (c Code) String() string {
	switch c {
	case MissingAuthenticationToken:
		return "missing authentication"
	case IncompleteSignature:
		return "incomplete signature"
	case InvalidSignature:
		return "invalid signature"
	case SignatureExpired:
		return "signature expired"
	case PayloadHashMismatch:
		return "payload hash mismatch"
	case UnknownAccessKey:
		return "unknown access key"
	case InvalidSecurityToken:
		return "invalid security token"
	}
	return "unknown"
}

// AWS's messages for the refusals whose wording does not depend on the
// request.
const (
	msgMissing = "Request is missing Authentication Token"
	msgUnknown = "The security token included in the request is invalid."
	// MsgSignatureMismatch is AWS's message for a signature that does not
	// match.
	MsgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Error is a refused request: why (Code), AWS's words for the client
// (Message), what to log (Reason, which may say more than AWS tells a
// client, never a secret or a signature) and the access key id the request
// named, when it got far enough to name one.
type Error struct {
	Code        Code
	Message     string
	Reason      string
	AccessKeyID string
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return "sigv4: " + e.Code.String() + ": " + e.Reason
	}
	return "sigv4: " + e.Code.String() + ": " + e.Message
}

func refuse(c Code, msg string) *Error { return &Error{Code: c, Message: msg} }

// S3Code is the code and HTTP status S3 answers the refusal with: S3 has
// its own words for each (AccessDenied for no signature at all,
// XAmzContentSHA256Mismatch for a body that is not what was signed).
func (c Code) S3Code() (code string, status int) {
	switch c {
	case MissingAuthenticationToken:
		return "AccessDenied", 403
	case IncompleteSignature:
		return "AuthorizationHeaderMalformed", 400
	case SignatureExpired:
		return "RequestTimeTooSkewed", 403
	case PayloadHashMismatch:
		return "XAmzContentSHA256Mismatch", 400
	case UnknownAccessKey:
		return "InvalidAccessKeyId", 403
	case InvalidSecurityToken:
		return "InvalidToken", 400
	}
	return "SignatureDoesNotMatch", 403
}
