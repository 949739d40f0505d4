package consoletest

import (
	"fmt"
	"testing"

	"ntgo/nt/bugcheck"
	ntqemu "ntgo/qemu"
)

// A bugcheck on one processor stops all four (QEMU -smp 4): the screen's
// PROCESSORS section lists the one that stopped and each other one frozen
// by the freeze IPI, with its RIP and IRQL.
func TestBugcheckStopsEveryProcessor(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{CPUs: 4, Batch: true, Args: []string{"run=bugcheck e2 1 2 3 4"}})
	expect(t, vm, "*** STOP: 0x000000E2", "PROCESSORS:")
	expect(t, vm, "  0  RIP 00000000`", "  the bugcheck")
	for n := 1; n < 4; n++ {
		expect(t, vm, fmt.Sprintf("  %d  RIP 00000000`", n), "  IRQL 0  frozen")
	}
	expect(t, vm, "Powering off with exit status")
	expectBugcheck(t, vm, bugcheck.ManuallyInitiatedCrash)
}
