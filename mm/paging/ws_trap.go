// The pager's work under the page-table lock and in the fault path.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// What runs here runs either in the page-fault handler or in a goroutine
// holding the page-table lock, which in the kernel disables interrupts:
// working-set membership, the PFN database's TransitionHook, the trim of
// one page, the in-flight read table, and freeing a paging-file slot.

package paging

import (
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// Contains reports whether va is in the region.
//
//go:nosplit
func (r *Region) Contains(va uintptr) bool {
	return va >= r.Base && va-r.Base < uintptr(r.Pages)*pageSize
}

// Pageable reports whether va is in a pageable region.
//
//go:nosplit
func (p *Pager) Pageable(va uintptr) bool { return p.region(va) != nil }

//go:nosplit
func (p *Pager) region(va uintptr) *Region {
	for _, r := range p.regions {
		if r.Contains(va) {
			return r
		}
	}
	return nil
}

//go:nosplit
func (p *Pager) wsInsert(va uintptr) {
	if r := p.region(va); r != nil {
		r.age[(va-r.Base)/pageSize] = 0
	}
	n := p.wsPages.Add(1)
	for pk := p.wsPeak.Load(); n > pk && !p.wsPeak.CompareAndSwap(pk, n); pk = p.wsPeak.Load() {
	}
}

// Restore is the PFN database's TransitionHook for pageable pages: standby
// frame f is reused, so its owner's PTE, at pteAddr, gets its original PTE
// back (the page-file PTE of its copy). The caller (the database, under the
// PFN lock, possibly in trap context) guarantees the PTE still names f.
//
//go:nosplit
func (p *Pager) Restore(f physmem.PFN, pteAddr uintptr, original uint64) {
	p.pt.Replace(pte.VaFromPte(pteAddr), pte.PTE(original), nil)
	p.Repurposed.Add(1)
}

// trimLocked is trimPage under the page-table lock; it returns the slot to
// free once the lock is dropped (0: none).
//
//go:nosplit
func (p *Pager) trimLocked(va uintptr, age *uint8, minAge uint8) (uint32, bool) {
	e, st := p.pt.Leaf(va)
	if st != ntstatus.Success || !e.Valid() {
		return 0, false
	}
	return p.trimValid(va, e, age, minAge)
}

// trimValid is trimLocked for the valid leaf e.
//
//go:nosplit
func (p *Pager) trimValid(va uintptr, e pte.PTE, age *uint8, minAge uint8) (uint32, bool) {
	if minAge > 0 {
		if e&pte.Accessed != 0 {
			p.pt.Replace(va, e&^pte.Accessed, nil)
			*age = 0
			return 0, false
		}
		if *age < 255 {
			*age++
		}
		if *age < minAge {
			return 0, false
		}
	}
	f := e.Frame()
	refs, orig := p.db.Owner(f)
	if refs > 1 {
		return 0, false // locked: an MDL or a read holds it
	}
	pteAddr := pte.PteAddress(va)
	prot := e.Protection()
	slot := pte.PTE(orig).Slot()
	dirty := e&pte.Dirty != 0 || slot == 0
	if dirty && slot != 0 {
		// The copy is stale: the page no longer has one.
		if !p.db.SwapOriginalPte(f, pteAddr, orig, uint64(pte.DemandZero(prot))) {
			return 0, false
		}
	} else {
		slot = 0
	}
	p.pt.Replace(va, pte.NewTransition(f, prot, e.Cache()), nil)
	p.db.Unmap(f, dirty, false)
	p.wsPages.Add(-1)
	return slot, true
}

// Free returns slot i. Freeing a free slot, slot 0 or one beyond the file
// means the pager lost track of a page: MEMORY_MANAGEMENT (0x1A) with
// SlotFreedTwice, the slot and the file's size.
//
//go:nosplit
func (s *Slots) Free(i uint32) {
	if i == 0 || int(i) >= s.n {
		bugcheck.KeBugCheckEx(bugcheck.MemoryManagement, SlotFreedTwice, uintptr(i), uintptr(s.n), 0)
	}
	w, bit := &s.bits[i/64], uint64(1)<<(i%64)
	if w.And(^bit)&bit == 0 {
		bugcheck.KeBugCheckEx(bugcheck.MemoryManagement, SlotFreedTwice, uintptr(i), uintptr(s.n), 0)
	}
	s.used.Add(-1)
}
