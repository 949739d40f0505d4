// Working-set trimming: the balance-set manager's half of NT's working-set
// manager.
//
// A pass walks the regions' pages from the clock hand. A valid page whose
// accessed bit is set was used since the last pass: the bit is cleared
// (and its TLB entry flushed, so the CPU sets it again on the next use) and
// its age goes back to zero. Otherwise its age grows, and a page at least
// minAge passes old is trimmed (forced trims take every page). Pages locked
// by an MDL or I/O (a reference beyond the mapping's) stay.
//
// Trimming a page rewrites its valid PTE as a transition PTE naming the
// same frame, flushes it, and unmaps the frame in the PFN database: a page
// that is dirty, or has no copy in the paging file, goes to Modified (its
// now stale slot, if any, freed); a clean one with a copy to Standby.
// Each page is one short region under the page-table lock.

package paging

import "ntgo/nt/ntstatus"

// Trim takes up to max pages out of the working set, pages at least
// minAge passes unused (0: every page not locked, whatever its age), and
// returns how many it took. It visits each page at most once.
func (p *Pager) Trim(max int, minAge uint8) int {
	p.wsMu.Lock()
	defer p.wsMu.Unlock()
	total := 0
	for _, r := range p.regions {
		total += r.Pages
	}
	n := 0
	for i := 0; i < total && n < max; i++ {
		va, age := p.page(p.hand)
		p.hand = (p.hand + 1) % total
		if !p.hasTable(va) {
			// No page table: the rest of its 2 MiB holds no page.
			r := p.region(va)
			left := int((r.Base+uintptr(r.Pages)*pageSize-va)/pageSize) - 1
			skip := min(int(tableSpan-va%tableSpan)/int(pageSize)-1, left, total-1-i)
			p.hand = (p.hand + skip) % total
			i += skip
			continue
		}
		if p.trimPage(va, age, minAge) {
			n++
		}
	}
	p.Trimmed.Add(uint64(n))
	return n
}

// tableSpan is what one page table maps.
const tableSpan = 512 * pageSize

// hasTable reports whether a page table holds va's leaf.
func (p *Pager) hasTable(va uintptr) bool {
	p.lock.Lock()
	_, st := p.pt.Leaf(va)
	p.lock.Unlock()
	return st != ntstatus.MemoryNotAllocated
}

// TrimAll takes every pageable page that is not locked out of the working
// set now and returns how many it took.
func (p *Pager) TrimAll() int { return p.Trim(int(^uint(0)>>1), 0) }

// page is the address and age entry of page i over all regions.
func (p *Pager) page(i int) (uintptr, *uint8) {
	for _, r := range p.regions {
		if i < r.Pages {
			return r.Base + uintptr(i)*pageSize, &r.age[i]
		}
		i -= r.Pages
	}
	panic("paging: page index beyond the regions")
}

// trimPage ages or trims the page at va; true if trimmed.
func (p *Pager) trimPage(va uintptr, age *uint8, minAge uint8) bool {
	p.lock.Lock()
	slot, trimmed := p.trimLocked(va, age, minAge)
	p.lock.Unlock()
	if slot != 0 {
		p.slots.Free(slot)
	}
	return trimmed
}

// TrimRange takes the unlocked valid pages of [va, va+size) out of the
// working set now, whatever their age, and returns how many it took.
func (p *Pager) TrimRange(va, size uintptr) int {
	p.wsMu.Lock()
	defer p.wsMu.Unlock()
	n := 0
	for a := va &^ (pageSize - 1); a < va+size; a += pageSize {
		r := p.region(a)
		if r == nil {
			continue
		}
		if p.trimPage(a, &r.age[(a-r.Base)/pageSize], 0) {
			n++
		}
	}
	p.Trimmed.Add(uint64(n))
	return n
}
