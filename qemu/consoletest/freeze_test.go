package consoletest

import (
	"regexp"
	"testing"

	"ntgo/nt/bugcheck"
	ntqemu "ntgo/qemu"
)

// A bugcheck on one processor stops all four (QEMU -smp 4): the screen's
// PROCESSORS section lists the one that stopped (whichever runs the
// console's goroutine) and each other one frozen by the freeze IPI, with
// its RIP and IRQL.
func TestBugcheckStopsEveryProcessor(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{CPUs: 4, Batch: true, Args: []string{"run=bugcheck e2 1 2 3 4"}})
	expect(t, vm, "*** STOP: 0x000000E2", "PROCESSORS:")
	section := expect(t, vm, "Powering off with exit status")
	row := regexp.MustCompile(`(?m)^  ([0-3])  RIP [0-9a-f]{8}` + "`" + `[0-9a-f]{8}  IRQL \d+  (the bugcheck|frozen)\r*$`)
	rows := row.FindAllStringSubmatch(section, -1)
	stopped, frozen := 0, 0
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r[1]] = true
		if r[2] == "frozen" {
			frozen++
		} else {
			stopped++
		}
	}
	if len(rows) != 4 || len(seen) != 4 || stopped != 1 || frozen != 3 {
		t.Errorf("want processors 0-3, one that stopped and three frozen; got %d rows (%d stopped, %d frozen) in\n%q", len(rows), stopped, frozen, section)
	}
	expectBugcheck(t, vm, bugcheck.ManuallyInitiatedCrash)
}
