// Command bench measures omnilink's hot paths against a real Postgres and prints one plain table
// per section. make bench starts a throw-away cluster and passes its maintenance database in
// OMNILINK_TEST_ADMIN_URL; each run works in a database of its own, dropped at the end.
//
// A section is a function returning tables; add one to the list in main to measure more.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/omnilink/omnilink/internal/store"
)

// Table is one block of results.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
	Notes  []string
}

// Env is what every section gets: a migrated database of its own and the run's settings.
type Env struct {
	AdminURL string
	Settings Settings
	dbs      []string
}

// Settings bound each measurement.
type Settings struct {
	Requests int           // requests per measured run
	Clients  int           // concurrent clients
	MaxTime  time.Duration // a run stops early after this long
	Warmup   int           // unmeasured requests before each run
	Rate     int           // offered events per second in sustained runs
	Sustain  time.Duration // how long a sustained run offers its load
}

// childProfile is where the app server process writes its CPU profile (-server-cpuprofile).
var childProfile string

// Section is one benchmark area.
type Section struct {
	Name string
	Run  func(ctx context.Context, env *Env) ([]Table, error)
}

func main() {
	var s Settings
	flag.IntVar(&s.Requests, "requests", 20000, "requests per measured run")
	flag.IntVar(&s.Clients, "clients", 16, "concurrent clients")
	flag.DurationVar(&s.MaxTime, "max-time", 60*time.Second, "longest time one run may take")
	flag.IntVar(&s.Warmup, "warmup", 1000, "unmeasured requests before each run")
	flag.IntVar(&s.Rate, "rate", 2000, "events per second offered in the sustained webhook runs")
	flag.DurationVar(&s.Sustain, "sustain", 60*time.Second, "length of each sustained webhook run")
	child := flag.String("child", "", "internal: run a server under test (baseline or app) in this process")
	childDB := flag.String("child-db", "", "internal: the database of -child")
	flag.StringVar(&childProfile, "server-cpuprofile", "", "write a CPU profile of the app server process to this file")
	only := flag.String("only", "", "run only the sections whose name contains this")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (clients and server) to this file")
	flag.Parse()
	if *child != "" {
		if childProfile != "" && *child == "app" {
			f, err := os.Create(childProfile)
			if err == nil {
				err = pprof.StartCPUProfile(f)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench child:", err)
				os.Exit(2)
			}
		}
		err := runChild(*child, *childDB)
		pprof.StopCPUProfile()
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}

	sections := []Section{
		{Name: "webhook ingest", Run: webhookIngest},
		{Name: "health sweep", Run: healthSweep},
		{Name: "card images", Run: mediaBench},
		{Name: "link clicks", Run: linkClicks},
		{Name: "liff links", Run: liffLinks},
		{Name: "outbound sends and journeys", Run: outboundSends},
		{Name: "campaign statistics", Run: statsBench},
	}

	adminURL := os.Getenv("OMNILINK_TEST_ADMIN_URL")
	if adminURL == "" {
		fmt.Fprintln(os.Stderr, "bench: OMNILINK_TEST_ADMIN_URL is not set; run it with make bench")
		os.Exit(2)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	env := &Env{AdminURL: adminURL, Settings: s}
	defer env.dropDatabases(ctx)
	failed := false
	for _, sec := range sections {
		if *only != "" && !strings.Contains(sec.Name, *only) {
			continue
		}
		tables, err := sec.Run(ctx, env)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", sec.Name, err)
			failed = true
			continue
		}
		for _, t := range tables {
			printTable(t)
		}
	}
	env.dropDatabases(ctx)
	if failed {
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// Database creates and migrates a fresh database and returns its URL.
func (e *Env) Database(ctx context.Context) (string, error) {
	conn, err := pgx.Connect(ctx, e.AdminURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "bench_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	e.dbs = append(e.dbs, name)
	cfg := conn.Config()
	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	return url, store.Migrate(ctx, url)
}

func (e *Env) dropDatabases(ctx context.Context) {
	if len(e.dbs) == 0 {
		return
	}
	conn, err := pgx.Connect(ctx, e.AdminURL)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	for _, db := range e.dbs {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	}
	e.dbs = nil
}

func printTable(t Table) {
	fmt.Println(t.Title)
	fmt.Println(strings.Repeat("=", len(t.Title)))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(t.Header, "\t")+"\t")
	for _, r := range t.Rows {
		fmt.Fprintln(w, strings.Join(r, "\t")+"\t")
	}
	_ = w.Flush()
	for _, n := range t.Notes {
		fmt.Println("  " + n)
	}
	fmt.Println()
}
