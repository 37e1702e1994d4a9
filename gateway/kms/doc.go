// Package kms serves the AWS KMS API (JSON 1.1, X-Amz-Target
// TrentService.OPERATION, signing name kms) on the AWS port, over the
// bridge's local keyring (security/kms): the keys and aliases that
// Kinesis's StartStreamEncryption names are made, rotated, disabled and
// deleted with the AWS CLI, SDKs and Terraform as they would be in AWS.
//
// The package is a translation: requests are decoded and checked as AWS
// KMS checks them (ValidationException wording from gateway/awsapi),
// handed to the keyring, and its *kms.Error codes, which are KMS's own
// exception names, become the answer's __type unchanged. Ciphertext blobs
// are the keyring's, base64 in JSON as AWS sends them.
//
// Authorization: with an Authorizer, each operation is the IAM action
// kms:OPERATION on the key's ARN (the alias's for the alias operations,
// "*" for CreateKey, ListKeys and ListAliases without a key), as AWS
// names them; see authz.go.
package kms
