// Command ntgo is the kernel: booted by QEMU (make qemu), it runs the
// command-line script (run="cmd; cmd") and then the kd> console on the
// serial port.
package main

import (
	"fmt"
	"os"
	"runtime"

	_ "ntgo/boot"
	"ntgo/kernel"
	"ntgo/kernel/console"
)

func main() {
	fmt.Printf("ntgo: Go %s in ring 0, build %s\n", runtime.Version(), kernel.BuildRevision())
	if script := os.Getenv("run"); script != "" {
		console.RunScript(os.Stdout, script)
	}
	console.Serve(os.Stdin, os.Stdout)
}
