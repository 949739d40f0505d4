// The pager on the machine: its trap-context half.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// A fault on paged pool resolves here, under tableLock, through
// paging.Pager.Resolve: demand-zero and soft (transition) faults at once;
// a page in the paging file, or one whose read is in flight, is va.InPage,
// which the kernel finishes with BeginPageIn: the read is started here, in
// trap context, on the paging file's InPageDevice, and the faulting thread
// sleeps on the read's futex word until the device's interrupt ends it
// (InPageDone) — no goroutine has to run, so a stop-the-world waits for
// the read like any instruction. When that cannot be done (no frame, every
// read entry or the device's queue busy, a device without StartPageIn) the
// page is queued here (QueueInPage) for the in-page worker (paging.go),
// which reads it (starting the read as a fault does, where the device can,
// so that every read a fault may sleep for ends in the interrupt) and
// wakes the working-set manager while no frame is to be had, and the
// faulting code yields or naps and faults again. The queue is
// a fixed ring of addresses; a full ring just means another fault later.

package mm

import (
	"sync/atomic"
	"unsafe"

	"ntgo/mm/paging"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/va"
	"ntgo/nt/ntstatus"
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

// inPageDevice is the paging file's device if it starts reads in trap
// context (AddPagingFile), else nil.
var inPageDevice InPageDevice

// InPageHow is what BeginPageIn asks the faulting thread to do.
type InPageHow uint8

const (
	// InPageSleep: sleep until the word at Word no longer holds Seq, then
	// retry the access.
	InPageSleep InPageHow = iota
	// InPageRetry: the fault was resolved meanwhile (or is another
	// fault now): retry the access.
	InPageRetry
	// InPageLater: no read could start (InPageDevice's comment); the
	// in-page worker has the page: yield or nap, then retry.
	InPageLater
	// InPageFailed: the page could not be read (Status): stop with
	// KERNEL_DATA_INPAGE_ERROR and InpageErrorParams.
	InPageFailed
)

// InPageWait is BeginPageIn's answer. Wake, if not 0, is a futex word
// the caller wakes (the in-page worker's). NoFrame: InPageLater because no
// frame was to be had.
type InPageWait struct {
	How     InPageHow
	NoFrame bool
	Seq     uint32
	Status  ntstatus.Status
	Word    uintptr
	Wake    uintptr
}

// BeginPageIn finishes a fault on pageable addr that PageFault reported
// va.InPage, for a thread that can sleep in its fault: it starts the read
// (or finds the one in flight) and says what to wait for.
//
//go:nosplit
func BeginPageIn(addr uintptr, a pte.Access) InPageWait {
	if pager == nil || inPageDevice == nil {
		return laterInPage(addr)
	}
	w := startPageIn(addr, a)
	if w.How == InPageLater {
		w.Wake = QueueInPage(addr)
	}
	return w
}

// startPageIn is BeginPageIn's work, the in-page worker's too (paging.go):
// under tableLock it starts the read on the paging file's InPageDevice (or
// finds the one in flight) and says what to wait for, InPageLater when no
// read could start. Every read it starts ends in the device's interrupt.
//
//go:nosplit
func startPageIn(addr uintptr, a pte.Access) InPageWait {
	dev := inPageDevice
	tableLock.Acquire()
	r, rd := pager.StartRead(addr, a)
	w := InPageWait{How: InPageRetry}
	switch r {
	case paging.NeedPageIn:
		if !dev.StartPageIn(rd.Offset, rd.Frame, uint32(rd.Slot)) {
			pager.EndRead(rd.Slot, ntstatus.InsufficientResources, false)
			w.How = InPageLater
			break
		}
		w = InPageWait{How: InPageSleep, Word: pager.ReadWord(rd.Slot), Seq: pager.ReadSeq(rd.Slot)}
	case paging.Collided:
		pager.CollidedFaults.Add(1)
		w = InPageWait{How: InPageSleep, Word: pager.ReadWord(rd.Slot), Seq: pager.ReadSeq(rd.Slot)}
	case paging.ReadFailed:
		w = InPageWait{How: InPageFailed, Status: rd.Status}
	case paging.NoMemory:
		w = InPageWait{How: InPageLater, NoFrame: true}
	}
	tableLock.Release()
	return w
}

// PagingProgress is the pager's Counters.Progress (0 without a pager): a
// fault waiting for a frame compares it over time.
//
//go:nosplit
func PagingProgress() uint64 {
	if pager == nil {
		return 0
	}
	return pager.Progress()
}

// NoteFreePageWait counts a fault that found no free frame and waits
// (!vm's free-page waits).
//
//go:nosplit
func NoteFreePageWait() {
	if pager != nil {
		pager.FreePageWaits.Add(1)
	}
}

// NoPagesParams are NO_PAGES_AVAILABLE's parameters now: the dirty pages
// (Modified and ModifiedNoWrite), those bound for the paging file
// (Modified), the non-paged pool pages still to be had, and the status of
// the most recent failed modified write.
//
//go:nosplit
func NoPagesParams() [4]uintptr {
	modified, noWrite := PFN.DirtyPages()
	var nonPagedLeft, lastWrite uintptr
	if nonPagedPages != nil {
		nonPagedLeft = uintptr(nonPagedPages.pages - nonPagedPages.InUse())
	}
	if pager != nil {
		lastWrite = uintptr(pager.LastWriteError.Load())
	}
	return [4]uintptr{uintptr(modified + noWrite), uintptr(modified), nonPagedLeft, lastWrite}
}

// InpageErrorParams are KERNEL_DATA_INPAGE_ERROR's parameters for the
// page of addr whose read failed with st (paging.InpageError).
//
//go:nosplit
func InpageErrorParams(addr uintptr, st ntstatus.Status) [4]uintptr {
	e, _ := Tables.Leaf(addr)
	_, p := paging.InpageError(addr&^physmem.PageMask, st, e)
	return p
}

// laterInPage queues addr for the in-page worker: InPageLater, with the
// worker's futex word to wake.
//
//go:nosplit
func laterInPage(addr uintptr) InPageWait {
	return InPageWait{How: InPageLater, Wake: QueueInPage(addr)}
}

// InPageDone ends the read BeginPageIn started under tag with status st
// and returns the futex word to wake (InPageDevice). Interrupts are off.
//
//go:nosplit
func InPageDone(tag uint32, st ntstatus.Status) uintptr {
	tableLock.Acquire()
	w := pager.EndRead(int(tag), st, true)
	tableLock.Release()
	return w
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
