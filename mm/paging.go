// The pager on the machine: the system working set of paged pool, the
// paging file a driver registers (AddPagingFile), the working-set manager
// and modified page writer threads, the in-page worker, and the commit
// limit.
//
// Structure: one paging.Pager (mm/paging) over the live page tables and
// PFN database, with tableLock as its page-table lock and paged pool's
// region as its one pageable region, built by InitSystem after the pools.
// Until a paging file is added the pager still keeps the working set
// (trimmed pages wait on Modified and come back by soft faults), and the
// commit limit is RAM.
//
// Threads (goroutines), as NT's:
//   - the working-set manager (NT's balance-set manager): once a second,
//     or when a fault finds no frame, trims pages unused since its last
//     pass while available pages are below wsLowPages, every unlocked page
//     if that was not enough, and wakes the writer;
//   - the modified page writer: writes Modified pages in clusters while
//     any are waiting (and a paging file exists), retrying after a failed
//     write on its next wake-up;
//   - the in-page worker: reads the pages the fault handler queued
//     (QueueInPage) when it could not start their reads itself (no frame,
//     no room: paging_trap.go), and sleeps on a futex word the handler
//     wakes, since trap context can wake a thread but not a goroutine.
//
// Locking: the pager's own (see mm/paging); pagingFile under pagingMu.

package mm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/paging"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/verifier"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

const (
	// wsLowPages: below this many available pages (or an eighth of RAM,
	// if less) the working-set manager trims.
	wsLowPages = 2048
	// faultReservePages (or a thirty-second of RAM, if less) are left to
	// the Go runtime and non-paged pool: a pageable fault below it waits
	// for the working-set manager.
	faultReservePages = 512
	// wsPeriod is the working-set manager's pass interval.
	wsPeriod = time.Second
	// MinPagingProcs is the fewest Ps paging runs with (EnsurePagingProcs).
	MinPagingProcs = 2
)

var (
	pager *paging.Pager
	// wsLow is the working-set manager's threshold (wsLowPages, scaled).
	wsLow       uint64
	tableLockIf tableLocker

	pagingMu   sync.Mutex
	pagingFile PagingDevice
	// pagingFilePages is the paging file's size in pages, 0 without one:
	// the commit limit's second term.
	pagingFilePages atomic.Int64

	wsWake              = make(chan struct{}, 1)
	writerWake          = make(chan struct{}, 1)
	inPageWorkerStarted atomic.Bool
)

// initPaging builds the pager over paged pool's region and starts its
// threads; initPools then gives paged pool's page source the pager.
func initPaging() {
	pager = paging.New(&Tables, &PFN, &tableLockIf, [2]uintptr{layout.PagedPoolStart, pagedPoolBytes})
	ram := PFN.Stats().RAM()
	pager.Reserve = min(faultReservePages, ram/32)
	wsLow = min(wsLowPages, ram/8)
	PFN.SetTransitionHook(restoreTransition)
	verifier.TrimAllPageable = TrimAllPageable // Driver Verifier's IRQL checking
	EnsurePagingProcs()
	go workingSetManager()
	go modifiedPageWriter()
	go inPageWorker()
}

// EnsurePagingProcs raises GOMAXPROCS to MinPagingProcs. A faulting
// thread sleeps in its fault holding its P, and when no read can start the
// in-page worker must run while the faulting code yields or naps: with
// one P a nap in code the runtime cannot preempt keeps the only P, and the
// worker never runs (SMP=1 hung so). initPaging calls it, and the kernel
// again after the runtime sets its default (the processors) once the
// others have started.
func EnsurePagingProcs() {
	if runtime.GOMAXPROCS(0) < MinPagingProcs {
		runtime.GOMAXPROCS(MinPagingProcs)
	}
}

// SystemPager is the pager of paged pool, nil before InitSystem.
func SystemPager() *paging.Pager { return pager }

// CommitLimit is the most pages that may be committed: RAM plus the
// paging file.
func CommitLimit() uint64 { return PFN.Stats().RAM() + uint64(pagingFilePages.Load()) }

// poolCommitted is the pools' part of the commit charge: what the commit
// limit refuses. The Go runtime's reservations are charged too
// (committedPages) but, as on Linux, never refused, and they are counted
// when reserved rather than when touched, so holding them against the
// limit would refuse pool pages RAM still has room for.
var poolCommitted atomic.Int64

// chargeCommit charges n pool pages against the commit limit, refusing
// (false, nothing charged) beyond it; a negative n gives pages back.
func chargeCommit(n int64) bool {
	limit := int64(CommitLimit())
	for {
		c := poolCommitted.Load()
		if n > 0 && c+n > limit {
			return false
		}
		if poolCommitted.CompareAndSwap(c, c+n) {
			committedPages.Add(n)
			return true
		}
	}
}

// AddPagingFile is the paging file's registration (NT's NtCreatePagingFile
// for a whole device): d holds the paging file, its whole size. A driver
// calls it at load, at PASSIVE_LEVEL. It fails with STATUS_INVALID_PARAMETER
// for a device smaller than two pages or not a multiple of the page size,
// and STATUS_OBJECT_NAME_COLLISION if a paging file exists already (ntgo
// keeps one).
func AddPagingFile(d PagingDevice) ntstatus.Status {
	size := d.Size()
	if size < 2*physmem.PageSize || size%physmem.PageSize != 0 || size/physmem.PageSize > pte.MaxPageFileSlot {
		return ntstatus.InvalidParameter
	}
	pagingMu.Lock()
	defer pagingMu.Unlock()
	if pagingFile != nil {
		return ntstatus.ObjectNameCollision
	}
	if pager == nil {
		return ntstatus.DeviceNotReady
	}
	pagingFile = d
	if r, ok := d.(InPageDevice); ok {
		inPageDevice = r
	}
	pages := int(size / physmem.PageSize)
	pager.SetDevice(&mdlDevice{d: d}, pages)
	pagingFilePages.Store(int64(pages - 1)) // slot 0 is never used
	ex.Pools().SetMaxPagedBytes(pagedPoolMax + uintptr(size))
	return ntstatus.Success
}

// PagingFile is the registered paging file's device, nil without one.
func PagingFile() PagingDevice {
	pagingMu.Lock()
	defer pagingMu.Unlock()
	return pagingFile
}

// mdlDevice adapts a PagingDevice (MDL transfers) to the pager's Device.
type mdlDevice struct{ d PagingDevice }

func (m *mdlDevice) transfer(off uint64, frames []physmem.PFN, write bool) ntstatus.Status {
	mdl := newMdl(0, uintptr(len(frames))*physmem.PageSize)
	if mdl == nil {
		return ntstatus.InsufficientResources
	}
	copy(mdl.Pages(), frames)
	// The pager holds each frame (a Transition reference) for the
	// transfer: the MDL describes them as locked without taking locks.
	mdl.MdlFlags |= MdlPagesLocked
	var st ntstatus.Status
	if write {
		st = m.d.WritePages(off, mdl)
	} else {
		st = m.d.ReadPages(off, mdl)
	}
	mdl.MdlFlags &^= MdlPagesLocked
	FreeMdl(mdl)
	return st
}

func (m *mdlDevice) Read(off uint64, frames []physmem.PFN) ntstatus.Status {
	return m.transfer(off, frames, false)
}

func (m *mdlDevice) Write(off uint64, frames []physmem.PFN) ntstatus.Status {
	return m.transfer(off, frames, true)
}

// TrimAllPageable takes every pageable system page that is not locked out
// of the working set now, as Driver Verifier's IRQL checking does before
// a raise, and returns how many it took: a later touch at DISPATCH_LEVEL
// or above faults and stops.
func TrimAllPageable() (pages int) {
	if pager == nil {
		return 0
	}
	n := pager.TrimAll()
	poke(writerWake)
	return n
}

// poke wakes a thread waiting on c without blocking.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// workingSetManager is the balance-set manager's working-set half.
func workingSetManager() {
	tick := time.NewTicker(wsPeriod)
	for {
		select {
		case <-tick.C:
		case <-wsWake:
		}
		// Modified pages become available once written: the goal counts
		// them, so that a slow writer does not make it trim everything.
		st := PFN.Stats()
		soon := st.Available() + st.ByState[pfn.StateModified]
		if soon >= wsLow {
			poke(writerWake)
			continue
		}
		want := int(wsLow - soon)
		n := pager.Trim(want, 1)
		if n < want {
			n += pager.Trim(want-n, 0)
		}
		if n > 0 {
			poke(writerWake)
		}
	}
}

// modifiedPageWriter writes Modified pages while there are any.
func modifiedPageWriter() {
	for range writerWake {
		for PFN.Stats().ByState[pfn.StateModified] > 0 {
			n, st := pager.WriteModified(paging.ClusterPages * 8)
			if n == 0 || st != ntstatus.Success {
				break // no paging file, full, or a write failed: retried at the next wake-up
			}
		}
	}
}

// inPageWorker reads the pages the fault handler queued.
func inPageWorker() {
	inPageWorkerStarted.Store(true)
	for {
		seq := inPageSeq.Load()
		for inPageTail.Load() != inPageHead.Load() {
			t := inPageTail.Load()
			va := inPageRing[t%uint32(len(inPageRing))].Swap(0)
			if va == 0 {
				break // pushed but not stored yet: the next wake-up has it
			}
			inPageTail.Add(1)
			pageIn(va)
		}
		futexWait(uintptr(unsafe.Pointer(&inPageSeq)), seq)
	}
}

// futexWait sleeps while the futex word at addr holds val
// (FUTEX_WAIT|FUTEX_PRIVATE_FLAG).
func futexWait(addr uintptr, val uint32) {
	const futexWaitPrivate = 0 | 128
	syscall.Syscall6(syscall.SYS_FUTEX, addr, futexWaitPrivate, uintptr(val), 0, 0, 0)
}

// pageIn brings the page at va in, waiting for the working-set manager
// while no frame is to be had; an unreadable page stops the system.
//
// On a paging file whose device starts reads in trap context the worker
// starts its reads so too (startPageIn), so that every read in flight
// ends in the device's interrupt. A fault that finds a read in flight
// sleeps in its thread, holding its P, until the read ends; had the read
// to be ended by this goroutine, after the transfer or after a
// preemption between claiming the read and submitting it, it would need a
// P, and a stop-the-world or the GC's forEachP holding the others while
// it waits for that fault's P would wait for ever (TestPagingWriteErrorRetried
// hung so about once in forty runs).
func pageIn(va uintptr) {
	if inPageDevice != nil {
		pageInByInterrupt(va)
		return
	}
	for {
		r, st := pager.PageIn(va, pte.AccessRead)
		switch {
		case st != ntstatus.Success:
			unreadable(va, st)
		case r == paging.NoMemory:
			waitForFrames()
		default:
			return
		}
	}
}

// pageInByInterrupt is pageIn on a paging file whose device starts reads
// in trap context.
func pageInByInterrupt(va uintptr) {
	for {
		w := startPageIn(va, pte.AccessRead)
		switch w.How {
		case InPageSleep:
			futexWait(w.Word, w.Seq)
		case InPageFailed:
			unreadable(va, w.Status)
		case InPageLater:
			if w.NoFrame {
				waitForFrames()
			} else {
				time.Sleep(time.Millisecond) // the device's queue is full
			}
		default:
			return // resolved, or the faulting thread's retry has it
		}
	}
}

// unreadable stops for the page of va whose read failed with st:
// KERNEL_DATA_INPAGE_ERROR.
func unreadable(va uintptr, st ntstatus.Status) {
	p := InpageErrorParams(va, st)
	bugcheck.KeBugCheckEx(bugcheck.KernelDataInpageError, p[0], p[1], p[2], p[3])
}

// waitForFrames wakes the working-set manager and gives it a millisecond.
func waitForFrames() {
	poke(wsWake)
	time.Sleep(time.Millisecond)
}
