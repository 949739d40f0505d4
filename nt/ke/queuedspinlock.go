// In-stack queued spin locks: KeAcquireInStackQueuedSpinLock and its
// forms, over a KSpinLock whose word then holds the MCS queue's tail
// (spinlock_trap.go has the queue). A lock is taken either always queued
// or always plainly, as in NT.
//
// NT's KLOCK_QUEUE_HANDLE holds the waiter's queue entry itself, on the
// caller's stack. A goroutine's stack moves when it grows, so here the
// entry is one of the processor's queue nodes and the handle, which may
// live anywhere, says which; it also keeps the old IRQL, as NT's does.
// These routines run in goroutine context (they store the lock pointer in
// the handle); trap context uses SpinLock.

package ke

import "ntgo/nt/bugcheck"

// LockQueueHandle is KLOCK_QUEUE_HANDLE.
type LockQueueHandle struct {
	lock    *KSpinLock
	node    uint32
	pinned  bool
	OldIrql KIRQL
}

// AcquireInStackQueuedSpinLockAtDpcLevel is
// KeAcquireInStackQueuedSpinLockAtDpcLevel: the caller is at
// DISPATCH_LEVEL or above.
func AcquireInStackQueuedSpinLockAtDpcLevel(l *KSpinLock, h *LockQueueHandle) {
	cpu, pinned := pinProcessor()
	h.node = queueAcquire(&l.word, cpu, pinned)
	h.lock, h.pinned = l, pinned
}

// ReleaseInStackQueuedSpinLockFromDpcLevel is
// KeReleaseInStackQueuedSpinLockFromDpcLevel.
func ReleaseInStackQueuedSpinLockFromDpcLevel(h *LockQueueHandle) {
	l := h.lock
	if l == nil {
		bugcheck.KeBugCheckEx(bugcheck.SpinLockNotOwned, 0, 0, 0, 0)
	}
	h.lock = nil
	queueRelease(&l.word, h.node)
	unpin(h.pinned)
}

// AcquireInStackQueuedSpinLock is KeAcquireInStackQueuedSpinLock: raise to
// DISPATCH_LEVEL, keeping the old level in the handle, and take the lock.
func AcquireInStackQueuedSpinLock(l *KSpinLock, h *LockQueueHandle) {
	old := raiseToDispatch()
	AcquireInStackQueuedSpinLockAtDpcLevel(l, h)
	h.OldIrql = old
}

// ReleaseInStackQueuedSpinLock is KeReleaseInStackQueuedSpinLock: release
// and return to the handle's old level (running queued DPCs when that
// leaves DISPATCH_LEVEL).
func ReleaseInStackQueuedSpinLock(h *LockQueueHandle) {
	old := h.OldIrql
	ReleaseInStackQueuedSpinLockFromDpcLevel(h)
	if old < DispatchLevel {
		LowerIrql(old)
	}
}

// AcquireInStackQueuedSpinLockForDpc is KeAcquireInStackQueuedSpinLockForDpc:
// raises only when the caller is below DISPATCH_LEVEL.
func AcquireInStackQueuedSpinLockForDpc(l *KSpinLock, h *LockQueueHandle) {
	AcquireInStackQueuedSpinLock(l, h)
}

// ReleaseInStackQueuedSpinLockForDpc is
// KeReleaseInStackQueuedSpinLockForDpc.
func ReleaseInStackQueuedSpinLockForDpc(h *LockQueueHandle) { ReleaseInStackQueuedSpinLock(h) }
