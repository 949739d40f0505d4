// The trap entry keeps trap context's rule (docs/design.md, "Locking and
// context"): trap, the one Go entry for every interrupt, exception and
// system call, and everything it runs. Through ntgo/internal/trapcheck,
// on the host: every function of the package trap reaches in the sources
// is //go:nosplit (or says why not), and no static call out of trap,
// followed through the kernel's compiled code into any package (mm's
// fault handler, the Go runtime's memory, the scheduler), reaches a
// Go-heap allocation or a write barrier. (On the trap g a stack check
// never calls morestack: its stack guard is zero.) Calls through a value
// are the exception: the syscall table's handlers are reached through
// it, and their files (*_trap.go) are held to nosplit by
// TestTrapFilesAreNosplit in ntgo/internal/trapcheck.

package kernel

import (
	"testing"

	"ntgo/internal/trapcheck"
)

const inTrap = "in trap context"

func TestTrapEntryFunctionsAreNosplit(t *testing.T) {
	src := trapcheck.Parse(t, ".")
	held := src.Held([]trapcheck.Region{src.WholeFunction(t, "trap")})
	for fn := range held {
		if _, exempt := trapcheck.Exempt(src.Funcs[fn]); exempt {
			delete(held, fn)
		}
	}
	src.CheckNosplit(t, held, inTrap)
}

func TestTrapEntryDoesNotAllocate(t *testing.T) {
	entry := trapcheck.Parse(t, ".").WholeFunction(t, "trap")
	prog := trapcheck.DisassembleKernel(t, "") // inlining off breaks the trap path's nosplit budget
	trapcheck.NewSearch(prog, trapcheck.NoAllocation).CheckRegions(t, "ntgo/kernel", []trapcheck.Region{entry}, inTrap)
}

const inStallWindow = "in the stall window"

// The stall window (stallwindow_trap.go) runs in a goroutine, but a
// stalled processor may hold a lock of the Go runtime's, so it is held to
// trap context's rule too.
func TestStallWindowKeepsTrapRule(t *testing.T) {
	checkGoroutineRegion(t, "stallAndCopy", inStallWindow)
}

// The end of a goroutine's bugcheck screen (finishStop) likewise: the
// other processors are frozen there.
func TestStopTailKeepsTrapRule(t *testing.T) {
	checkGoroutineRegion(t, "finishStop", "with the other processors frozen")
}

// checkGoroutineRegion holds the whole function fn, which a goroutine
// runs, to trap context's rule: nosplit in the sources, and no stack check
// and no allocation reached in the kernel's code.
func checkGoroutineRegion(t *testing.T, fn, where string) {
	src := trapcheck.Parse(t, ".")
	region := src.WholeFunction(t, fn)
	src.CheckNosplit(t, src.Held([]trapcheck.Region{region}), where)
	prog := trapcheck.DisassembleKernel(t, "")
	for _, rule := range []trapcheck.Rule{trapcheck.NoStackCheck, trapcheck.NoAllocation} {
		trapcheck.NewSearch(prog, rule).CheckRegions(t, "ntgo/kernel", []trapcheck.Region{region}, where)
	}
}
