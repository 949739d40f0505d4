// Package commandtest runs console command lines in tests over a given set
// of commands (a debugger target's, a dump viewer's) without the global
// registry, and returns what they printed.
package commandtest

import (
	"bytes"
	"fmt"
	"testing"

	"ntgo/kernel/console"
)

// Run executes line with the command of cmds it names and returns its
// output; a command's error is appended as "error: <err>".
func Run(t testing.TB, cmds []console.Command, line string) string {
	t.Helper()
	fields, err := console.Fields(line)
	if err != nil || len(fields) == 0 {
		t.Fatalf("command line %q: %v", line, err)
	}
	for _, c := range cmds {
		if c.Name == fields[0] {
			var out bytes.Buffer
			if err := c.Run(&out, fields[1:]); err != nil {
				fmt.Fprintf(&out, "error: %v", err)
			}
			return out.String()
		}
	}
	t.Fatalf("no command %s", fields[0])
	return ""
}
