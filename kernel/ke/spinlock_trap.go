// Spin locks.
//
// Trap-context file: everything here is //go:nosplit, allocates nothing from
// the Go heap and stores no Go pointers, because the page-fault handler and
// the system-call layer take these locks.
//
// A SpinLock is NT's KSPIN_LOCK as the memory manager uses it (the PFN lock,
// the page-table lock): on bare metal Acquire first disables interrupts,
// because a fault or interrupt that arrived while a goroutine held the lock
// would otherwise spin forever on the only CPU; then it spins on an atomic
// word, which on one CPU never waits but is where SMP contention will go. On
// the host there are no interrupts to mask and it is a plain spin lock.
//
// Not recursive. Held reports whether the lock is taken, so a fault handler
// can stop with a bugcheck instead of spinning on a lock its own CPU holds.

package ke

import (
	"sync/atomic"

	"ntgo/kernel/arch"
)

// SpinLock is an interrupt-disabling spin lock. The zero value is unlocked.
type SpinLock struct {
	held atomic.Uint32
	// rflags is the holder's RFLAGS from before it disabled interrupts,
	// restored on release (bare metal only).
	rflags uintptr
}

// Acquire takes the lock.
//
//go:nosplit
func (l *SpinLock) Acquire() {
	var rflags uintptr
	if arch.Bare() {
		rflags = arch.DisableInterrupts()
	}
	for !l.held.CompareAndSwap(0, 1) {
		arch.Pause()
	}
	l.rflags = rflags
}

// Release drops the lock and restores the interrupt state Acquire found.
//
//go:nosplit
func (l *SpinLock) Release() {
	rflags := l.rflags
	l.held.Store(0)
	if arch.Bare() {
		arch.RestoreInterrupts(rflags)
	}
}

// Held reports whether someone holds the lock.
//
//go:nosplit
func (l *SpinLock) Held() bool { return l.held.Load() != 0 }
