package embedded

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streambridge/bridge/store"
)

// The object durability test runs this test binary as a child that puts,
// replaces, deletes and completes multipart uploads from several
// goroutines and prints each acknowledgement, kills it with SIGKILL at a
// random moment, and repeats on the same directory. Afterwards every
// acknowledged object is readable byte-exact with the acknowledged ETag,
// every object present is whole, and after the reopen's sweep the files on
// disk are exactly those the records name: no orphan, nothing missing.

const objectsChildEnv = "BRIDGE_OBJECTS_DURABILITY_CHILD"

// objectBody is the body a tag names: the tag and "|" repeated to size
// bytes, so any object's bytes can be checked against its own first line.
func objectBody(tag string, size int) []byte {
	pat := []byte(tag + "|")
	return bytes.Repeat(pat, size/len(pat)+1)[:size]
}

// objectsChild writes forever. Ack lines: "put <key> <tag> <size> <etag>"
// for a unique key, "mp <key> <tag> <etag>" for a completed upload of
// parts 5 MiB, 5 MiB and 1 KiB tagged <tag>-1..3. Churn keys ("churn/N")
// are replaced and deleted without acks; they must only be whole.
func objectsChild(dir, round string) {
	s, err := Open(Options{Dir: dir, Fsync: childFsync(), FsyncInterval: time.Hour})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := s.HeadBucket(context.Background(), "d"); err != nil {
		if _, err := s.CreateBucket(context.Background(), "d", store.BucketOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	var out sync.Mutex
	ack := func(format string, args ...any) {
		out.Lock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
		out.Unlock()
	}
	fail := func(what string, err error) {
		fmt.Fprintln(os.Stderr, what+":", err)
		os.Exit(3)
	}
	for g := range 6 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for n := 0; ; n++ {
				tag := fmt.Sprintf("r%s-g%d-n%d", round, g, n)
				switch {
				case g == 0 && n%4 == 0: // multipart
					id, err := s.CreateMultipartUpload(context.Background(), "d", "mp/"+tag, store.PutOptions{})
					if err != nil {
						fail("create upload", err)
					}
					var parts []store.CompletedPart
					for i, size := range []int{store.MinPartSize, store.MinPartSize, 1024} {
						body := objectBody(fmt.Sprintf("%s-%d", tag, i+1), size)
						p, err := s.UploadPart(context.Background(), "d", "mp/"+tag, id, i+1, bytes.NewReader(body), store.PutOptions{Size: int64(size)})
						if err != nil {
							fail("part", err)
						}
						parts = append(parts, store.CompletedPart{Number: i + 1, ETag: p.ETag})
					}
					info, err := s.CompleteMultipartUpload(context.Background(), "d", "mp/"+tag, id, parts)
					if err != nil {
						fail("complete", err)
					}
					ack("mp %s %s %s", "mp/"+tag, tag, info.ETag)
				case rng.IntN(3) == 0: // churn: replace or delete a shared key
					key := fmt.Sprintf("churn/%d", rng.IntN(5))
					if rng.IntN(4) == 0 {
						if err := s.DeleteObject(context.Background(), "d", key); err != nil {
							fail("delete", err)
						}
						continue
					}
					body := objectBody(tag, rng.IntN(300<<10))
					if _, err := s.PutObject(context.Background(), "d", key, bytes.NewReader(body), store.PutOptions{Size: -1}); err != nil {
						fail("churn put", err)
					}
				default:
					// Every other one past the page cache (O_DIRECT),
					// over several of its 1 MiB chunks.
					uncached := n%2 == 1
					size := rng.IntN(1 << 20)
					if uncached {
						size = rng.IntN(3 << 20)
					}
					info, err := s.PutObject(context.Background(), "d", "put/"+tag, bytes.NewReader(objectBody(tag, size)),
						store.PutOptions{Size: int64(size), Checksums: []string{"CRC32C"}, Uncached: uncached})
					if err != nil {
						fail("put", err)
					}
					ack("put %s %s %d %s", "put/"+tag, tag, size, info.ETag)
				}
			}
		}()
	}
	select {}
}

type objectAck struct {
	kind, key, tag, etag string
	size                 int
}

func TestAcknowledgedObjectsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	for _, mode := range fsyncModes {
		t.Run(mode.String(), func(t *testing.T) { testObjectsSurviveSIGKILL(t, mode) })
	}
}

func testObjectsSurviveSIGKILL(t *testing.T, mode Fsync) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, uint64(time.Now().UnixNano())))
	var acks []objectAck
	for round := 1; round <= 5; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), objectsChildEnv+"="+dir, "BRIDGE_ROUND="+strconv.Itoa(round), fsyncEnv+"="+mode.String())
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 1 + rng.IntN(80)
		sc := bufio.NewScanner(stdout)
		n := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			var a objectAck
			switch {
			case len(f) == 5 && f[0] == "put":
				a = objectAck{kind: f[0], key: f[1], tag: f[2], etag: f[4]}
				a.size, err = strconv.Atoi(f[3])
			case len(f) == 4 && f[0] == "mp":
				a = objectAck{kind: f[0], key: f[1], tag: f[2], etag: f[3]}
			default:
				err = fmt.Errorf("bad line")
			}
			if err != nil {
				t.Fatalf("child said %q: %v", sc.Text(), err)
			}
			acks = append(acks, a)
			if n++; killAfter > 0 && n >= killAfter {
				killAfter = 0
				time.AfterFunc(time.Duration(rng.IntN(5000))*time.Microsecond, func() {
					cmd.Process.Signal(syscall.SIGKILL)
				})
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended without SIGKILL: %v", round, err)
		}
		t.Logf("round %d: %d acknowledged objects so far", round, len(acks))
	}

	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	multipart := 0
	for _, a := range acks {
		var want []byte
		if a.kind == "mp" {
			multipart++
			for i, size := range []int{store.MinPartSize, store.MinPartSize, 1024} {
				want = append(want, objectBody(fmt.Sprintf("%s-%d", a.tag, i+1), size)...)
			}
		} else {
			want = objectBody(a.tag, a.size)
		}
		head, err := s.HeadObject(ctx, "d", a.key)
		if err != nil || head.ETag != a.etag {
			t.Fatalf("acknowledged %s: %+v %v, want ETag %s", a.key, head, err, a.etag)
		}
		if got := getBytes(t, s, "d", a.key, nil); !bytes.Equal(got, want) {
			t.Fatalf("acknowledged %s: %d bytes differ from the %d put", a.key, len(got), len(want))
		}
	}
	// Every object present, acknowledged or not, is whole.
	objs, _, err := s.ListObjects(ctx, "d", store.ListOptions{Max: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		got := getBytes(t, s, "d", o.Key, nil)
		if md5ETag(got) != o.ETag && o.Parts == 0 {
			t.Fatalf("%s: bytes do not match the ETag", o.Key)
		}
		if strings.HasPrefix(o.Key, "churn/") && len(got) > 0 {
			tag, _, _ := strings.Cut(string(got[:min(len(got), 64)]), "|")
			if !bytes.Equal(got, objectBody(tag, len(got))) {
				t.Fatalf("%s: torn body", o.Key)
			}
		}
	}
	if files, refs := diskFiles(t, s), referencedFiles(t, s); !reflect.DeepEqual(files, refs) {
		t.Fatalf("after the sweep, %d files on disk but records name %d", len(files), len(refs))
	}
	t.Logf("%d acknowledged objects verified (%d multipart), %d objects stored, %d orphans of the last kill swept",
		len(acks), multipart, len(objs), s.obj.swept)
}
