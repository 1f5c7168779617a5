// Package pgcluster runs a private PostgreSQL cluster from the system's binaries, for development and tests.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a PostgreSQL cluster in a directory of its own, listening on 127.0.0.1.
type Cluster struct {
	Dir  string
	Port int
	bin  string
	// runAs is set when we are root: PostgreSQL refuses to run as root, so it runs as this user.
	runAs string
}

// Options tunes a cluster; Fast trades durability for speed, for throw-away test clusters.
type Options struct {
	Port int
	Fast bool
}

// Ensure initialises the cluster in dir when it is new and starts it unless it is already running.
func Ensure(ctx context.Context, dir string, opt Options) (*Cluster, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		c.runAs = "postgres"
		if _, err := user.Lookup(c.runAs); err != nil {
			return nil, errors.New("running as root needs the 'postgres' system user (apt-get install postgresql creates it)")
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := c.chown(dir); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if out, err := c.cmd(ctx, "initdb", "-D", data, "-U", "omnilink", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %v: %s", err, lastLines(out))
		}
	}
	portFile := filepath.Join(dir, "port")
	if c.running(ctx, data) {
		b, err := os.ReadFile(portFile)
		if err != nil {
			return nil, fmt.Errorf("cluster in %s is running but its port file is missing: %w", dir, err)
		}
		c.Port, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return c, c.waitReady(ctx)
	}
	c.Port = opt.Port
	if c.Port == 0 {
		if c.Port, err = freePort(); err != nil {
			return nil, err
		}
	}
	pgOpts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories='' -c max_connections=300", c.Port)
	if opt.Fast {
		pgOpts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	logFile := filepath.Join(dir, "postgres.log")
	if out, err := c.cmd(ctx, "pg_ctl", "-D", data, "-l", logFile, "-o", pgOpts, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		tail, _ := os.ReadFile(logFile)
		return nil, fmt.Errorf("pg_ctl start: %v: %s %s", err, lastLines(out), lastLines(tail))
	}
	if err := os.WriteFile(portFile, []byte(strconv.Itoa(c.Port)), 0o644); err != nil {
		return nil, err
	}
	return c, c.waitReady(ctx)
}

// URL returns a connection URL for the named database.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://omnilink@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// CreateDatabase creates db unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	return err
}

// Stop shuts the cluster down quickly, rolling back open transactions.
func (c *Cluster) Stop() error {
	out, err := c.cmd(context.Background(), "pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "fast", "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, lastLines(out))
	}
	return nil
}

func (c *Cluster) running(ctx context.Context, data string) bool {
	return c.cmd(ctx, "pg_ctl", "-D", data, "status").Run() == nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres on port %d did not accept connections: %w", c.Port, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Cluster) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.runAs != "" {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	}
	return exec.CommandContext(ctx, path, args...)
}

func (c *Cluster) chown(dir string) error {
	if c.runAs == "" {
		return nil
	}
	u, err := user.Lookup(c.runAs)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// findBinaries locates pg_ctl and initdb: on PATH first, then Debian's versioned directories.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	if len(matches) > 0 {
		return filepath.Dir(matches[0]), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install them with 'apt-get install postgresql' (make deps does this as root), or set DATABASE_URL")
}

func versionOf(p string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}
