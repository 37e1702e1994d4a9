package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/streambridge/bridge/bench/measure"
	"github.com/streambridge/bridge/bench/sqsbench"
	"github.com/streambridge/bridge/bench/sqsfloor"
)

type benchSQSOptions struct {
	cfg       sqsbench.Config
	embedded  bool
	inProcess bool
	dataDir   string
	name      string
	compare   []string // name=URL or URL
	floor     bool
	repeat    int
	warmup    int
	quiet     bool
	profile   string
}

func newBenchSQSCmd() *cobra.Command {
	var o benchSQSOptions
	cmd := &cobra.Command{
		Use:   "sqs",
		Short: "Send, receive and delete messages with the SQS API and report throughput and latency",
		Long: `Move messages through a new SQS queue in phases and report messages/s,
MB/s and the latency (p50, p99) of each operation:

  send      --senders concurrent SendMessageBatch callers, --batch messages a call
  receive   --receivers concurrent long polls (ReceiveMessage, 10 messages,
            WaitTimeSeconds --wait) until every message was received once
  delete    --deleters concurrent DeleteMessageBatch callers with those
            receipt handles, --batch a call
  pipeline  senders and receivers at once, each receiver deleting what it
            received before polling again: the headline figure, messages
            through send, receive and delete per second

A FIFO queue (--fifo; messages spread over --groups message groups, each
with a MessageDeduplicationId) hides a group while part of it is in flight,
so there receive and delete are one phase, receive+delete.

Each run creates a queue of its own (--queue and a random suffix) and
deletes it at the end. Throttled calls and entries are retried with
backoff and counted; any other error fails the run.

The target is any SQS endpoint speaking JSON 1.0 (--endpoint), or a bridge
started by this command on 127.0.0.1 with a temporary data dir (--embedded):
a child process running bridge serve, or with --in-process one in this
process. --compare-endpoint [NAME=]URL (repeatable) runs the same load
against other endpoints in the same invocation and prints the ratios
target/other; with --repeat N the targets take turns and the table shows
medians, after --warmup unmeasured runs per target.
scripts/sqs-references.sh start runs the local-aws-sqs emulator to compare
with. --compare-floor adds two targets in child processes: floor, an SQS
endpoint that does the least the load needs (queues in memory, no
visibility timeouts), and floor-fsync, the same writing each call's changes
to a file in $TMPDIR and syncing them before it answers: the most this
machine and this load generator allow, without and with durability. For a
server on this machine in another process the table adds its CPU
microseconds per message.

  bridge bench sqs --embedded --compare-endpoint local-aws-sqs=http://127.0.0.1:9324
  bridge bench sqs --embedded --compare-floor --phases pipeline --senders 16 --receivers 16
  bridge bench sqs --endpoint http://127.0.0.1:4566 --fifo --body-size 65536 --messages 10000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchSQS(cmd.Context(), &o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.cfg.Endpoint, "endpoint", "", "URL of the SQS endpoint to load, e.g. http://127.0.0.1:4566")
	fs.BoolVar(&o.embedded, "embedded", false, "start a bridge (bridge serve in a child process) on 127.0.0.1 with a temporary data dir and load its AWS port")
	fs.BoolVar(&o.inProcess, "in-process", false, "with --embedded: run the bridge in this process rather than in a child process (no server CPU figures)")
	fs.StringVar(&o.dataDir, "data-dir", "", "with --embedded: the data dir to use (default: a temporary one, removed afterwards)")
	fs.StringArrayVar(&o.compare, "compare-endpoint", nil, "[NAME=]URL of another SQS endpoint to run the same load against (repeatable)")
	fs.BoolVar(&o.floor, "compare-floor", false, "also run the load against the floor (bench/sqsfloor: standard queues in memory doing the least the load needs), without and with a synced log, in child processes")
	fs.StringVar(&o.name, "name", "", `column name of the target in the table (default "bridge" with --embedded, else "target")`)
	fs.StringVar(&o.cfg.Region, "region", sqsbench.DefaultRegion, "region the requests are signed for (credentials are dummy ones)")
	fs.StringVar(&o.cfg.Queue, "queue", "bench", "start of the queue's name; each run adds a random suffix (and .fifo)")
	fs.BoolVar(&o.cfg.FIFO, "fifo", false, "use a FIFO queue")
	fs.IntVar(&o.cfg.Groups, "groups", 16, "with --fifo: message groups the messages are spread over")
	fs.IntVar(&o.cfg.BodySize, "body-size", 1024, "size of each message body in bytes (1 KiB and 64 KiB are the issue's)")
	fs.Int64Var(&o.cfg.Messages, "messages", 50000, "messages to send in the send phase, and again in the pipeline phase")
	fs.IntVar(&o.cfg.Senders, "senders", 4, "concurrent SendMessageBatch callers")
	fs.IntVar(&o.cfg.Receivers, "receivers", 4, "concurrent ReceiveMessage callers (long polls)")
	fs.IntVar(&o.cfg.Deleters, "deleters", 4, "concurrent DeleteMessageBatch callers in the delete phase")
	fs.IntVar(&o.cfg.Batch, "batch", sqsbench.MaxBatch, fmt.Sprintf("entries per SendMessageBatch and DeleteMessageBatch call (at most %d; fewer sent if their bodies would pass 1 MiB)", sqsbench.MaxBatch))
	fs.IntVar(&o.cfg.WaitSeconds, "wait", 5, fmt.Sprintf("ReceiveMessage WaitTimeSeconds (1 to %d)", sqsbench.MaxWaitSeconds))
	fs.StringSliceVar(&o.cfg.Phases, "phases", nil, "run only these phases: send, receive, delete, pipeline (default all)")
	fs.IntVar(&o.repeat, "repeat", 1, "run the load this many times per target (targets take turns) and report the median of each figure")
	fs.IntVar(&o.warmup, "warmup", 1, "unmeasured runs of the same load per target before the measured ones")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	fs.StringVar(&o.profile, "cpu-profile", "", "write a CPU profile of this process (the load generator, and with --embedded --in-process the bridge too) to this file")
	return cmd
}

func runBenchSQS(ctx context.Context, o *benchSQSOptions, stdout, stderr io.Writer) (err error) {
	if o.embedded == (o.cfg.Endpoint != "") {
		return errors.New("give either --endpoint URL or --embedded")
	}
	if o.repeat < 1 {
		return fmt.Errorf("--repeat %d: want at least 1", o.repeat)
	}
	if o.warmup < 0 {
		return fmt.Errorf("--warmup %d: want 0 or more", o.warmup)
	}
	if !o.quiet {
		o.cfg.Progress = stderr
	}
	targets, err := benchTargets(o.name, o.embedded, o.cfg.Endpoint, o.compare)
	if err != nil {
		return err
	}
	if o.floor {
		if o.cfg.FIFO {
			return errors.New("--compare-floor: the floor serves standard queues only, not --fifo")
		}
		floors, stop, err := startReferenceTargets(ctx, []benchReference{{"floor", "sqs-floor-server"}, {"floor-fsync", "sqs-floor-fsync-server"}})
		if err != nil {
			return err
		}
		defer keepFirst(&err, stop)
		targets = append(targets, floors...)
	}
	stopProfile, err := startCPUProfile(o.profile)
	if err != nil {
		return err
	}
	defer keepFirst(&err, stopProfile)
	if !(o.embedded && o.inProcess) {
		o.cfg.ClientCPU = measure.ProcessCPU(os.Getpid())
		// The SDK drops a buffer per answer here as in the Kinesis bench
		// (see loadGeneratorGOGC), most with 64 KiB bodies.
		if os.Getenv("GOGC") == "" {
			defer debug.SetGCPercent(debug.SetGCPercent(loadGeneratorGOGC))
		}
	}
	results, err := runAWSBench(ctx, stdout, stderr,
		awsBench{api: "sqs", embedded: o.embedded, inProcess: o.inProcess, dataDir: o.dataDir, warmup: o.warmup, repeat: o.repeat}, targets,
		func(ctx context.Context, endpoint string, serverCPU func() (float64, error)) (sqsbench.Result, error) {
			cfg := o.cfg
			cfg.Endpoint, cfg.ServerCPU = endpoint, serverCPU
			return sqsbench.Run(ctx, cfg)
		},
		func(r *sqsbench.Result, name string) { r.Target = name },
		sqsbench.Median)
	if err != nil {
		return err
	}
	return sqsbench.WriteTable(stdout, o.cfg, results...)
}

// floorLogSize is the ring the durable floor writes its calls to.
const floorLogSize = 64 << 20

// newBenchSQSFloorServerCmds are the hidden `bridge bench sqs-floor-server`
// and `sqs-floor-fsync-server` that --compare-floor starts: the floor in
// memory, and the floor with a SyncLog in a temporary directory.
func newBenchSQSFloorServerCmds() []*cobra.Command {
	return []*cobra.Command{
		newBenchReferenceServerCmd("sqs-floor-server", "Run the SQS floor (bench/sqsfloor, the least the SQS bench's load needs) until interrupted",
			func() (http.Handler, func() error, error) {
				return &sqsfloor.Handler{}, func() error { return nil }, nil
			}),
		newBenchReferenceServerCmd("sqs-floor-fsync-server", "Run the SQS floor with each call's changes synced to a log until interrupted",
			func() (http.Handler, func() error, error) {
				dir, err := os.MkdirTemp("", "bridge-bench-floor-")
				if err != nil {
					return nil, nil, err
				}
				log, err := sqsfloor.OpenSyncLog(filepath.Join(dir, "log"), floorLogSize)
				if err != nil {
					return nil, nil, errors.Join(err, os.RemoveAll(dir))
				}
				return &sqsfloor.Handler{Log: log}, func() error { return errors.Join(log.Close(), os.RemoveAll(dir)) }, nil
			}),
	}
}
