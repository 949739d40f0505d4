// Package paging is the part of NT's memory manager that moves pageable
// system memory between RAM and the paging file: the system working set,
// its trimmer, the modified page writer, the paging-file slots, and the
// faults that bring pages back (soft from the standby and modified lists,
// hard from the paging file). It stands on the PFN database (mm/pfn) and
// the page-table walker (mm/pte), so the same code runs in the kernel and,
// over simulated memory and an in-memory disk, in host tests; package mm
// puts it on the machine (mm/paging.go there).
//
// # Where a pageable page is
//
// A committed page of a pageable region (Region) is in exactly one place,
// which its PTE names:
//
//	valid         in the working set: an Active frame, its PFN entry's
//	              original PTE the page-file PTE of its copy (if one is
//	              still current) or its demand-zero PTE (if none)
//	transition    trimmed: the frame is on Standby (clean: a copy exists),
//	              Modified (dirty: none does yet), or in Transition (being
//	              read in or written out; the write holds a reference)
//	page-file     only in the paging file, in the PTE's slot
//	demand-zero   never touched (or freed and committed again): zeros
//
// The working set is the set of valid PTEs of the pageable regions; its
// list entries (NT's WSLEs) are the per-page ages in Region, so that the
// fault path inserts a page with a store and no list (trap context may not
// allocate) and the trimmer walks the region with a clock hand. WsPages
// counts them.
//
// # Moves
//
//	fault on demand-zero   AllocateZeroed, valid                 (Resolve)
//	fault on transition    Reclaim, valid: a soft fault, no I/O  (Resolve)
//	fault on page-file     a frame, read the slot, valid: a hard
//	                       fault; a fault that finds the read in
//	                       flight waits for it (collided)        (StartRead,
//	                                                               EndRead, PageIn)
//	trim                   valid → transition; Unmap: dirty (or no copy)
//	                       to Modified, its stale slot freed; clean to
//	                       Standby                               (Trim)
//	modified page writer   Modified → slots in clusters → Standby, the
//	                       original PTE naming the slot; a failed write
//	                       goes back to Modified, retried       (WriteModified)
//	repurpose              Standby frame reused by an allocation: the PFN
//	                       database's TransitionHook writes the original
//	                       (page-file) PTE back                  (Restore)
//	free                   frame and slot returned               (Free)
//
// # Locking
//
// Two locks, as NT's working-set lock and PFN lock. The page-table lock
// (Locker: in the kernel mm's interrupt-disabling tableLock, which the
// fault handler holds) guards each page's PTE and the reads in flight; the
// PFN lock nests inside it, taken by the database. Code under the
// page-table lock is nosplit and allocates nothing, since a fault resolves
// there in trap context. wsMu serializes the goroutines that walk the
// regions (trimmer, writer) and is never held across the device's I/O by a
// fault. I/O runs with no lock held.
//
// # Errors
//
// A read that fails is returned by PageIn, or, started by the fault
// handler, kept until the faulting thread's retry takes it (StartRead's
// ReadFailed); the caller stops with KERNEL_DATA_INPAGE_ERROR (InpageError
// has NT's parameters). A write that
// fails leaves its pages on Modified. Running out of frames or slots is not
// an error here: the callers retry after trimming and writing.
package paging

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// Device is the paging file's storage. Transfers are whole frames at a
// page-aligned byte offset, synchronous for the calling goroutine, never
// called with a lock held (mm adapts a PagingDevice, whose transfers sleep
// until the device interrupts).
type Device interface {
	Read(off uint64, frames []physmem.PFN) ntstatus.Status
	Write(off uint64, frames []physmem.PFN) ntstatus.Status
}

// Locker is the page-table lock. The kernel's implementation must be
// nosplit and its methods on a pointer (mm's package comment).
type Locker interface {
	Lock()
	Unlock()
}

// ClusterPages is the most pages one write of the modified page writer
// carries. NT's MmModifiedWriteClusterSize is 16 pages; 64 here, since a
// request's fixed cost (the guest's interrupt and thread switches, QEMU's
// request handling, all emulated) is far above a real disk's: a cluster
// of 64 takes about what four sequential raw writes of 16 take
// (drivers/virtioblk/pagingbench).
const ClusterPages = 64

// maxInPage bounds the reads in flight at once: one per faulting thread.
const maxInPage = 32

// Region is one range of pageable system VA (paged pool, pageable dynamic
// kernel VA) and its working-set entries.
type Region struct {
	Base  uintptr
	Pages int
	age   []uint8 // per page: trim passes since last seen accessed, under the page-table lock
}

// inPage is one read in flight (busy), or the failure of one started in
// trap context, kept until the faulting thread's retry takes it. seq is
// the futex word its waiters sleep on (a goroutine through the futex
// system call, a thread blocked in its fault through the kernel's): it is
// bumped, under the page-table lock, when the read ends.
type inPage struct {
	frame  physmem.PFN
	va     uintptr
	orig   pte.PTE // the page-file PTE the read replaced
	busy   bool
	failed ntstatus.Status
	seq    atomic.Uint32
}

// Counters are the numbers NT's users know, all atomics.
type Counters struct {
	DemandZeroFaults atomic.Uint64 // faults that took a zeroed frame
	TransitionFaults atomic.Uint64 // soft faults: taken back from a list
	HardFaults       atomic.Uint64 // faults that read the paging file
	CollidedFaults   atomic.Uint64 // faults that waited for another's read
	PagesRead        atomic.Uint64
	PagesWritten     atomic.Uint64
	WriteErrors      atomic.Uint64 // failed writes (pages back on Modified)
	Writes           atomic.Uint64 // device writes (clusters)
	Trimmed          atomic.Uint64 // pages taken out of the working set
	Repurposed       atomic.Uint64 // standby frames taken from their owners
	// FreePageWaits counts faults, pageable or on the Go runtime's
	// memory, that found no free frame and waited to fault again.
	FreePageWaits atomic.Uint64
	// LastWriteError is the status of the most recent failed write (0:
	// none yet), NO_PAGES_AVAILABLE's fourth parameter.
	LastWriteError atomic.Uint32
}

// faultFrames is what the fault path (Resolve) asks of the PFN database.
// It is reached through an interface, as mm/va reaches its PageSource, so
// that the page-fault handler's chain of nosplit frames, which the linker
// bounds, ends at the call; the database's own frames are bounded where
// it is called directly.
type faultFrames interface {
	AllocateZeroed(pte uintptr, originalPte uint64) (physmem.PFN, bool)
	Reclaim(p physmem.PFN, pte uintptr)
	ReclaimOwned(p physmem.PFN, pte uintptr) bool
	Available() uint64
	// and the reads the fault handler starts (StartRead, EndRead)
	AllocateAny(pte uintptr, originalPte uint64) (physmem.PFN, bool)
	Reference(p physmem.PFN) bool
	Dereference(p physmem.PFN)
	Unmap(p physmem.PFN, dirty, noWrite bool)
	DeleteTransition(p physmem.PFN, pte uintptr)
}

// Pager moves the pages of its regions.
type Pager struct {
	pt      *pte.PageTables
	db      *pfn.Database
	frames  faultFrames // db, for Resolve
	lock    Locker
	regions []*Region

	dev   Device // nil: no paging file
	slots *Slots

	// inPage: reads in flight, under lock.
	inPage [maxInPage]inPage

	// wsMu serializes trimmers and the writer.
	wsMu sync.Mutex
	hand int // trim clock: next page index over all regions

	// Reserve is how many available frames a pageable fault leaves to
	// everything else (the Go runtime's own demand faults, non-paged
	// pool): below it the fault reports NoMemory and waits for the
	// working-set manager.
	Reserve uint64

	wsPages atomic.Int64
	wsPeak  atomic.Int64
	Counters
}

const pageSize = uintptr(physmem.PageSize)

// New returns a pager over the page tables pt and database db, whose
// page-table lock is lock, for the pageable regions given (fixed for its
// life). It has no paging file until SetDevice.
func New(pt *pte.PageTables, db *pfn.Database, lock Locker, regions ...[2]uintptr) *Pager {
	p := &Pager{pt: pt, db: db, frames: db, lock: lock}
	for _, r := range regions {
		n := int(r[1] / pageSize)
		age := make([]uint8, n)
		resident(age)
		p.regions = append(p.regions, &Region{Base: r[0], Pages: n, age: age})
	}
	return p
}

// resident touches every page of b: the fault path and trimmers use it
// with the page-table lock held, where a first touch of a Go heap page
// (a demand-zero fault on the runtime's memory) would fault under the lock.
// The runtime returns only free memory, so the pages stay.
func resident[T any](b []T) {
	var zero T
	step := max(int(physmem.PageSize/unsafe.Sizeof(zero)), 1)
	for i := 0; i < len(b); i += step {
		b[i] = zero
	}
}

// SetDevice gives the pager its paging file: dev, of pages pages.
func (p *Pager) SetDevice(dev Device, pages int) {
	p.wsMu.Lock()
	p.dev, p.slots = dev, NewSlots(pages)
	p.wsMu.Unlock()
}

// Slots is the paging file's bitmap, nil without one.
func (p *Pager) Slots() *Slots { return p.slots }

// Regions are the pageable regions.
func (p *Pager) Regions() []*Region { return p.regions }

// WsPages is the working set's size in pages; WsPeak its largest.
func (p *Pager) WsPages() int { return int(p.wsPages.Load()) }

// WsPeak is the largest the working set has been.
func (p *Pager) WsPeak() int { return int(p.wsPeak.Load()) }
