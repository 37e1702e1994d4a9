// Command goaws runs the goaws SQS emulator (v0.4.5, in memory) on
// 127.0.0.1 only, for scripts/sqs-references.sh. goaws's own command binds
// every interface (0.0.0.0) and has no setting for the host, so this
// replaces it: the same config loading, router and periodic tasks, on a
// loopback listener.
//
// goaws v0.4.5 speaks the Query protocol only (form-encoded Action
// requests, XML answers). aws-sdk-go-v2's SQS client speaks JSON 1.0, so
// `bridge bench sqs` cannot load it; boto3 1.26 and the AWS CLI 2.9 can.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/Admiral-Piett/goaws/app/conf"
	"github.com/Admiral-Piett/goaws/app/gosqs"
	"github.com/Admiral-Piett/goaws/app/router"
	log "github.com/sirupsen/logrus"
)

func main() {
	port := flag.Int("port", 4100, "port to listen on, on 127.0.0.1")
	flag.Parse()
	log.SetOutput(os.Stderr)
	log.SetLevel(log.WarnLevel)

	// goaws reads its settings from a YAML file only (without one it
	// searches the working directory tree for goaws.yaml). Queues are
	// created by the clients; messages up to 1 MiB, as AWS takes now.
	dir, err := os.MkdirTemp("", "goaws-")
	if err != nil {
		log.Fatal(err)
	}
	config := filepath.Join(dir, "goaws.yaml")
	yaml := fmt.Sprintf(`Local:
  Host: 127.0.0.1
  Port: %d
  Region: us-east-1
  AccountId: "000000000000"
  QueueAttributeDefaults:
    VisibilityTimeout: 30
    MaximumMessageSize: 1048576
`, *port)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		log.Fatal(err)
	}
	conf.LoadYamlConfig(config, "Local")
	_ = os.RemoveAll(dir) // read once, at start

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	go gosqs.PeriodicTasks(time.Second, make(chan struct{}))
	fmt.Printf("Listening at http://%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, router.New()))
}
