package layering

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/streambridge/bridge"

// rules says, for each package prefix (relative to the module), which of
// the module's packages it may import, directly or through others. Test
// files are not checked: a gateway's tests run it over the embedded store.
var rules = []struct {
	pkg   string   // this package and those below it
	allow []string // module packages it may use; "x/..." is x and those below
	why   string
}{
	{"mapping", []string{"mapping/..."}, "mapping is pure translation: it imports nothing else of ours"},
	{"store", []string{"mapping/..."}, "store defines the model and the interfaces every backend implements"},
	{"store/embedded", []string{"store", "mapping/...", "internal/bufpool", "internal/directio"}, "a backend sees the model (and a buffer free list, and direct I/O), not the front ends"},
	{"gateway/kafka", []string{"gateway/payloads", "store", "mapping/...", "internal/...", "security/..."}, "front ends use the store interfaces only, never a backend, and never each other"},
	{"gateway/kinesis", []string{"gateway/payloads", "gateway/awsapi/...", "store", "mapping/...", "internal/...", "security/..."}, "front ends use the store interfaces only, never a backend, and never each other"},
	{"gateway/sqs", []string{"gateway/payloads", "gateway/awsapi/...", "store", "mapping/...", "internal/...", "security/..."}, "front ends use the store interfaces only, never a backend, and never each other"},
	{"gateway/s3", []string{"gateway/awsapi/...", "store", "mapping/...", "internal/...", "security/..."}, "front ends use the store interfaces only, never a backend, and never each other"},
	{"gateway/kms", []string{"gateway/awsapi/...", "store", "mapping/...", "internal/...", "security/..."}, "front ends use the store interfaces only, never a backend, and never each other"},
	{"gateway/payloads", []string{"store", "mapping/...", "internal/..."}, "the front ends' shared offload of large payloads sees the store interfaces only"},
	{"gateway/awsapi", []string{"internal/...", "security/..."}, "the AWS protocol layer knows no store and no one API"},
	{"security", []string{"internal/...", "store", "mapping/..."}, "security is called by the front ends and calls nothing of theirs; what it keeps (users, ACLs) lives in the store's state area, through the store interfaces"},
	{"connect", []string{"mapping/...", "internal/...", "security/..."}, "connect is a client: its workers reach Kafka and the AWS APIs over the network, as a worker pointed at MSK or real AWS does, and never the store or a front end"},
	{"server", []string{"store", "store/embedded", "gateway/awsapi", "mapping/...", "internal/...", "security/..."}, "the server runs the front ends cmd hands it and imports none of them (awsapi's router is its AWS placeholder)"},
}

type pkg struct {
	ImportPath string
	Deps       []string
}

func TestForbiddenImports(t *testing.T) {
	pkgs := list(t)
	seen := map[string]bool{}
	for _, p := range pkgs {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			continue
		}
		for _, r := range rules {
			if !under(rel, r.pkg) || moreSpecific(rel, r.pkg) {
				continue
			}
			seen[r.pkg] = true
			for _, dep := range p.Deps {
				d, ours := strings.CutPrefix(dep, module+"/")
				if !ours || under(d, r.pkg) || allowed(d, r.allow) {
					continue
				}
				t.Errorf("%s imports %s: %s", rel, d, r.why)
			}
		}
	}
	// A rule whose package was renamed away would pass forever.
	for _, r := range rules {
		if !seen[r.pkg] {
			t.Errorf("no package %s in the module: update the rules", r.pkg)
		}
	}
	if !seen["mapping"] || !seen["gateway/kafka"] {
		t.Fatalf("go list found none of the module's packages (%d listed)", len(pkgs))
	}
}

// list runs go list over the whole module.
func list(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", module+"/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	return pkgs
}

// under reports whether rel is pkg or below it.
func under(rel, pkg string) bool { return rel == pkg || strings.HasPrefix(rel, pkg+"/") }

// moreSpecific reports whether a longer rule covers rel than pkg's.
func moreSpecific(rel, pkg string) bool {
	for _, r := range rules {
		if len(r.pkg) > len(pkg) && under(rel, r.pkg) {
			return true
		}
	}
	return false
}

func allowed(dep string, allow []string) bool {
	for _, a := range allow {
		if tree, ok := strings.CutSuffix(a, "/..."); ok && under(dep, tree) || dep == a {
			return true
		}
	}
	return false
}
