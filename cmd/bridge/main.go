// Command bridge is StreamBridge: one binary that serves Kafka and
// Kinesis/SQS clients from one store. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	reexecWithAllocatorEnv(os.Args[1:])
	setUpHeap(os.Args[1:])
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

// run executes the command line and returns the exit status: 0 on success,
// 1 on any error, 2 after a forced exit (see serve).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	root := newRootCmd(lookupEnv, runServe)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		var logged errLogged
		if !errors.As(err, &logged) {
			fmt.Fprintf(stderr, "bridge: %v\n", err)
		}
		return 1
	}
	return 0
}

func newRootCmd(lookupEnv func(string) (string, bool), serveRun func(*cobra.Command, *serveOptions, layered) error) *cobra.Command {
	root := &cobra.Command{
		Use:   "bridge",
		Short: "Kafka and Kinesis/SQS clients on one store",
		Long: `StreamBridge serves Kafka clients and Kinesis/SQS clients from one store,
so a Kafka producer and a Kinesis consumer see the same records.

Start with: bridge serve`,
		// Errors are printed once, by run; usage only on request, so a
		// failed start does not bury its reason under the flag list.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())
	})
	root.AddCommand(newServeCmd(lookupEnv, serveRun), newVersionCmd(), newBenchCmd(), newCertsCmd(), newHealthcheckCmd(lookupEnv), newConnectCmd(lookupEnv))
	return root
}
