// Spin locks.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The page-fault handler and the system-call layer take these locks.
//
// A SpinLock is NT's KSPIN_LOCK as the memory manager uses it (the PFN lock,
// the page-table lock): on bare metal Acquire first disables interrupts,
// because a fault or interrupt that arrived while a goroutine held the lock
// would otherwise spin forever on the only CPU; then it spins on an atomic
// word, which on one CPU never waits but is where SMP contention will go. On
// the host there are no interrupts to mask and it is a plain spin lock.
//
// A goroutine that holds the lock must not be descheduled: the Go runtime
// preempts a goroutine at a function prologue when asked to (a stack check
// that finds stackguard0 poisoned) and runs another on the same thread, with
// interrupts still off, and that one, or a fault, would spin on the lock
// forever. So in goroutine context Acquire also pins the goroutine to its
// thread the way sync.Pool does (the runtime's procPin: preemption is
// refused while the thread's lock count is raised) and Release unpins it.
// Trap context (a fault, an interrupt, a system call, the idle loop, boot)
// has no goroutine to pin; the kernel says which context is running
// (SetGoroutineContext).
//
// Not recursive. Held reports whether the lock is taken, HeldHere whether
// this processor took it, so a fault handler can stop with a bugcheck
// instead of spinning on a lock its own processor holds (another
// processor's hold is only a wait).
//
// Spinning runs the kernel's spin-wait hook (SetSpinWait) between tries: a
// processor that waits with interrupts off must still answer another
// processor's TLB shootdown, or the two would wait on each other.

package ke

import (
	"sync/atomic"
	_ "unsafe" // for go:linkname

	"ntgo/nt/arch"
)

// procPin and procUnpin are the runtime's (sync.Pool's) preemption guard.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// goroutineContext reports whether a goroutine (not trap context) is
// running; nil until the kernel sets it, so the host never pins.
var goroutineContext func() bool

// SetGoroutineContext installs the kernel's test for goroutine context. It
// must be //go:nosplit and allocation-free. The kernel calls it at boot,
// before the Go runtime starts (no write barrier is on yet).
//
//go:nosplit
func SetGoroutineContext(f func() bool) { goroutineContext = f }

// spinWait runs between tries of a spin; nil until the kernel sets it.
var spinWait func()

// SetSpinWait installs the kernel's spin-wait hook. It must be
// //go:nosplit and allocation-free; the kernel sets it before a second
// processor starts.
//
//go:nosplit
func SetSpinWait(f func()) { spinWait = f }

// SpinWait is one pause of a spin loop: the kernel's hook, then PAUSE.
//
//go:nosplit
func SpinWait() {
	if spinWait != nil {
		spinWait()
	}
	arch.Pause()
}

// SpinLock is an interrupt-disabling spin lock. The zero value is unlocked.
type SpinLock struct {
	held atomic.Uint32
	// owner is the holder's processor number + 1 (0: free).
	owner uint32
	// rflags is the holder's RFLAGS from before it disabled interrupts,
	// restored on release (bare metal only).
	rflags uintptr
	// pinned records that the holder is a goroutine Acquire pinned.
	pinned bool
}

// Acquire takes the lock.
//
//go:nosplit
func (l *SpinLock) Acquire() {
	var rflags uintptr
	if arch.Bare() {
		rflags = arch.DisableInterrupts()
	}
	pinned := goroutineContext != nil && goroutineContext()
	if pinned {
		procPin()
	}
	for !l.held.CompareAndSwap(0, 1) {
		SpinWait()
	}
	l.rflags, l.pinned = rflags, pinned
	l.owner = uint32(CurrentProcessorNumber()) + 1
}

// Release drops the lock and restores the interrupt state Acquire found.
//
//go:nosplit
func (l *SpinLock) Release() {
	rflags, pinned := l.rflags, l.pinned
	l.owner = 0
	l.held.Store(0)
	if pinned {
		procUnpin()
	}
	if arch.Bare() {
		arch.RestoreInterrupts(rflags)
	}
}

// Held reports whether someone holds the lock.
//
//go:nosplit
func (l *SpinLock) Held() bool { return l.held.Load() != 0 }

// HeldHere reports whether this processor holds the lock.
//
//go:nosplit
func (l *SpinLock) HeldHere() bool {
	return l.held.Load() != 0 && l.owner == uint32(CurrentProcessorNumber())+1
}
