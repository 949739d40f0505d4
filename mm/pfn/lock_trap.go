// The PFN lock.
//
// Trap-context file: everything here is //go:nosplit, allocates nothing from
// the Go heap and stores no Go pointers, because the page-fault handler takes
// this lock.
//
// One lock guards the whole database, as NT's PFN lock does. Frames move
// between lists from both goroutines and trap context (a demand-zero fault
// allocates a frame), so on bare metal the lock first disables interrupts:
// otherwise a fault or interrupt arriving while a goroutine holds it would
// spin forever on the only CPU. After that it spins on an atomic word, which
// on one CPU never waits but is where SMP contention will go. On the host
// there are no interrupts to mask and it is a plain spin lock.
//
// The lock is not recursive. Nothing called while it is held (the
// TransitionHook, Memory.ZeroFrame) may call back into the Database.

package pfn

import (
	"sync/atomic"

	"ntgo/kernel/arch"
)

type spinLock struct {
	held atomic.Uint32
	// rflags is the holder's RFLAGS from before it disabled interrupts,
	// restored on release (bare metal only).
	rflags uintptr
}

//go:nosplit
func (l *spinLock) acquire() {
	var rflags uintptr
	if arch.Bare() {
		rflags = arch.DisableInterrupts()
	}
	for !l.held.CompareAndSwap(0, 1) {
		arch.Pause()
	}
	l.rflags = rflags
}

//go:nosplit
func (l *spinLock) release() {
	rflags := l.rflags
	l.held.Store(0)
	if arch.Bare() {
		arch.RestoreInterrupts(rflags)
	}
}
