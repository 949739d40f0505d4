// Command ntgo is the kernel: booted by QEMU (make qemu), it runs the
// command-line script (run="cmd; cmd") and then the kd> console on the
// serial port.
//
// A script stops at its first failing command, saying which and why. In a
// batch boot (batch=1 on the command line: ntgo-qemu -batch, make run) nobody
// is at the console, so the kernel then powers off instead of prompting:
// with bugcheck.StatusScriptFailed after a failing command, and with
// bugcheck.StatusScriptUnfinished when the script ends without poweroff.
package main

import (
	"fmt"
	"os"
	"runtime"

	_ "ntgo/boot"
	"ntgo/boot/cmdline"
	"ntgo/drivers/notmyfault"
	_ "ntgo/drivers/ramdisk"
	"ntgo/drivers/virtioblk"
	"ntgo/kernel"
	"ntgo/kernel/console"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
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
		{"virtioblk", virtioblk.DriverEntry},
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
	inBatch := os.Getenv(cmdline.BatchKey) != ""
	if script := os.Getenv("run"); script != "" {
		if err := console.RunScript(os.Stdout, script); err != nil {
			fmt.Printf("ntgo: run= script stopped: %v\n", err)
			if inBatch {
				fmt.Printf("ntgo: batch boot: powering off with status %d\n", bugcheck.StatusScriptFailed)
				kernel.PowerOff(bugcheck.StatusScriptFailed)
			}
		}
	}
	if inBatch {
		fmt.Printf("ntgo: batch boot: the run= script ended without poweroff; powering off with status %d\n", bugcheck.StatusScriptUnfinished)
		kernel.PowerOff(bugcheck.StatusScriptUnfinished)
	}
	console.Serve(os.Stdin, os.Stdout)
}
