// Command ntgo is the kernel: booted by QEMU (make qemu), it runs the
// command-line script (run="cmd; cmd") and then the kd> console on the
// serial port.
package main

import (
	"fmt"
	"os"
	"runtime"

	_ "ntgo/boot"
	_ "ntgo/drivers/ramdisk"
	"ntgo/kernel"
	"ntgo/kernel/console"
)

// bootDrivers are loaded before the script runs, as NT loads its
// boot-start drivers: through their own console commands, so that the
// console can unload them later.
var bootDrivers = []string{"ramdisk load"}

func main() {
	fmt.Printf("ntgo: Go %s in ring 0, build %s\n", runtime.Version(), kernel.BuildRevision())
	for _, d := range bootDrivers {
		console.Execute(os.Stdout, d)
	}
	if script := os.Getenv("run"); script != "" {
		console.RunScript(os.Stdout, script)
	}
	console.Serve(os.Stdin, os.Stdout)
}
