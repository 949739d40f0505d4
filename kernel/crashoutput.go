package kernel

// The crash-output file the Go runtime copies its fatal report to
// (crashoutput_trap.go).

import (
	"os"
	"runtime/debug"
)

// crashOutput stays referenced so that no finalizer closes the device.
var crashOutput *os.File

func initCrashOutput() {
	crashOutput = os.NewFile(crashFd, "ntgo-crash")
	if err := debug.SetCrashOutput(crashOutput, debug.CrashOptions{}); err != nil {
		println("ntgo: no crash output, a Go crash will not be a bugcheck:", err.Error())
	}
}
