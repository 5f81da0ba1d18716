// Command upstate watches a service and the services it depends on, and
// tells its users the truth on a status page. Run `upstate --help`.
package main

import (
	"os"
	_ "time/tzdata" // page time zones work on hosts without zoneinfo

	"github.com/upstatehq/upstate/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
