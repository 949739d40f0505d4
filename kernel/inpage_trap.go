// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Waiting for a page-in: the fault half (inpage.go says why and how). A
// fault that mm reports as va.InPage in a thread that can sleep — a
// goroutine's, interrupts on, the outermost trap — starts the read here
// (mm.BeginPageIn submits it to the paging file's device) and the thread
// sleeps in its fault, on the read's futex word, as in a futex wait: the
// device's interrupt maps the page and wakes it, and it retries the
// faulting instruction. No goroutine has to run for that, so any code may
// fault so — the runtime's memmove under `copy` as well as Go loops — and
// a stop-the-world waits for the read as for a long instruction. Since
// the scheduler's wake-up sets the thread's RAX (a system call's result),
// the thread resumes through inPageResume, which gives the faulting code
// its RAX back. When no read can start now (no frame, every entry or the
// device's queue busy), the page goes to mm's in-page worker and the code
// yields through runtime.asyncPreempt where the runtime would preempt it
// (so that the working-set manager and writer can run), or naps a
// millisecond and faults again. Faults that keep finding no frame while
// the pager makes no progress at all — no fault resolved, no page
// trimmed, written or read — for noPagesWait stop with NO_PAGES_AVAILABLE
// (0x4D), as NT stops when its page writers cannot free a page: the
// machine has no memory left for paged pool. A fault that cannot sleep — not a
// goroutine's, interrupts off (a spin lock held: NT's raised IRQL) —
// stops with IRQL_NOT_LESS_OR_EQUAL, as a pageable fault that cannot wait
// does in NT; a read that failed stops with KERNEL_DATA_INPAGE_ERROR.

package kernel

import (
	"sync/atomic"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/pte"
	"ntgo/mm/va"
	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// asyncPreemptRoom is the goroutine stack asyncPreempt's register save
// area and its callees need below the faulting RSP.
const asyncPreemptRoom = 1024

// How waitInPage ended: the thread waits (or retries), or pageFault stops
// on a shallower stack, with cannotWait or inPageFailed.
const (
	inPageWaits = iota
	inPageCannotWait
	inPageReadFailed
	inPageNoPages
)

// waitInPage finishes an InPage fault: the thread sleeps for the read,
// yields or naps, or it returns why it stops (and a failed read's status).
//
//go:nosplit
//go:noinline
func waitInPage(f *TrapFrame, fault *va.Fault) (int, ntstatus.Status) {
	if stopping.Load() {
		retryWhileStopping(f)
		return inPageWaits, 0
	}
	g := faultingGoroutine(f)
	if !canSleepInFault(f, g) {
		return inPageCannotWait, 0
	}
	w := beginPageIn(fault.VA, fault.Access)
	if w.Wake != 0 {
		sysFutexCall(w.Wake, futexWake, 1, 0)
	}
	if w.NoFrame && !frameWaitGoesOn() {
		return inPageNoPages, 0
	}
	switch w.How {
	case mm.InPageRetry:
		return inPageWaits, 0
	case mm.InPageSleep:
		sleepInFault(f, w.Word, w.Seq, 0)
		return inPageWaits, 0
	case mm.InPageFailed:
		return inPageReadFailed, w.Status
	}
	napOrYield(f, g)
	return inPageWaits, 0
}

// waitForFrame finishes a demand-zero fault on the Go runtime's memory
// that found no free frame (va.NoMemory), as NT's fault waits for a free
// page rather than failing: the thread naps or yields and faults again
// while the working-set manager trims and the writer writes, and such
// faults join the pageable ones' episode (noFrame), so that no frame for
// noPagesWait without progress is NO_PAGES_AVAILABLE either way. The
// thread need not be a goroutine's: the runtime grows its heap and copies
// stacks on its threads' own stacks (g0), and those nap. Where the stack
// has no resident room for what a nap or yield leaves on it (a frame whose
// first touch is this fault: sysmon's CPU-set buffer), the thread only
// gives the processor up and faults again when it next runs. A fault that
// cannot wait — interrupts off, a nested trap, or at DISPATCH_LEVEL, where
// the runtime's memory may fault (pagefault_trap.go) but not wait — keeps
// va's KERNEL_DATA_INPAGE_ERROR (inPageCannotWait).
//
//go:nosplit
//go:noinline
func waitForFrame(f *TrapFrame) int {
	if stopping.Load() {
		retryWhileStopping(f)
		return inPageWaits
	}
	if f.RFLAGS&arch.RflagsIF == 0 || !schedulesAtExit(currentKPCR()) || ke.GetCurrentIrql() >= ke.DispatchLevel {
		return inPageCannotWait
	}
	if !frameWaitGoesOn() {
		return inPageNoPages
	}
	g := faultingGoroutine(f)
	switch {
	case !mm.RuntimeAddress(uintptr(f.RSP)) || !mm.Readable(uintptr(f.RSP)-16) || !mm.Readable(uintptr(f.RSP)-asyncPreemptRoom):
		yield()
	case g != 0:
		napOrYield(f, g)
	default:
		sleepInFault(f, uintptr(unsafe.Pointer(&inPageNap)), 0, inPageNapNs)
	}
	return inPageWaits
}

// frameWaitGoesOn notes a fault that found no free frame and reports
// whether it may wait again: false once such faults have waited
// noPagesWait without the pager's progress (NO_PAGES_AVAILABLE).
//
//go:nosplit
func frameWaitGoesOn() bool {
	if noFrame.tooLong(arch.RDTSC(), tscHz, mm.PagingProgress()) {
		return false
	}
	mm.NoteFreePageWait()
	return true
}

// canSleepInFault reports whether the thread of goroutine g (0: none),
// interrupted by f, may sleep in its fault: interrupts on (no spin lock
// held) and the outermost trap.
//
//go:nosplit
func canSleepInFault(f *TrapFrame, g uintptr) bool {
	return g != 0 && f.RFLAGS&arch.RflagsIF != 0 && schedulesAtExit(currentKPCR())
}

// napOrYield lets the faulting goroutine g wait a little before it
// faults again: it yields through asyncPreempt where the runtime could
// preempt it, else its thread naps inPageNapNs.
//
//go:nosplit
func napOrYield(f *TrapFrame, g uintptr) {
	if !asyncPreemptable(f, g) {
		sleepInFault(f, uintptr(unsafe.Pointer(&inPageNap)), 0, inPageNapNs)
		return
	}
	// Give the processor up at once: the woken worker's thread (or the
	// one finishing the read) runs before this goroutine spins again.
	yield()
	redirectToAsyncPreempt(f)
}

// retryWhileStopping retries a fault while another processor is stopping
// the system (the in-page worker that found this page unreadable, say):
// its screen is the one to see. The fault retries until that stop freezes
// this processor, through asyncPreempt where the goroutine can take it:
// the stop's own allocations may need to stop the world, which waits for
// this goroutine to reach a safe point. (Apart, to keep waitInPage's
// frame small.)
//
//go:nosplit
//go:noinline
func retryWhileStopping(f *TrapFrame) {
	yield()
	if g := interruptedGoroutine(f); g != 0 && f.RFLAGS&arch.RflagsIF != 0 && asyncPreemptable(f, g) {
		redirectToAsyncPreempt(f)
	}
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

// cannotWait stops for a pageable fault whose thread cannot sleep, as NT
// does for one at raised IRQL: IRQL_NOT_LESS_OR_EQUAL. pageFault calls it,
// and inPageFailed, rather than waitInPage: the stop's chain of nosplit
// frames must start from a shallow one.
//
//go:nosplit
//go:noinline
func cannotWait(f *TrapFrame, fault *va.Fault) {
	g := faultingGoroutine(f)
	p := [4]uintptr{fault.VA, uintptr(ke.GetCurrentIrql()), irqlAccess(fault.Access), uintptr(f.RIP)}
	if !dispatchFault(f, g, bugcheck.IrqlNotLessOrEqual, p, 0, 0, false) {
		stop(f, bugcheck.IrqlNotLessOrEqual, p[0], p[1], p[2], p[3])
	}
}

// inPageFailed stops for a page of addr whose read failed with st:
// KERNEL_DATA_INPAGE_ERROR, in the faulting goroutine's context.
//
//go:nosplit
//go:noinline
func inPageFailed(f *TrapFrame, addr uintptr, st ntstatus.Status) {
	g := faultingGoroutine(f)
	p := mm.InpageErrorParams(addr, st)
	if !dispatchFault(f, g, bugcheck.KernelDataInpageError, p, 0, 0, false) {
		stop(f, bugcheck.KernelDataInpageError, p[0], p[1], p[2], p[3])
	}
}

// noPages stops for faults that found no frame for noPagesWait while the
// pager made no progress: NO_PAGES_AVAILABLE, in the faulting goroutine's
// context where the runtime could preempt it, else in trap context. A
// fault on the runtime's own memory may come inside the runtime with one
// of its locks held (growing the heap), where the goroutine's way to the
// screen, which allocates, would wait on that lock for ever.
//
//go:nosplit
//go:noinline
func noPages(f *TrapFrame) {
	g := faultingGoroutine(f)
	p := noPagesParams()
	if !asyncSafe(uintptr(f.RIP)) || !dispatchFault(f, g, bugcheck.NoPagesAvailable, p, 0, 0, false) {
		stop(f, bugcheck.NoPagesAvailable, p[0], p[1], p[2], p[3])
	}
}

// A wait for a frame: faults that find none keep one episode going while
// each comes within noFrameGap of the last; the episode's clock restarts
// whenever the pager's progress count moves.
const (
	noPagesWait = 20 // seconds without progress: NO_PAGES_AVAILABLE
	noFrameGap  = 1  // seconds between faults that ends an episode
)

// noFrameWait is the episode the faults that found no frame are in.
type noFrameWait struct {
	since    atomic.Uint64 // time of the episode's start or last progress
	last     atomic.Uint64 // time of the episode's latest fault
	progress atomic.Uint64 // the pager's progress count then
}

var noFrame noFrameWait

// tooLong notes a fault that found no frame at now (ticks of hz per
// second) with the pager's progress count at progress, and reports
// whether such faults have waited noPagesWait with no progress.
// Processors race on the words harmlessly: a lost update only restarts
// the clock.
//
//go:nosplit
func (w *noFrameWait) tooLong(now, hz, progress uint64) bool {
	last := w.last.Swap(now)
	if now-last > hz*noFrameGap || w.progress.Load() != progress {
		w.progress.Store(progress)
		w.since.Store(now)
		return false
	}
	return now-w.since.Load() > hz*noPagesWait
}

// beginPageIn is mm.BeginPageIn, called through a value so that the
// linker's bound on the fault handler's chain of nosplit frames ends at
// the call (as mm/va reaches its PageSource through an interface): the
// page-table and PFN work below it runs on the trap stack, which has room.
var beginPageIn = mm.BeginPageIn

// noPagesParams is mm.NoPagesParams, through a value as beginPageIn is.
var noPagesParams = mm.NoPagesParams

// inPageNap is a futex word nobody wakes: a nap is its timeout.
var inPageNap uint32

// inPageNapNs is how long code that can neither sleep for a read nor
// yield waits before faulting again.
const inPageNapNs = 1_000_000

// sleepInFault blocks the faulting thread on the futex word at word while
// it holds seq (for at most timeoutNs if not 0), to retry the access when
// woken. Its RIP and RAX are pushed on its stack (faultingGoroutine left
// room) and it resumes at inPageResume, which pops RAX and returns to the
// faulting instruction: the wake-up's result lands in the saved RAX.
//
//go:nosplit
func sleepInFault(f *TrapFrame, word uintptr, seq uint32, timeoutNs int64) {
	ts := [2]int64{timeoutNs / 1_000_000_000, timeoutNs % 1_000_000_000}
	tp := uintptr(0)
	if timeoutNs != 0 {
		tp = uintptr(unsafe.Pointer(&ts))
	}
	if futexInFault(word, futexWait, uintptr(seq), tp) != 0 {
		return // the word moved already: retry now
	}
	f.RSP -= 8
	*(*uint64)(unsafePointerAt(uintptr(f.RSP))) = f.RIP
	f.RSP -= 8
	*(*uint64)(unsafePointerAt(uintptr(f.RSP))) = f.RAX
	f.RIP = uint64(inPageResumePC)
}

// futexInFault is sysFutexCall, called through a value for the reason
// beginPageIn is: the fault handler's nosplit chain, which the linker
// bounds, ends at the call.
var futexInFault = sysFutexCall

// inPageResumePC is inPageResume's address (set at boot).
var inPageResumePC uintptr

// FutexWake wakes every thread sleeping on the futex word at word, from
// trap context: a driver's interrupt service routine ending a read that
// a fault sleeps for (mm.InPageDevice).
//
//go:nosplit
func FutexWake(word uintptr) {
	if word != 0 {
		sysFutexCall(word, futexWake, maxThreads, 0)
	}
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
