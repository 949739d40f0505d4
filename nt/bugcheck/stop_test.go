package bugcheck_test

import (
	"os"
	"testing"

	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
)

// StopTestVar, set on the kernel command line, runs the tests that stop
// the machine; qemu/consoletest boots them and checks the stop.
const StopTestVar = "ntgo.stoptest"

// An uncaught bugcheck in a test at HIGH_LEVEL: the test fails and the
// machine stops with a screen instead of hanging (the panic unwinds at
// PASSIVE_LEVEL, ke.LowerForPanic, so the runtime's fatal path, which
// sleeps, has its timer).
func TestUncaughtBugcheckAtHighLevel(t *testing.T) {
	if os.Getenv(StopTestVar) == "" {
		t.Skip("stops the machine: run by qemu/consoletest's TestKernelTestStopsAtRaisedIrql")
	}
	ke.RaiseIrql(ke.HighLevel)
	bugcheck.KeBugCheckEx(bugcheck.ManuallyInitiatedCrash, 1, 2, 3, 4)
}
