package mm_test

// What the tests of the memory manager on the machine share.

import (
	"runtime"
	"testing"

	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// requireBare skips tb unless it runs inside the kernel: on the host mm
// has no page tables, PFN database or pools.
func requireBare(tb testing.TB) {
	tb.Helper()
	if !arch.Bare() {
		tb.Skip("needs the kernel's own page tables, PFN database and pools: run with `make ktest PKG=./mm`")
	}
}

// uninterrupted runs f at HIGH_LEVEL with the other processors stalled
// (ke.StallOtherProcessors): HIGH_LEVEL masks every interrupt here, so
// nothing else runs until f returns (no other goroutine, no zero-page
// thread): counts f reads from the PFN database change only by what f
// does. f must not allocate from the Go heap, which
// could wait for the collector; faults on the runtime's memory are served
// at any IRQL. A preemption request made before would still make f's first
// stack check yield to another goroutine: rescheduling first clears it, and
// with interrupts masked nobody can make a new one.
func uninterrupted(f func()) {
	runtime.Gosched()
	old := ke.RaiseIrql(ke.HighLevel)
	ke.StallOtherProcessors()
	f()
	ke.ResumeOtherProcessors()
	ke.LowerIrql(old)
}
