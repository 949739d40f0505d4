// Deferred procedure calls: the per-processor queues and the routines that
// change them, which interrupt handlers may call.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Each processor has a DPC queue: a singly linked list through the KDPCs'
// link words (addresses, not Go pointers, so trap context can queue), with
// head, tail and depth, under an interrupt-disabling SpinLock. A KDPC is
// on at most one queue: DpcData holds that processor + 1 while it is
// queued, set by a compare-and-swap in InsertQueueDpc, so a second insert
// finds it queued and returns false, as NT's does.
//
// A processor runs its queue at DISPATCH_LEVEL (RetireDpcList, dpc.go)
// when its IRQL drops below DISPATCH_LEVEL (LowerIrql, and so the spin
// locks' releases) in goroutine context; InsertQueueDpc for the current
// processor from below DISPATCH_LEVEL is such a drop at once, as NT's
// DISPATCH software interrupt would be. A DPC for another processor sets
// that processor's ipiDpc request and interrupts it.
//
// Invariants: head is 0 exactly when tail is; depth is the list's length;
// an entry's DpcData names the queue it is on.

package ke

import (
	"sync/atomic"
	"unsafe"

	"ntgo/nt/arch"
)

// KDPC is KDPC. It is named by its address while queued, so it must not
// live on a goroutine stack (InitializeDpc makes it escape) and must stay
// reachable (kept by its driver, as NT's lives in nonpaged memory) until
// it has run or been removed.
type KDPC struct {
	Type       uint8
	Importance uint8
	Number     uint16 // target processor + 1; 0: the processor that queues it
	link       uintptr
	// DeferredRoutine runs at DISPATCH_LEVEL on the target processor.
	DeferredRoutine                  func(dpc *KDPC, deferredContext, systemArgument1, systemArgument2 uintptr)
	DeferredContext                  uintptr
	SystemArgument1, SystemArgument2 uintptr
	DpcData                          atomic.Uintptr // queued: the processor + 1
}

// KOBJECTS' DpcObject, KDPC.Type.
const DpcObject = 0x13

// KDPC_IMPORTANCE: high goes to the head of the queue, the others to its
// tail.
const (
	LowImportance        = 0
	MediumImportance     = 1
	HighImportance       = 2
	MediumHighImportance = 3
)

type dpcQueue struct {
	lock       SpinLock
	head, tail uintptr
	depth      atomic.Int32
}

var dpcQueues [MaximumProcessors]dpcQueue

//go:nosplit
func dpcAt(a uintptr) *KDPC { return (*KDPC)(unsafe.Add(nil, a)) }

//go:nosplit
func dpcAddress(d *KDPC) uintptr { return uintptr(unsafe.Pointer(d)) }

// InsertQueueDpc is KeInsertQueueDpc: queue dpc with the two arguments on
// its target processor (SetTargetProcessorDpc; else the current one);
// false if it is already queued.
//
//go:nosplit
func InsertQueueDpc(dpc *KDPC, systemArgument1, systemArgument2 uintptr) bool {
	rflags := interruptsOff() // the current processor stays ours
	cpu := CurrentProcessorNumber()
	target := cpu
	if dpc.Number != 0 {
		target = int(dpc.Number) - 1
	}
	queued := dpc.DpcData.CompareAndSwap(0, uintptr(target)+1)
	if queued {
		q := &dpcQueues[target]
		q.lock.Acquire()
		dpc.SystemArgument1, dpc.SystemArgument2 = systemArgument1, systemArgument2
		a := dpcAddress(dpc)
		switch {
		case q.head == 0:
			dpc.link, q.head, q.tail = 0, a, a
		case dpc.Importance == HighImportance:
			dpc.link, q.head = q.head, a
		default:
			dpc.link = 0
			dpcAt(q.tail).link, q.tail = a, a
		}
		q.depth.Add(1)
		q.lock.Release()
		if target != cpu {
			request(1<<uint(target), ipiDpc)
		}
	}
	interruptsOn(rflags)
	if queued && target == cpu && CurrentIrql() < DispatchLevel && inGoroutine() {
		LowerIrql(raiseToDispatch()) // the drop below DISPATCH_LEVEL runs it
	}
	return queued
}

// RemoveQueueDpc is KeRemoveQueueDpc: take dpc off its queue if it is
// still waiting there; false if it was not queued.
//
//go:nosplit
func RemoveQueueDpc(dpc *KDPC) bool {
	n := dpc.DpcData.Load()
	if n == 0 {
		return false
	}
	q := &dpcQueues[n-1]
	q.lock.Acquire()
	removed := false
	if dpc.DpcData.Load() == n {
		a := dpcAddress(dpc)
		var prev uintptr
		for e := q.head; e != 0; prev, e = e, dpcAt(e).link {
			if e != a {
				continue
			}
			if prev == 0 {
				q.head = dpc.link
			} else {
				dpcAt(prev).link = dpc.link
			}
			if q.tail == a {
				q.tail = prev
			}
			dpc.link = 0
			q.depth.Add(-1)
			dpc.DpcData.Store(0)
			removed = true
			break
		}
	}
	q.lock.Release()
	return removed
}

// popDpc takes the first DPC off processor cpu's queue, or returns nil,
// clearing the entry's DpcData so that its routine may queue it again.
//
//go:nosplit
func popDpc(cpu int) (d *KDPC, arg1, arg2 uintptr) {
	q := &dpcQueues[cpu]
	q.lock.Acquire()
	if a := q.head; a != 0 {
		d = dpcAt(a)
		q.head = d.link
		if q.head == 0 {
			q.tail = 0
		}
		d.link = 0
		q.depth.Add(-1)
		arg1, arg2 = d.SystemArgument1, d.SystemArgument2
		d.DpcData.Store(0)
	}
	q.lock.Release()
	return d, arg1, arg2
}

// DpcQueueDepth is how many DPCs wait on processor cpu's queue.
//
//go:nosplit
func DpcQueueDepth(cpu int) int { return int(dpcQueues[cpu].depth.Load()) }

// inGoroutine reports whether a goroutine runs (on the host, always).
//
//go:nosplit
func inGoroutine() bool {
	return !arch.Bare() || goroutineContext != nil && goroutineContext()
}
