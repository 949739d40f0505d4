// The pager on the machine: its trap-context half.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// A fault on paged pool resolves here, under tableLock, through
// paging.Pager.Resolve: demand-zero and soft (transition) faults at once;
// a page in the paging file, or one whose read is in flight, is va.InPage,
// which the kernel finishes by queueing the page here (QueueInPage) for
// the in-page worker (paging.go) and making the faulting goroutine yield
// until the read is done. The queue is a fixed ring of addresses; a full
// ring just means the goroutine yields and faults again.

package mm

import (
	"sync/atomic"
	"unsafe"

	"ntgo/mm/paging"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/va"
)

// tableLocker is tableLock as the pager's Locker.
type tableLocker struct{}

//go:nosplit
func (*tableLocker) Lock() { tableLock.Acquire() }

//go:nosplit
func (*tableLocker) Unlock() { tableLock.Release() }

// restoreTransition is the PFN database's TransitionHook: a standby frame
// of a pageable page is reused, its PTE gets the page-file PTE back.
//
//go:nosplit
func restoreTransition(f physmem.PFN, pteAddr uintptr, original uint64) {
	if pager != nil {
		pager.Restore(f, pteAddr, original)
	}
}

// pageableFault is PageFault for a pageable address, under tableLock.
//
//go:nosplit
func pageableFault(addr uintptr, code pte.ErrorCode) va.Fault {
	a := code.Access()
	e, _ := Tables.Leaf(addr)
	f := va.Fault{VA: addr, Access: a, PTE: e}
	switch pager.Resolve(addr, a) {
	case paging.Resolved:
		f.Result = va.Resolved
	case paging.NeedPageIn, paging.Collided, paging.NoMemory:
		// No frame yet is waited for as a read is: the in-page worker
		// wakes the working-set manager and retries.
		f.Result = va.InPage
	case paging.Denied:
		f.Result = va.WriteToReadonly
		if a == pte.AccessExecute {
			f.Result = va.ExecuteNoExecute
		}
	default:
		f.Result = va.NotPresent
	}
	return f
}

// inPageRing is the in-page worker's queue: addresses faulted on, pushed
// in trap context, popped by the worker.
var (
	inPageRing [64]atomic.Uintptr
	inPageHead atomic.Uint32 // next push
	inPageTail atomic.Uint32 // next pop
	inPageSeq  atomic.Uint32 // futex word: bumped on every push
)

// QueueInPage asks the in-page worker to read the page holding addr and
// returns the futex word to wake it on, 0 if the ring is full (the
// faulting goroutine retries) or no worker runs.
//
//go:nosplit
func QueueInPage(addr uintptr) uintptr {
	if pager == nil || !inPageWorkerStarted.Load() {
		return 0
	}
	for {
		h, t := inPageHead.Load(), inPageTail.Load()
		if h-t >= uint32(len(inPageRing)) {
			return 0
		}
		if inPageHead.CompareAndSwap(h, h+1) {
			inPageRing[h%uint32(len(inPageRing))].Store(addr &^ physmem.PageMask)
			inPageSeq.Add(1)
			return uintptr(unsafe.Pointer(&inPageSeq))
		}
	}
}
