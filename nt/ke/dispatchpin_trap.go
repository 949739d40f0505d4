// The dispatch pin: no goroutine switch at DISPATCH_LEVEL.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// NT switches no thread on a processor at DISPATCH_LEVEL or above, and
// the kernel's thread scheduler honours that for its threads (the Go
// runtime's Ms). But the Go scheduler switches goroutines on an M by
// itself: a preemption request seen at a stack check, or a GC assist,
// parks the goroutine and runs another on the same thread — at the raised
// IRQL, in the middle of the first one's spin-locked region. And a
// goroutine locked to its thread (SetSystemAffinityThreadEx) that is
// preempted stops its M in a futex wait: a switch at DISPATCH_LEVEL,
// ATTEMPTED_SWITCH_FROM_DPC.
//
// So a goroutine that raises the IRQL to DISPATCH_LEVEL or above pins
// itself to its M (the runtime's procPin: m.locks, which the runtime
// checks before every preemption and GC assist), and lowering below
// DISPATCH_LEVEL unpins it. setIrql (irqlcopy_trap.go) does both, once per crossing, and
// keeps the mark per processor (the pinned goroutine cannot leave it). A
// pinned goroutine that blocks anyway — a sleep, a channel wait, an exit
// at DISPATCH_LEVEL — makes the runtime throw "holding locks"; the kernel
// turns that exit into ATTEMPTED_SWITCH_FROM_DPC, as NT's context switch
// would stop. A bugcheck raised as a Go panic (the test binaries' mode)
// must drop the pin first, since the runtime may not panic with it held;
// and an unpinned goroutine at DISPATCH_LEVEL could be switched out
// while it unwinds, leaving another goroutine, or its thread's sleep, at
// that level. So the panic unwinds at PASSIVE_LEVEL (LowerForPanic), and
// bugcheck.Catch takes its caller back to the level the bugcheck was
// raised at (RaiseAfterCatch), pinned on whichever processor it is on.
//
// Bare metal only: the host has no IRQL of its own to protect.

package ke

// LowerForPanic takes a goroutine about to panic with a bugcheck
// (bugcheck.SetPanicHooks) from DISPATCH_LEVEL or above to PASSIVE_LEVEL,
// dropping its pin, and returns the level it left for RaiseAfterCatch.
// Queued DPCs wait for the next drop below DISPATCH_LEVEL: they do not
// run in the middle of a bugcheck.
//
//go:nosplit
func LowerForPanic() (raisedAt uintptr) {
	irql := GetCurrentIrql()
	if irql >= DispatchLevel && inGoroutine() {
		setIrql(PassiveLevel)
	}
	return uintptr(irql)
}

// RaiseAfterCatch returns a goroutine whose bugcheck Catch recovered
// (tests only) to the level LowerForPanic left, on the processor it now
// runs on.
//
//go:nosplit
func RaiseAfterCatch(raisedAt uintptr) {
	if l := KIRQL(raisedAt); l >= DispatchLevel && GetCurrentIrql() < l && inGoroutine() {
		setIrql(l)
	}
}
