// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Waiting for a page-in: the fault half (inpage.go says why and how). A
// fault that mm reports as va.InPage is queued for the in-page worker,
// whose thread is woken on mm's futex word, and the faulting goroutine is
// made to call runtime.asyncPreempt: it yields and retries the access. A
// fault that cannot yield there — not a goroutine's, interrupts off (a
// spin lock held: NT's raised IRQL), or code the runtime would not preempt
// (inpage.go) — stops: IRQL_NOT_LESS_OR_EQUAL for the first two, as a
// pageable fault that cannot wait is in NT, KERNEL_DATA_INPAGE_ERROR with
// STATUS_NOT_SUPPORTED for the third (ntgo cannot suspend such code).

package kernel

import (
	"ntgo/mm"
	"ntgo/mm/pte"
	"ntgo/mm/va"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// rflagsIF is RFLAGS' interrupt-enable bit.
const rflagsIF = 1 << 9

// asyncPreemptRoom is the goroutine stack asyncPreempt's register save
// area and its callees need below the faulting RSP.
const asyncPreemptRoom = 1024

// waitInPage finishes an InPage fault: it queues the read and makes the
// goroutine yield, or stops.
//
//go:nosplit
//go:noinline
func waitInPage(f *TrapFrame, fault *va.Fault) {
	if stopping.Load() {
		// Another processor is stopping the system (the in-page worker
		// that found this page unreadable, say): its screen is the one
		// to see. Retry until that stop freezes this processor, through
		// asyncPreempt where the goroutine can take it: the stop's own
		// allocations may need to stop the world, which waits for this
		// goroutine to reach a safe point.
		yield()
		if g := interruptedGoroutine(f); g != 0 && f.RFLAGS&rflagsIF != 0 && asyncPreemptable(f, g) {
			redirectToAsyncPreempt(f)
		}
		return
	}
	g := faultingGoroutine(f)
	if g == 0 || f.RFLAGS&rflagsIF == 0 {
		p := [4]uintptr{fault.VA, uintptr(ke.GetCurrentIrql()), irqlAccess(fault.Access), uintptr(f.RIP)}
		if !dispatchFault(f, g, bugcheck.IrqlNotLessOrEqual, p, 0, 0, false) {
			stop(f, bugcheck.IrqlNotLessOrEqual, p[0], p[1], p[2], p[3])
		}
		return
	}
	if !asyncPreemptable(f, g) {
		p := [4]uintptr{pte.PteAddress(fault.VA), uintptr(ntstatus.NotSupported), uintptr(fault.PTE), fault.VA}
		if !dispatchFault(f, g, bugcheck.KernelDataInpageError, p, 0, 0, false) {
			stop(f, bugcheck.KernelDataInpageError, p[0], p[1], p[2], p[3])
		}
		return
	}
	if w := mm.QueueInPage(fault.VA); w != 0 {
		sysFutexCall(w, futexWake, 1, 0)
	}
	// Give the processor up at once: the woken worker's thread (or the
	// one finishing the read) runs before this goroutine spins again.
	yield()
	redirectToAsyncPreempt(f)
}

// asyncPreemptable reports whether goroutine g, interrupted by f, can be
// sent through runtime.asyncPreempt.
//
//go:nosplit
func asyncPreemptable(f *TrapFrame, g uintptr) bool {
	return asyncPreemptPC != 0 && asyncSafe(uintptr(f.RIP)) && uintptr(f.RSP) >= loadWord(g+gStackLoOffset)+asyncPreemptRoom
}

// redirectToAsyncPreempt makes f call runtime.asyncPreempt, as the
// runtime's pushCall does: it returns to the faulting instruction itself.
//
//go:nosplit
func redirectToAsyncPreempt(f *TrapFrame) {
	f.RSP -= 8
	*(*uint64)(unsafePointerAt(uintptr(f.RSP))) = f.RIP
	f.RIP = uint64(asyncPreemptPC)
}

// asyncSafe reports whether the runtime would preempt the function
// holding pc (inpage.go's table).
//
//go:nosplit
func asyncSafe(pc uintptr) bool {
	lo, hi := 0, len(asyncSafeEntries)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if asyncSafeEntries[mid] <= pc {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo > 0 && asyncSafeFlags[lo-1]
}

// irqlAccess is IRQL_NOT_LESS_OR_EQUAL's third parameter for access a.
//
//go:nosplit
func irqlAccess(a pte.Access) uintptr {
	switch a {
	case pte.AccessWrite:
		return irqlAccessWrite
	case pte.AccessExecute:
		return irqlAccessExecute
	}
	return irqlAccessRead
}
