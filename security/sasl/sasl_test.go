package sasl

import (
	"errors"
	"testing"

	"github.com/xdg-go/scram"
)

// creds is a Credentials of fixed users.
type creds map[[2]string]scram.StoredCredentials

func (c creds) SCRAM(mech, user string) (scram.StoredCredentials, bool) {
	v, ok := c[[2]string{mech, user}]
	return v, ok
}

func testCreds(t testing.TB) creds {
	c := creds{}
	for _, mech := range []string{ScramSHA256, ScramSHA512} {
		cred, err := NewCredential(mech, "pencil", []byte("0123456789abcdef"), MinIterations)
		if err != nil {
			t.Fatal(err)
		}
		c[[2]string{mech, "user"}] = cred
	}
	return c
}

func TestCredentialMatchesXDGClient(t *testing.T) {
	// The xdg-go client derives credentials its own way; ours must agree
	// with it for every ASCII password (it applies SASLprep, which changes
	// none of them).
	for _, tc := range []struct {
		mech string
		gen  scram.HashGeneratorFcn
	}{{ScramSHA256, scram.SHA256}, {ScramSHA512, scram.SHA512}} {
		cl, err := tc.gen.NewClient("user", "pencil", "")
		if err != nil {
			t.Fatal(err)
		}
		kf := scram.KeyFactors{Salt: "0123456789abcdef", Iters: MinIterations}
		want, err := cl.GetStoredCredentialsWithError(kf)
		if err != nil {
			t.Fatal(err)
		}
		got, err := NewCredential(tc.mech, "pencil", []byte(kf.Salt), kf.Iters)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.StoredKey) != string(want.StoredKey) || string(got.ServerKey) != string(want.ServerKey) {
			t.Fatalf("%s: our stored credentials differ from xdg-go's", tc.mech)
		}
	}
}

// exchange runs a SCRAM client conversation against a session.
func exchange(t *testing.T, gen scram.HashGeneratorFcn, sess Session, user, pass, authz string) error {
	cl, err := gen.NewClient(user, pass, authz)
	if err != nil {
		t.Fatal(err)
	}
	conv := cl.NewConversation()
	msg, err := conv.Step("")
	for !conv.Done() {
		if err != nil {
			t.Fatal(err)
		}
		answer, _, serr := sess.Step([]byte(msg))
		if serr != nil {
			return serr
		}
		msg, err = conv.Step(string(answer))
	}
	return err
}

func TestSCRAMExchange(t *testing.T) {
	c := testCreds(t)
	for _, tc := range []struct {
		mech              string
		gen               scram.HashGeneratorFcn
		user, pass, authz string
		ok                bool
	}{
		{ScramSHA256, scram.SHA256, "user", "pencil", "", true},
		{ScramSHA512, scram.SHA512, "user", "pencil", "", true},
		{ScramSHA256, scram.SHA256, "user", "pencil", "user", true},
		{ScramSHA256, scram.SHA256, "user", "pen", "", false},
		{ScramSHA256, scram.SHA256, "nobody", "pencil", "", false},
		{ScramSHA256, scram.SHA256, "user", "pencil", "admin", false},
		{ScramSHA512, scram.SHA256, "user", "pencil", "", false}, // client hash differs
	} {
		m, err := SCRAM(tc.mech, c)
		if err != nil {
			t.Fatal(err)
		}
		sess := m.Start()
		err = exchange(t, tc.gen, sess, tc.user, tc.pass, tc.authz)
		if tc.ok != (err == nil) {
			t.Errorf("%s %s/%s authz %q: %v, want ok=%v", tc.mech, tc.user, tc.pass, tc.authz, err, tc.ok)
		}
		if err != nil {
			if _, isFailure := errors.AsType[*Failure](err); !isFailure {
				t.Errorf("%s %s: error %T, want a *Failure", tc.mech, tc.user, err)
			}
		} else if sess.Principal() != tc.user {
			t.Errorf("principal %q, want %q", sess.Principal(), tc.user)
		}
	}
}

func TestPlain(t *testing.T) {
	c := testCreds(t)
	for _, tc := range []struct {
		msg string
		ok  bool
	}{
		{"\x00user\x00pencil", true},
		{"user\x00user\x00pencil", true},
		{"admin\x00user\x00pencil", false},
		{"\x00user\x00pen", false},
		{"\x00nobody\x00pencil", false},
		{"\x00user\x00", false},
		{"\x00\x00pencil", false},
		{"user\x00pencil", false},
		{"\x00user\x00pencil\x00x", false},
		{"", false},
	} {
		sess := PlainMechanism(c).Start()
		_, done, err := sess.Step([]byte(tc.msg))
		if tc.ok != (err == nil && done) {
			t.Errorf("PLAIN %q: done %v, %v; want ok=%v", tc.msg, done, err, tc.ok)
		}
	}
}

func TestParseMechanisms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"PLAIN", 1}, {"SCRAM-SHA-256, SCRAM-SHA-512", 2}, {"PLAIN,GSSAPI", -1}, {"", -1}, {"PLAIN,PLAIN", -1}, {"plain", -1},
	} {
		got, err := ParseMechanisms(tc.in)
		if (err != nil) != (tc.want < 0) || (err == nil && len(got) != tc.want) {
			t.Errorf("ParseMechanisms(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// FuzzSessions feeds arbitrary client messages to every mechanism: each
// must refuse or answer, never panic, and never authenticate without the
// password.
func FuzzSessions(f *testing.F) {
	for _, seed := range [][2]string{
		{"\x00user\x00pencil", ""},
		{"n,,n=user,r=abcdef", "c=biws,r=abcdef,p=AAAA"},
		{"n,a=user,n=user,r=x", "c=biws,r=x"},
		{"y,,n=us=2Cer,r=1", ""},
		{"p=tls-unique,,n=user,r=1", ""},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	c := testCreds(f)
	sha256, _ := SCRAM(ScramSHA256, c)
	sha512, _ := SCRAM(ScramSHA512, c)
	mechs := []Mechanism{PlainMechanism(c), sha256, sha512}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		for _, m := range mechs {
			sess := m.Start()
			if _, done, err := sess.Step(first); err != nil || done {
				if done && m.Name() == Plain && sess.Principal() != "user" {
					t.Fatalf("PLAIN authenticated %q", sess.Principal())
				}
				continue
			}
			if _, done, err := sess.Step(second); err == nil && done {
				t.Fatalf("%s authenticated %q from fuzzed messages %q, %q", m.Name(), sess.Principal(), first, second)
			}
		}
	})
}
