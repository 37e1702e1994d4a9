package kafka

// DescribeUserScramCredentials (key 50) and AlterUserScramCredentials (key
// 51), KIP-554: list the SCRAM credentials of users (mechanisms and
// iterations, never keys) and set or delete them. Clients send salted
// passwords, so the password itself never reaches the bridge; what these
// change is what SASL/SCRAM and PLAIN logins check (security/users). Both
// APIs exist only in v0, which is flexible.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/security/sasl"
	"github.com/streambridge/bridge/security/users"
)

func init() {
	register(API{Key: kmsg.DescribeUserSCRAMCredentials, MinVersion: 0, MaxVersion: 0, Handle: handleDescribeUserSCRAMCredentials})
	register(API{Key: kmsg.AlterUserSCRAMCredentials, MinVersion: 0, MaxVersion: 0, Handle: handleAlterUserSCRAMCredentials})
}

// scramMechanisms maps KIP-554's mechanism numbers to names.
var scramMechanisms = map[int8]string{1: sasl.ScramSHA256, 2: sasl.ScramSHA512}

func scramMechanismNumber(name string) int8 {
	for n, m := range scramMechanisms {
		if m == name {
			return n
		}
	}
	return 0
}

func handleDescribeUserSCRAMCredentials(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	u := r.Server.users
	if !r.clusterAllowed(kmsg.ACLOperationDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return Respond(resp), nil
	}
	var names []string
	for _, user := range req.Users {
		names = append(names, user.Name)
	}
	all := len(names) == 0
	if all {
		names = u.Names()
	}
	seen := map[string]int{}
	for _, n := range names {
		seen[n]++
	}
	for i, name := range names {
		if slices.Index(names, name) != i {
			continue // one result per user, errors included
		}
		res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		res.User = name
		infos := u.Describe(name)
		switch {
		case seen[name] > 1:
			res.ErrorCode = kerr.DuplicateResource.Code
			res.ErrorMessage = kmsg.StringPtr("Cannot describe SCRAM credentials for the same user twice in a single request: " + name)
		case len(infos) == 0:
			res.ErrorCode = kerr.ResourceNotFound.Code
			res.ErrorMessage = kmsg.StringPtr("Attempt to describe a user credential that does not exist: " + name)
		}
		if res.ErrorCode == 0 {
			for _, info := range infos {
				ci := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
				ci.Mechanism = scramMechanismNumber(info.Mechanism)
				ci.Iterations = int32(info.Iterations)
				res.CredentialInfos = append(res.CredentialInfos, ci)
			}
		}
		resp.Results = append(resp.Results, res)
	}
	return Respond(resp), nil
}

// alteration is one entry of an AlterUserScramCredentials request, in the
// order the request lists them: deletions first, then upsertions.
type alteration struct {
	change users.Change
	mech   int8
}

func handleAlterUserSCRAMCredentials(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.AlterUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	u := r.Server.users
	clusterDenied := !r.clusterAllowed(kmsg.ACLOperationAlter)

	var alts []alteration
	for _, d := range req.Deletions {
		alts = append(alts, alteration{change: users.Change{User: d.Name, Mechanism: scramMechanisms[d.Mechanism]}, mech: d.Mechanism})
	}
	for _, up := range req.Upsertions {
		salted := up.SaltedPassword
		if salted == nil {
			salted = []byte{} // an upsertion, however empty: Check refuses it
		}
		alts = append(alts, alteration{
			change: users.Change{User: up.Name, Mechanism: scramMechanisms[up.Mechanism], Iterations: int(up.Iterations), Salt: up.Salt, SaltedPassword: salted},
			mech:   up.Mechanism,
		})
	}

	// Kafka answers once per user, with the first problem of any of its
	// alterations; a user's alterations apply all together or not at all.
	var order []string
	failed := map[string]*kmsg.AlterUserSCRAMCredentialsResponseResult{}
	fail := func(user string, code *kerr.Error, msg string) {
		if failed[user] == nil {
			failed[user] = &kmsg.AlterUserSCRAMCredentialsResponseResult{User: user, ErrorCode: code.Code, ErrorMessage: kmsg.StringPtr(msg)}
		}
	}
	type userMech struct {
		user string
		mech int8
	}
	twice := map[userMech]int{}
	for _, a := range alts {
		twice[userMech{a.change.User, a.mech}]++
	}
	for _, a := range alts {
		user := a.change.User
		if !slices.Contains(order, user) {
			order = append(order, user)
		}
		switch {
		case clusterDenied:
			fail(user, kerr.ClusterAuthorizationFailed, "")
		case user == "":
			fail(user, kerr.UnacceptableCredential, "Username must not be empty")
		case a.change.Mechanism == "":
			fail(user, kerr.UnsupportedSaslMechanism, fmt.Sprintf("Unknown SCRAM mechanism %d", a.mech))
		case twice[userMech{user, a.mech}] > 1:
			fail(user, kerr.DuplicateResource, "A user credential cannot be altered twice in the same request")
		case a.change.SaltedPassword == nil && !u.HasAPICredential(user, a.change.Mechanism):
			fail(user, kerr.ResourceNotFound, "Attempt to delete a user credential that does not exist")
		default:
			if err := users.Check(a.change); err != nil {
				fail(user, kerr.UnacceptableCredential, capitalize(err.Error()))
			}
		}
	}

	var changes []users.Change
	for _, a := range alts {
		if failed[a.change.User] == nil {
			changes = append(changes, a.change)
		}
	}
	var applyErr error
	if len(changes) > 0 {
		applyErr = u.Apply(ctx, changes)
		if applyErr != nil && !errors.Is(applyErr, users.ErrNotFound) {
			r.Server.log.Error("kafka: storing SCRAM credentials failed", "err", applyErr)
		}
	}
	for _, user := range order {
		res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		res.User = user
		switch {
		case failed[user] != nil:
			res = *failed[user]
		case applyErr != nil:
			res.ErrorCode = kerr.UnknownServerError.Code
			res.ErrorMessage = kmsg.StringPtr(applyErr.Error())
		default:
			r.Server.log.Info("kafka: SCRAM credentials changed", "user", user, "by", r.Principal, "remote", r.Remote.String())
		}
		if res.ErrorCode != kerr.ClusterAuthorizationFailed.Code {
			r.auditCall("user:"+user, res.ErrorCode, derefString(res.ErrorMessage))
		}
		resp.Results = append(resp.Results, res)
	}
	return Respond(resp), nil
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
