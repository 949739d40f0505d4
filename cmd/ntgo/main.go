// Command ntgo is the kernel: booted by QEMU (make qemu), it runs the
// command-line script (run="cmd; cmd") and then the kd> console on the
// serial port.
package main

import (
	"fmt"
	"os"
	"runtime"

	_ "ntgo/boot"
	"ntgo/drivers/notmyfault"
	_ "ntgo/drivers/ramdisk"
	"ntgo/kernel"
	"ntgo/kernel/console"
	"ntgo/kernel/ntstatus"
)

// The kernel's driver list. systemDrivers stay loaded for the kernel's
// life: their entry is called once, before the script runs. bootDrivers
// are loaded through their own console commands, as NT loads its
// boot-start drivers, so that the console can unload them later.
var (
	systemDrivers = []struct {
		name  string
		entry func() ntstatus.Status
	}{
		{"notmyfault", notmyfault.DriverEntry},
	}
	bootDrivers = []string{"ramdisk load"}
)

func main() {
	fmt.Printf("ntgo: Go %s in ring 0, build %s\n", runtime.Version(), kernel.BuildRevision())
	for _, d := range systemDrivers {
		if st := d.entry(); st.IsError() {
			fmt.Printf("%s: DriverEntry failed: %v\n", d.name, st)
		}
	}
	for _, d := range bootDrivers {
		console.Execute(os.Stdout, d)
	}
	if script := os.Getenv("run"); script != "" {
		console.RunScript(os.Stdout, script)
	}
	console.Serve(os.Stdin, os.Stdout)
}
