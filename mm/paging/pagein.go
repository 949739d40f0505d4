// Hard faults: reading a page back from the paging file.
//
// PageIn runs on a goroutine at PASSIVE_LEVEL (mm's in-page worker, when
// the fault handler could not start a read itself). Under the page-table
// lock StartRead claims a frame, points the PTE at it as a transition PTE
// and records the read in inPage; a fault on the same page meanwhile sees
// that record (Resolve's Collided) and sleeps on its futex word instead of
// reading again, as NT's collided page faults wait on the first one's
// event. The read runs with no lock held. On success the frame is mapped
// and joins the working set; on failure the PTE is the page-file PTE it
// was and the frame is freed, and the caller stops with InpageError.

package paging

import (
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
	for {
		p.lock.Lock()
		r, rd := p.StartRead(va, a)
		switch r {
		case Collided:
			w, seq := p.ReadWord(rd.Slot), p.ReadSeq(rd.Slot)
			p.lock.Unlock()
			p.CollidedFaults.Add(1)
			futexWait(w, seq)
			continue
		case ReadFailed:
			p.lock.Unlock()
			return NeedPageIn, rd.Status
		case NeedPageIn:
		default:
			p.lock.Unlock()
			return r, ntstatus.Success
		}
		p.lock.Unlock()

		st := p.dev.Read(rd.Offset, []physmem.PFN{rd.Frame})

		p.lock.Lock()
		w := p.EndRead(rd.Slot, st, false)
		p.lock.Unlock()
		futexWake(w)
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
