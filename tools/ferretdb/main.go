// Command ferretdb runs FerretDB v1.24 for Hourglass's embedded database, on PostgreSQL (the
// default) or SQLite. It wraps the embeddable package instead of building cmd/ferretdb directly:
// a cmd/ferretdb built outside FerretDB's own tree panics at start because its generated version
// files are missing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

const (
	// How long FerretDB's requests in flight get to finish once it is told to stop.
	shutdownTimeout = 5 * time.Second
	// How long PostgreSQL gets for a fast shutdown before it is told to quit at once.
	postgresStopTimeout = 10 * time.Second
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "postgresql", "backend: postgresql or sqlite")
	postgresqlURL := flag.String("postgresql-url", "postgres://127.0.0.1:5432/ferretdb",
		"PostgreSQL URL; pool_max_conns=N in its query caps FerretDB's connection pool (FerretDB's default is 50)")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite directory URL (must end with a slash)")
	postgresPID := flag.Int("postgres-pid", 0,
		"PID of a PostgreSQL server this process owns: given a fast shutdown when this process stops")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	exitWithParent := flag.Bool("exit-with-parent", false, "stop when the process that started this one is gone")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad --log-level: %v\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	config := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
		Handler:  *handler,
	}
	switch *handler {
	case "postgresql":
		config.PostgreSQLURL = *postgresqlURL
	case "sqlite":
		config.SQLiteURL = *sqliteURL
	default:
		fmt.Fprintf(os.Stderr, "ferretdb: bad --handler %q: postgresql or sqlite\n", *handler)
		os.Exit(2)
	}

	// Whatever way this process ends from here on, the PostgreSQL it owns ends after it.
	code := run(config, *listen, *exitWithParent)
	if *postgresPID > 0 {
		stopPostgres(*postgresPID)
	}
	os.Exit(code)
}

func run(config *ferretdb.Config, listen string, exitWithParent bool) int {
	f, err := ferretdb.New(config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		return 1
	}

	// Its stderr is a pipe to the hub: once the hub is gone, a log line must not kill this process
	// (Go's default for SIGPIPE on stderr) before it has stopped PostgreSQL.
	signal.Ignore(syscall.SIGPIPE)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if exitWithParent {
		// A hub killed with SIGKILL cannot stop its database: notice the re-parenting and stop,
		// so no orphan keeps the port and the data files.
		parent := os.Getppid()
		go func() {
			for range time.Tick(500 * time.Millisecond) {
				if os.Getppid() != parent {
					stop()
					return
				}
			}
		}()
	}

	fmt.Fprintf(os.Stderr, "ferretdb: listening on %s (%s)\n", listen, config.Handler)
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	select {
	case err := <-done:
		return report(err)
	case <-ctx.Done():
	}
	// Run waits for the connections' requests in flight; one stuck in a long query must not keep
	// PostgreSQL running after the hub is gone.
	select {
	case err := <-done:
		return report(err)
	case <-time.After(shutdownTimeout):
		fmt.Fprintf(os.Stderr, "ferretdb: requests still running after %s; stopping anyway\n", shutdownTimeout)
		return 1
	}
}

func report(err error) int {
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		return 1
	}
	return 0
}

// stopPostgres asks the postmaster for a fast shutdown (SIGINT: disconnect clients, checkpoint,
// exit) and waits for it; one that hangs gets an immediate shutdown (SIGQUIT).
func stopPostgres(pid int) {
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		return // already gone
	}
	deadline := time.Now().Add(postgresStopTimeout)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "ferretdb: PostgreSQL (pid %d) did not stop in %s; sending SIGQUIT\n", pid, postgresStopTimeout)
			_ = syscall.Kill(pid, syscall.SIGQUIT)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
