// Reads of the paging file in flight: their table, started and ended
// under the page-table lock.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// A hard fault's read may be started by the page-fault handler itself
// (mm's BeginPageIn), which cannot sleep on a channel or run the device's
// goroutine-level transfer: StartRead claims an entry and a frame and
// points the PTE at the frame as a transition PTE, the handler submits
// the read to the device from trap context, and the device's interrupt
// calls EndRead, which maps the frame (or puts the page-file PTE back)
// and bumps the entry's futex word that the faulting thread and any
// collided ones sleep on. A failed read started there is kept in its
// entry until the faulting thread's retry takes the status (ReadFailed)
// and stops. PageIn (pagein.go) uses the same three calls around a
// synchronous read.

package paging

import (
	"unsafe"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// Read is a read StartRead began: its entry, the frame to fill and the
// paging file's byte offset; or, for ReadFailed, the failed one's status.
type Read struct {
	Slot   int
	Frame  physmem.PFN
	Offset uint64
	Status ntstatus.Status
}

// StartRead resolves a fault with access a on va as Resolve does and, when
// the page is in the paging file, begins its read (NeedPageIn, the Read
// to submit); Collided names the read in flight (its Slot), ReadFailed a
// failed one started for va in trap context (its Status, taken now), and
// NoMemory also means every entry is busy. The caller holds the
// page-table lock.
//
//go:nosplit
func (p *Pager) StartRead(va uintptr, a pte.Access) (Result, Read) {
	va &^= pageSize - 1
	if i := p.failedRead(va); i >= 0 {
		st := p.inPage[i].failed
		p.inPage[i].failed = 0
		return ReadFailed, Read{Slot: i, Status: st}
	}
	r := p.Resolve(va, a)
	switch r {
	case NeedPageIn:
	case Collided:
		e, _ := p.pt.Leaf(va)
		return Collided, Read{Slot: p.reading(e.Frame())}
	default:
		return r, Read{}
	}
	slot := p.freeInPage()
	if slot < 0 || p.frames.Available() <= p.Reserve {
		return NoMemory, Read{}
	}
	e, _ := p.pt.Leaf(va)
	pteAddr := pte.PteAddress(va)
	f, ok := p.frames.AllocateAny(pteAddr, uint64(e))
	if !ok {
		return NoMemory, Read{}
	}
	// The read holds the frame in Transition; the PTE names it.
	p.frames.Reference(f)
	p.frames.Unmap(f, false, false)
	p.pt.Replace(va, pte.NewTransition(f, e.Protection(), pte.Cached), nil)
	in := &p.inPage[slot]
	in.frame, in.va, in.orig, in.busy, in.failed = f, va, e, true, 0
	return NeedPageIn, Read{Slot: slot, Frame: f, Offset: uint64(e.Slot()) * physmem.PageSize}
}

// EndRead ends the read in entry slot with status st: the frame is mapped
// and joins the working set, or the page-file PTE is back and the frame
// freed, the failure kept for the faulting thread's retry if keep. It
// returns the entry's futex word, to be woken once the lock is dropped.
// The caller holds the page-table lock.
//
//go:nosplit
func (p *Pager) EndRead(slot int, st ntstatus.Status, keep bool) uintptr {
	in := &p.inPage[slot]
	f, va := in.frame, in.va
	pteAddr := pte.PteAddress(va)
	if st != ntstatus.Success {
		p.pt.Replace(va, in.orig, nil)
		p.frames.DeleteTransition(f, pteAddr)
		p.frames.Dereference(f)
		if keep {
			in.failed = st
		}
	} else {
		p.frames.Reclaim(f, pteAddr)
		p.frames.Dereference(f)
		p.pt.Replace(va, pte.NewValid(f, in.orig.Protection(), pte.Cached), nil)
		p.wsInsert(va)
		p.HardFaults.Add(1)
		p.PagesRead.Add(1)
	}
	in.busy = false
	in.seq.Add(1)
	return p.ReadWord(slot)
}

// ReadWord is entry slot's futex word; its value now (under the page-table
// lock) is what a waiter sleeps on.
//
//go:nosplit
func (p *Pager) ReadWord(slot int) uintptr { return uintptr(unsafe.Pointer(&p.inPage[slot].seq)) }

// ReadSeq is entry slot's futex word's value. The caller holds the
// page-table lock.
//
//go:nosplit
func (p *Pager) ReadSeq(slot int) uint32 { return p.inPage[slot].seq.Load() }

// freeInPage returns an unused inPage slot, or -1. The caller holds the
// page-table lock.
//
//go:nosplit
func (p *Pager) freeInPage() int {
	for i := range p.inPage {
		if !p.inPage[i].busy && p.inPage[i].failed == 0 {
			return i
		}
	}
	return -1
}

// failedRead returns the entry holding a failed read of va, or -1. The
// caller holds the page-table lock.
//
//go:nosplit
func (p *Pager) failedRead(va uintptr) int {
	for i := range p.inPage {
		if p.inPage[i].failed != 0 && p.inPage[i].va == va {
			return i
		}
	}
	return -1
}
