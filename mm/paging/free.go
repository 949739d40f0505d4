// Freeing pageable pages: the owner deletes them (pool pages freed,
// pageable VA decommitted), wherever they are.

package paging

import (
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// Free deletes the page at va, whatever state it is in, and returns its
// frame and slot. Under the page-table lock its PTE becomes a reserved PTE
// (a touch now is a fault on freed memory) and then, with the lock
// dropped, zero through swap, which frees page tables that empty (mm's
// Tables.Swap, which the caller serializes with other table edits). A read
// in flight for it is waited for first. No lock may be held.
func (p *Pager) Free(va uintptr, swap func(va uintptr, e pte.PTE)) {
	va &^= pageSize - 1
	pteAddr := pte.PteAddress(va)
	for {
		p.lock.Lock()
		if i := p.failedRead(va); i >= 0 {
			p.inPage[i].failed = 0 // nobody retries a freed page
		}
		e, st := p.pt.Leaf(va)
		if st != ntstatus.Success {
			p.lock.Unlock()
			return
		}
		var slot uint32
		switch e.Kind() {
		case pte.KindValid:
			_, orig := p.db.Owner(e.Frame())
			slot = pte.PTE(orig).Slot()
			p.pt.Replace(va, pte.Reserved, nil)
			p.db.Free(e.Frame(), pteAddr)
			p.wsPages.Add(-1)
		case pte.KindTransition:
			if i := p.reading(e.Frame()); i >= 0 {
				w, seq := p.ReadWord(i), p.ReadSeq(i)
				p.lock.Unlock()
				futexWait(w, seq)
				continue
			}
			_, orig := p.db.Owner(e.Frame())
			if !p.db.DeleteTransitionOwned(e.Frame(), pteAddr) {
				p.lock.Unlock()
				continue // repurposed meanwhile (Resolve says how): a page-file PTE now
			}
			slot = pte.PTE(orig).Slot()
			p.pt.Replace(va, pte.Reserved, nil)
		case pte.KindPageFile:
			slot = e.Slot()
			p.pt.Replace(va, pte.Reserved, nil)
		case pte.KindFree:
			p.lock.Unlock()
			return
		default:
			p.pt.Replace(va, pte.Reserved, nil)
		}
		p.lock.Unlock()
		swap(va, 0)
		if slot != 0 {
			p.slots.Free(slot)
		}
		return
	}
}
