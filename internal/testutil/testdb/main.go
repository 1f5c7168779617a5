// Command testdb starts and stops the throw-away Postgres cluster that make test shares
// between test binaries: "testdb start DIR" prints the maintenance URL, "testdb stop DIR" ends it.
// "testdb start DIR durable" keeps fsync and synchronous_commit on, for make bench's durable figures.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/omnilink/omnilink/internal/pgcluster"
)

func main() {
	durable := len(os.Args) == 4 && os.Args[3] == "durable"
	if (len(os.Args) != 3 && !durable) || (os.Args[1] != "start" && os.Args[1] != "stop") {
		fmt.Fprintln(os.Stderr, "usage: testdb start|stop DIR [durable]")
		os.Exit(2)
	}
	c, err := pgcluster.Ensure(context.Background(), os.Args[2], pgcluster.Options{Fast: !durable})
	if err == nil && os.Args[1] == "stop" {
		err = c.Stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		os.Exit(1)
	}
	if os.Args[1] == "start" {
		fmt.Println(c.URL("postgres"))
	}
}
