// Spin locks.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The page-fault handler and the system-call layer take these locks.
//
// Two kinds, as NT has them:
//
//   - KSpinLock is KSPIN_LOCK, the driver's lock: AcquireSpinLock raises
//     the IRQL to DISPATCH_LEVEL and spins with PAUSE on one pointer-sized
//     word (0 free, else plainOwner's value for its holder's processor);
//     the ...AtDpcLevel forms assume the caller is at DISPATCH_LEVEL, the
//     ...ForDpc forms raise only when the caller is below it. The same word
//     also serves the in-stack queued forms (queuedspinlock.go), where it
//     holds the queue's tail.
//   - SpinLock is the memory manager's interrupt-disabling lock (the PFN
//     lock, the page-table lock), taken in trap context as well. It is
//     NT's numbered queued spin lock (KeAcquireQueuedSpinLock with
//     LockQueuePfnLock): a waiter spins on its own processor's queue node,
//     not on the lock's word, and the lock is handed over in arrival
//     order, which is why NT's PFN lock is queued — under contention every
//     release would otherwise send the word's cache line to every waiter.
//
// The queue (MCS). Each processor has queueNodesPerProcessor nodes, one per
// queued lock it holds or waits for at once (a fault under the table lock
// takes the PFN lock). A lock's word holds the tail's node id + 1; an
// acquirer swaps its node in, links itself behind the old tail and spins on
// its node's wait flag until the previous holder clears it; release hands
// over to the successor or, with none, swaps the word back to 0. Nodes are
// named by index, never by address, so nothing here converts integers to
// pointers and goroutine stacks (which move) hold no node.
//
// Processor: on bare metal the IRQL (DISPATCH_LEVEL, or interrupts off)
// keeps the holder on its processor, so CurrentProcessorNumber names it.
// On the host, where goroutines are the processors, the holder is pinned
// to its P (the runtime's procPin) and the P's id names it.
//
// A goroutine that holds a lock must not be descheduled: the Go runtime
// preempts a goroutine at a function prologue when asked to (a stack check
// that finds stackguard0 poisoned) and runs another on the same thread,
// at the same IRQL, and that one, or a fault, would spin on the lock
// forever. So in goroutine context acquisition pins the goroutine to its
// thread the way sync.Pool does (procPin: preemption is refused while the
// thread's lock count is raised) and release unpins it. Trap context (a
// fault, an interrupt, a system call, the idle loop, boot) has no
// goroutine to pin; the kernel says which context is running
// (SetGoroutineContext).
//
// Misuse stops as NT's checked kernel does: acquiring a lock the processor
// already holds or waits for is SPIN_LOCK_ALREADY_OWNED (0x0F: the lock,
// the processor), releasing a KSpinLock it does not hold
// SPIN_LOCK_NOT_OWNED (0x10: the lock, the lock word), and spinning past
// spinTimeout (seconds: a deadlock, not contention) DPC_WATCHDOG_VIOLATION
// (0x133) with parameter 1 = 1, NT's "the system spent an extended period
// at DISPATCH_LEVEL or above", then the bound in TSC ticks, the lock and
// the lock word (its owner). Held reports whether the lock is taken, so a
// fault handler can stop with its own bugcheck instead of spinning.

package ke

import (
	"math/bits"
	"sync/atomic"
	"unsafe"

	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
)

// procPin and procUnpin are the runtime's (sync.Pool's) preemption guard.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// goroutineContext reports whether a goroutine (not trap context) is
// running; nil until the kernel sets it.
var goroutineContext func() bool

// SetGoroutineContext installs the kernel's test for goroutine context. It
// must be //go:nosplit and allocation-free. The kernel calls it at boot,
// before the Go runtime starts (no write barrier is on yet).
//
//go:nosplit
func SetGoroutineContext(f func() bool) { goroutineContext = f }

// pinProcessor pins a goroutine caller and returns the processor the lock
// code names it by (see the file comment) and whether it pinned.
//
//go:nosplit
func pinProcessor() (cpu int, pinned bool) {
	if !arch.Bare() {
		cpu = procPin()
		if uint(cpu) >= MaximumProcessors {
			procUnpin()
			bugcheck.KeBugCheckEx(bugcheck.SpinLockAlreadyOwned, 0, uintptr(cpu), 0, 0)
		}
		return cpu, true
	}
	if goroutineContext != nil && goroutineContext() {
		procPin()
		pinned = true
	}
	return CurrentProcessorNumber(), pinned
}

//go:nosplit
func unpin(pinned bool) {
	if pinned {
		procUnpin()
	}
}

// unpinRecursive drops the pin of a recursive acquisition and of the one it
// repeats before the stop: a Go panic (the bugcheck on the host and in test
// mode) may not unwind through pinned frames, and the holder is stopped.
//
//go:nosplit
func unpinRecursive(pinned bool) {
	unpin(pinned)
	unpin(pinned)
}

// spinTimeout is how many TSC ticks a spin may last before it is taken for
// a deadlock: about 5-8 seconds at the 2-3.5 GHz of today's TSCs, far past
// any hold time a working kernel has.
var spinTimeout uint64 = 1 << 34

// spinWait paces a spin: PAUSE each round and, every spinCheck rounds, a
// look at the TSC against the deadline set at the first look.
type spinWait struct {
	rounds   uint32
	deadline uint64
}

const spinCheck = 1024

// pause waits one round and reports false once the spin has timed out.
//
//go:nosplit
func (s *spinWait) pause() bool {
	arch.Pause()
	s.rounds++
	if s.rounds%spinCheck != 0 {
		return true
	}
	now := arch.RDTSC()
	if s.deadline == 0 {
		s.deadline = now + spinTimeout
		return true
	}
	return now < s.deadline
}

// spinTimedOut stops for a spin on lock (its address, its word) that
// outlasted spinTimeout.
//
//go:nosplit
func spinTimedOut(lock, word uintptr) {
	bugcheck.KeBugCheckEx(bugcheck.DpcWatchdogViolation, 1, uintptr(spinTimeout), lock, word)
}

// addressOf is a lock word's address, for the bugcheck parameters and the
// nodes' recursion check.
//
//go:nosplit
func addressOf(w *atomic.Uintptr) uintptr { return uintptr(unsafe.Pointer(w)) }

// The queue nodes.
const queueNodesPerProcessor = 16

type queueNode struct {
	next atomic.Uint32 // successor's node id + 1, 0 while none has linked
	wait atomic.Uint32 // 1 while this node's owner must keep spinning
	lock uintptr       // the lock word this node is queued on (recursion check)
	_    [cacheLine - 16]byte
}

var queueNodes [MaximumProcessors * queueNodesPerProcessor]queueNode

// queueSlots has each processor's in-use bitmap of its nodes.
var queueSlots [MaximumProcessors]struct {
	used atomic.Uint32
	_    [cacheLine - 4]byte
}

// plainOwner marks a KSpinLock word held by a plain acquire: above every
// node id + 1, with the holder's processor + 1 below it.
const plainOwner = 1 << 62

// queueAcquire queues processor cpu on the lock word w and returns once it
// holds the lock, with the node it used (for queueRelease).
//
//go:nosplit
func queueAcquire(w *atomic.Uintptr, cpu int, pinned bool) uint32 {
	lock := addressOf(w)
	if queuedHere(cpu, lock) {
		unpinRecursive(pinned)
		bugcheck.KeBugCheckEx(bugcheck.SpinLockAlreadyOwned, lock, uintptr(cpu), 0, 0)
	}
	slots := &queueSlots[cpu].used
	var slot int
	for {
		b := slots.Load()
		slot = bits.TrailingZeros32(^b)
		if slot >= queueNodesPerProcessor {
			unpin(pinned)
			bugcheck.KeBugCheckEx(bugcheck.SpinLockAlreadyOwned, lock, uintptr(cpu), queueNodesPerProcessor, 0)
		}
		if slots.CompareAndSwap(b, b|1<<slot) {
			break
		}
	}
	id := uint32(cpu*queueNodesPerProcessor + slot)
	n := &queueNodes[id]
	n.next.Store(0)
	n.wait.Store(1)
	n.lock = lock
	prev := w.Swap(uintptr(id) + 1)
	if prev != 0 {
		if prev >= plainOwner || prev > uintptr(len(queueNodes)) {
			unpin(pinned)
			bugcheck.KeBugCheckEx(bugcheck.SpinLockNotOwned, lock, prev, 0, 0)
		}
		queueNodes[prev-1].next.Store(id + 1)
		var s spinWait
		freeze := false
		for n.wait.Load() != 0 {
			if arch.Bare() && ipiPollQueued(cpu) { // interrupts may be off: serve IPIs here (ipi_trap.go)
				freeze = true
			}
			if !s.pause() {
				unpin(pinned)
				spinTimedOut(lock, w.Load())
			}
		}
		if freeze { // pass the lock on, then stop (ipiPollQueued)
			queueRelease(w, id)
			frozen(cpu)
		}
	}
	return id
}

// queuedHere reports whether one of processor cpu's nodes is queued on (or
// holds) the lock word at address lock.
//
//go:nosplit
func queuedHere(cpu int, lock uintptr) bool {
	for b := queueSlots[cpu].used.Load(); b != 0; b &= b - 1 {
		if queueNodes[cpu*queueNodesPerProcessor+bits.TrailingZeros32(b)].lock == lock {
			return true
		}
	}
	return false
}

// queueRelease hands the lock word w, held through node id, to the next
// waiter, or frees it.
//
//go:nosplit
func queueRelease(w *atomic.Uintptr, id uint32) {
	n := nodeAt(id)
	next := n.next.Load()
	if next == 0 {
		if w.CompareAndSwap(uintptr(id)+1, 0) {
			freeNode(id)
			return
		}
		// A successor swapped itself in and is about to link: wait for it.
		for next = n.next.Load(); next == 0; next = n.next.Load() {
			arch.Pause()
		}
	}
	nodeAt(next - 1).wait.Store(0)
	freeNode(id)
}

//go:nosplit
func freeNode(id uint32) {
	nodeAt(id).lock = 0
	queueSlots[id/queueNodesPerProcessor%MaximumProcessors].used.And(^(uint32(1) << (id % queueNodesPerProcessor)))
}

// nodeAt is node id, without a bounds check (ids come from this file; the
// lock paths' nosplit stack budget has no room for the panic's frames).
//
//go:nosplit
func nodeAt(id uint32) *queueNode { return &queueNodes[id%uint32(len(queueNodes))] }

// SpinLock is an interrupt-disabling queued spin lock. The zero value is
// unlocked.
type SpinLock struct {
	word atomic.Uintptr // the queue's tail node id + 1, 0 when free
	// The holder's: its node, its RFLAGS from before it disabled
	// interrupts (restored on release, bare metal only), and whether
	// Acquire pinned it.
	node   uint32
	rflags uintptr
	pinned bool
}

// Acquire takes the lock.
//
//go:nosplit
func (l *SpinLock) Acquire() {
	rflags := interruptsOff()
	cpu, pinned := pinProcessor()
	l.node = queueAcquire(&l.word, cpu, pinned)
	l.rflags, l.pinned = rflags, pinned
}

// Release drops the lock and restores the interrupt state Acquire found.
//
//go:nosplit
func (l *SpinLock) Release() {
	rflags, pinned := l.rflags, l.pinned
	queueRelease(&l.word, l.node)
	unpin(pinned)
	interruptsOn(rflags)
}

// Held reports whether someone holds the lock (or waits for it).
//
//go:nosplit
func (l *SpinLock) Held() bool { return l.word.Load() != 0 }

// HeldHere reports whether this processor holds the lock (or waits for
// it), so that a fault handler can stop instead of spinning on a lock its
// own processor took (another processor's hold is only a wait).
//
//go:nosplit
func (l *SpinLock) HeldHere() bool {
	cpu := lockProcessor()
	return uint(cpu) < MaximumProcessors && queuedHere(cpu, addressOf(&l.word))
}

// KSpinLock is KSPIN_LOCK. The zero value is unlocked (KeInitializeSpinLock
// also sets it so).
type KSpinLock struct {
	word atomic.Uintptr
}

// InitializeSpinLock is KeInitializeSpinLock.
//
//go:nosplit
func InitializeSpinLock(l *KSpinLock) { l.word.Store(0) }

// AcquireSpinLockAtDpcLevel is KeAcquireSpinLockAtDpcLevel: the caller is
// at DISPATCH_LEVEL or above.
//
//go:nosplit
func AcquireSpinLockAtDpcLevel(l *KSpinLock) {
	cpu, pinned := pinProcessor()
	me := plainOwner | uintptr(cpu+1)
	if l.word.CompareAndSwap(0, me) {
		return
	}
	if l.word.Load() == me {
		unpinRecursive(pinned)
		bugcheck.KeBugCheckEx(bugcheck.SpinLockAlreadyOwned, addressOf(&l.word), uintptr(cpu), 0, 0)
	}
	var s spinWait
	for {
		// Test, then test-and-set: waiters read the line shared and write
		// it only when it looks free.
		if l.word.Load() == 0 && l.word.CompareAndSwap(0, me) {
			return
		}
		if !s.pause() {
			unpin(pinned)
			spinTimedOut(addressOf(&l.word), l.word.Load())
		}
	}
}

// ReleaseSpinLockFromDpcLevel is KeReleaseSpinLockFromDpcLevel.
//
//go:nosplit
func ReleaseSpinLockFromDpcLevel(l *KSpinLock) {
	w := l.word.Load()
	if w < plainOwner || w != plainOwner|uintptr(lockProcessor()+1) {
		bugcheck.KeBugCheckEx(bugcheck.SpinLockNotOwned, addressOf(&l.word), w, 0, 0)
	}
	l.word.Store(0)
	procUnpinFor()
}

// lockProcessor is the processor a holder is named by, without pinning
// again (the holder is pinned already).
//
//go:nosplit
func lockProcessor() int {
	if !arch.Bare() {
		cpu := procPin()
		procUnpin()
		return cpu
	}
	return CurrentProcessorNumber()
}

// procUnpinFor undoes the pin an acquisition by the current context took.
//
//go:nosplit
func procUnpinFor() {
	if !arch.Bare() || goroutineContext != nil && goroutineContext() {
		procUnpin()
	}
}

// AcquireSpinLock is KeAcquireSpinLock: raise to DISPATCH_LEVEL (above it
// is IRQL_NOT_GREATER_OR_EQUAL), take the lock, return the old level for
// ReleaseSpinLock.
//
//go:nosplit
func AcquireSpinLock(l *KSpinLock) (old KIRQL) {
	old = raiseToDispatch()
	AcquireSpinLockAtDpcLevel(l)
	return old
}

// raiseToDispatch is RaiseIrql(DispatchLevel) for the lock routines.
//
//go:nosplit
func raiseToDispatch() KIRQL {
	old := CurrentIrql()
	if old > DispatchLevel {
		bugcheck.KeBugCheckEx(bugcheck.IrqlNotGreaterOrEqual, uintptr(old), uintptr(DispatchLevel), 0, 0)
	}
	if old < DispatchLevel {
		setIrql(DispatchLevel)
	}
	return old
}

// ReleaseSpinLock is KeReleaseSpinLock: release, then back to old, running
// the processor's queued DPCs first when that leaves DISPATCH_LEVEL.
//
//go:nosplit
func ReleaseSpinLock(l *KSpinLock, old KIRQL) {
	ReleaseSpinLockFromDpcLevel(l)
	if old < DispatchLevel {
		LowerIrql(old)
	}
}

// AcquireSpinLockForDpc is KeAcquireSpinLockForDpc: for code that runs
// both as a DPC and below DISPATCH_LEVEL; it raises only when needed.
//
//go:nosplit
func AcquireSpinLockForDpc(l *KSpinLock) KIRQL { return AcquireSpinLock(l) }

// ReleaseSpinLockForDpc is KeReleaseSpinLockForDpc.
//
//go:nosplit
func ReleaseSpinLockForDpc(l *KSpinLock, old KIRQL) { ReleaseSpinLock(l, old) }

// TryToAcquireSpinLockAtDpcLevel is KeTryToAcquireSpinLockAtDpcLevel: take
// the lock if it is free, without spinning.
//
//go:nosplit
func TryToAcquireSpinLockAtDpcLevel(l *KSpinLock) bool {
	cpu, pinned := pinProcessor()
	if l.word.CompareAndSwap(0, plainOwner|uintptr(cpu+1)) {
		return true
	}
	unpin(pinned)
	return false
}

// TestSpinLock is KeTestSpinLock: false while the lock is taken, so a
// spinner can wait with plain reads.
//
//go:nosplit
func TestSpinLock(l *KSpinLock) bool { return l.word.Load() == 0 }
