// Hard faults: reading a page back from the paging file.
//
// PageIn runs on the faulting goroutine at PASSIVE_LEVEL. Under the
// page-table lock it claims a frame, points the PTE at it as a transition
// PTE and records the read in inPage; a fault on the same page meanwhile
// sees that record (Resolve's Collided) and waits on its channel instead
// of reading again, as NT's collided page faults wait on the first one's
// event. The read runs with no lock held. On success the frame is mapped
// and joins the working set; on failure the PTE is the page-file PTE it
// was and the frame is freed, and the caller stops with InpageError.

package paging

import (
	"runtime"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// PageIn resolves a fault with access a on pageable va whatever it needs,
// I/O included, and returns Resolve's final answer (Resolved, NoMemory,
// Denied, NotCommitted) and the read's status when one failed (Resolved is
// then NeedPageIn). No lock may be held.
func (p *Pager) PageIn(va uintptr, a pte.Access) (Result, ntstatus.Status) {
	va &^= pageSize - 1
	pteAddr := pte.PteAddress(va)
	for {
		done := make(chan struct{})
		p.lock.Lock()
		r := p.Resolve(va, a)
		if r == Collided {
			e, _ := p.pt.Leaf(va)
			wait := p.inPage[p.reading(e.Frame())].done
			p.lock.Unlock()
			p.CollidedFaults.Add(1)
			<-wait
			continue
		}
		if r != NeedPageIn {
			p.lock.Unlock()
			return r, ntstatus.Success
		}
		slot := p.freeInPage()
		if slot < 0 {
			p.lock.Unlock()
			runtime.Gosched() // maxInPage reads in flight: one will end
			continue
		}
		e, _ := p.pt.Leaf(va)
		var f physmem.PFN
		ok := p.db.Available() > p.Reserve
		if ok {
			f, ok = p.db.AllocateAny(pteAddr, uint64(e))
		}
		if !ok {
			p.lock.Unlock()
			return NoMemory, ntstatus.Success
		}
		// The read holds the frame in Transition; the PTE names it.
		p.db.Reference(f)
		p.db.Unmap(f, false, false)
		p.pt.Replace(va, pte.NewTransition(f, e.Protection(), pte.Cached), nil)
		p.inPage[slot] = inPage{frame: f, done: done}
		p.lock.Unlock()

		st := p.dev.Read(uint64(e.Slot())*physmem.PageSize, []physmem.PFN{f})

		p.lock.Lock()
		p.inPage[slot] = inPage{}
		if st != ntstatus.Success {
			p.pt.Replace(va, e, nil)
			p.db.DeleteTransition(f, pteAddr)
			p.db.Dereference(f)
		} else {
			p.db.Reclaim(f, pteAddr)
			p.db.Dereference(f)
			p.pt.Replace(va, pte.NewValid(f, e.Protection(), pte.Cached), nil)
			p.wsInsert(va)
			p.HardFaults.Add(1)
			p.PagesRead.Add(1)
		}
		p.lock.Unlock()
		close(done)
		if st != ntstatus.Success {
			return NeedPageIn, st
		}
		return Resolved, ntstatus.Success
	}
}

// InpageError is the stop for a page of va that could not be read:
// KERNEL_DATA_INPAGE_ERROR (0x7A) with NT's parameters, the PTE's address,
// the I/O status, the PTE's contents (its page-file PTE) and the address.
func InpageError(va uintptr, st ntstatus.Status, e pte.PTE) (bugcheck.Code, [4]uintptr) {
	return bugcheck.KernelDataInpageError, [4]uintptr{pte.PteAddress(va), uintptr(st), uintptr(e), va}
}
