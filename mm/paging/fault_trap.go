// Faults on pageable pages.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Resolve is what the page-fault handler can do without I/O, with the
// page-table lock held: a demand-zero page gets a zeroed frame, a
// transition page its frame back (a soft fault). A page-file PTE needs a
// read, and a transition PTE whose frame is being read needs the read to
// end: Resolve says so (NeedPageIn, Collided); the fault handler starts
// the read itself (StartRead, inpage_trap.go) and the faulting thread
// sleeps, or a goroutine calls PageIn (pagein.go).

package paging

import (
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// Result is Resolve's answer.
type Result uint8

// The results.
const (
	Resolved     Result = iota // the page is valid: retry the access
	NeedPageIn                 // a page-file PTE: PageIn reads it
	Collided                   // a read of this page is in flight: PageIn waits for it
	NoMemory                   // no frame to be had: trim and write, then retry
	Denied                     // the page's protection refuses the access
	NotCommitted               // free, reserved or an unknown encoding
	ReadFailed                 // the read StartRead began for this page failed (Read.Status)
)

var resultNames = [...]string{"resolved", "page-in", "collided", "no memory", "denied", "not committed", "read failed"}

//go:nosplit
func (r Result) String() string {
	if int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "unknown"
}

// Resolve handles a fault with access a on pageable va. The caller holds
// the page-table lock.
//
//go:nosplit
func (p *Pager) Resolve(va uintptr, a pte.Access) Result {
	va &^= pageSize - 1
	e, st := p.pt.Leaf(va)
	if st != ntstatus.Success {
		return NotCommitted
	}
	switch e.Kind() {
	case pte.KindValid:
		if !e.Protection().Allows(a) {
			return Denied
		}
		p.pt.FlushPage(va)
		return Resolved
	case pte.KindDemandZero, pte.KindTransition, pte.KindPageFile:
	default:
		return NotCommitted
	}
	prot := e.Protection()
	if !prot.Allows(a) {
		return Denied
	}
	pteAddr := pte.PteAddress(va)
	switch e.Kind() {
	case pte.KindDemandZero:
		if p.frames.Available() <= p.Reserve {
			return NoMemory
		}
		f, ok := p.frames.AllocateZeroed(pteAddr, uint64(e))
		if !ok {
			return NoMemory
		}
		p.pt.Replace(va, pte.NewValid(f, prot, pte.Cached), nil)
		p.DemandZeroFaults.Add(1)
	case pte.KindTransition:
		if p.reading(e.Frame()) >= 0 {
			return Collided
		}
		if !p.frames.ReclaimOwned(e.Frame(), pteAddr) {
			// Repurposed meanwhile on another processor (the hook does
			// not take the page-table lock): the PTE is its page-file
			// PTE again, which the retried access finds.
			return Resolved
		}
		p.pt.Replace(va, pte.NewValid(e.Frame(), prot, e.Cache()), nil)
		p.TransitionFaults.Add(1)
	default:
		return NeedPageIn
	}
	p.wsInsert(va)
	return Resolved
}

// reading returns the inPage slot of the read filling frame f, or -1.
// The caller holds the page-table lock.
//
//go:nosplit
func (p *Pager) reading(f physmem.PFN) int {
	for i := range p.inPage {
		if p.inPage[i].busy && p.inPage[i].frame == f {
			return i
		}
	}
	return -1
}

// Progress grows whenever a pageable fault is resolved or a page is
// trimmed, written or read: a fault that waits for a frame while it stays
// the same waits for nothing (the kernel's noFrameWait).
//
//go:nosplit
func (c *Counters) Progress() uint64 {
	return c.DemandZeroFaults.Load() + c.TransitionFaults.Load() + c.HardFaults.Load() +
		c.PagesRead.Load() + c.PagesWritten.Load() + c.Trimmed.Load() + c.Repurposed.Load()
}
