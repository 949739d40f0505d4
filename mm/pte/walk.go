// The page-table walker.
//
// PageTables changes the leaves of one four-level hierarchy and keeps the
// tables above them alive exactly as long as they are needed.
//
// Structure. The PML4 is fixed (it holds the self-map). Below it, a PDPT, PD
// or PT exists only while at least one of its entries is non-zero — present,
// or for a PT also any software encoding. Each such table's used-entry count
// lives in the entry that points to it (PTE.UsedEntries): setting an entry
// from zero to non-zero increments the count in its parent entry, clearing
// it decrements, and a count reaching zero frees the table, which clears the
// parent's entry and may cascade upward. Counting non-zero rather than
// present entries is NT's rule too: a table full of demand-zero PTEs must
// stay.
//
// Invariants, checked by ptesim.Machine.Check after every fuzz step:
//   - every present non-leaf entry's count equals the number of non-zero
//     entries in the table it points to, and is never zero;
//   - every table frame came from the FrameSource and is reachable from
//     exactly one entry; every freed one was returned.
//
// Allocation never leaves a partial path behind: the frames for all missing
// levels are obtained before any entry is written.
//
// Flushing. Changing a present leaf makes its translation stale: Swap adds
// the page to the caller's FlushBatch (nil means flush now), and the caller
// must flush before it reuses the old frame. Freeing a table is flushed at
// once, with one INVLPG of the table's self-map address, before the frame
// goes back: that drops both the self-map translation and the CPU's cached
// paging-structure entries. Leaves below a freed table are already zero and
// their own flushes are in the caller's batch; a stale leaf translation
// names a data frame, not the table, so the order is safe.
//
// Misuse. Addresses that are not canonical or lie in PTE space (writing
// there would rewrite the tables themselves) get STATUS_INVALID_ADDRESS; a
// large page in the way, STATUS_CONFLICTING_ADDRESSES. Damage is
// MEMORY_MANAGEMENT (0x1A) subtype 0x411 with the entry's self-map address
// and contents: a used count that would go below zero, a leaf Protect cannot
// decode (an encoding ntgo never writes), a Replace of or with a zero leaf.
//
// Locking: see the package comment; the caller serializes all calls.

package pte

import (
	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// CorruptPte is NT's MEMORY_MANAGEMENT subtype "a PTE has been corrupted";
// parameter 2 is the entry's address, parameter 3 its contents.
const CorruptPte = 0x411

// PageTables walks and edits one page-table hierarchy.
type PageTables struct {
	tables Tables
	frames FrameSource
	flush  Flusher
}

// New returns a walker over the hierarchy t reaches, allocating tables from
// frames and flushing through f. The PML4 with its self-map entry must
// already be in place.
func New(t Tables, frames FrameSource, f Flusher) *PageTables {
	p := new(PageTables)
	p.Init(t, frames, f)
	return p
}

// Init is New in place, for the kernel's walker, which is built before the
// Go heap exists. It also switches a walker to other Tables (the kernel's
// boot walker moves from physical access to the self-map).
//
//go:nosplit
func (p *PageTables) Init(t Tables, frames FrameSource, f Flusher) {
	*p = PageTables{tables: t, frames: frames, flush: f}
}

// Flush flushes b through the walker's Flusher.
//
//go:nosplit
func (p *PageTables) Flush(b *FlushBatch) { b.Flush(p.flush) }

// Mappable reports whether the walker may change va's leaf.
//
//go:nosplit
func Mappable(va uintptr) bool { return IsCanonical(va) && !InPteSpace(va) }

// Map maps the page at va to frame f with protection p and cache type c.
// The page must not be mapped already; a software PTE there (demand-zero,
// reserved, transition) is replaced.
func (p *PageTables) Map(va uintptr, f physmem.PFN, prot Protection, c CacheType) ntstatus.Status {
	if !prot.Mappable() {
		return ntstatus.InvalidPageProtection
	}
	if _, ok := c.bits(); !ok {
		return ntstatus.InvalidParameter
	}
	if old, st := p.Leaf(va); st == ntstatus.Success && old.Valid() {
		return ntstatus.ConflictingAddresses
	}
	_, st := p.Swap(va, NewValid(f, prot, c), nil)
	return st
}

// MapRun is Map for n pages from va to the consecutive frames from f,
// walking down to each page table once rather than once per page: it
// checks that none of a table's pages in the run is mapped, stores their
// leaves, and adds to the table's used-entry count once. Boot maps the PFN
// database with it (8192 pages at 4 GiB). On a failure the pages before
// the table concerned stay mapped.
func (p *PageTables) MapRun(va uintptr, f physmem.PFN, n uintptr, prot Protection, c CacheType) ntstatus.Status {
	if !prot.Mappable() {
		return ntstatus.InvalidPageProtection
	}
	if _, ok := c.bits(); !ok {
		return ntstatus.InvalidParameter
	}
	for n > 0 {
		k := min(n, EntriesPerTable-va>>physmem.PageShift%EntriesPerTable)
		if _, st := p.Leaf(va); st == ntstatus.MemoryNotAllocated {
			if !p.ensure(va) {
				return ntstatus.InsufficientResources
			}
		} else if st != ntstatus.Success {
			return st
		}
		added := 0
		for i := range k {
			page := va + i*physmem.PageSize
			if !Mappable(page) {
				return ntstatus.InvalidAddress
			}
			old := p.tables.Load(PT, page)
			if old.Valid() {
				return ntstatus.ConflictingAddresses
			}
			if old == 0 {
				added++
			}
		}
		for i := range k {
			page := va + i*physmem.PageSize
			p.tables.Store(PT, page, NewValid(f+physmem.PFN(i), prot, c))
		}
		if added > 0 {
			parent := p.tables.Load(PD, va)
			p.tables.Store(PD, va, parent.WithUsedEntries(parent.UsedEntries()+added))
		}
		va += k * physmem.PageSize
		f += physmem.PFN(k)
		n -= k
	}
	return ntstatus.Success
}

// Unmap clears va's leaf and returns what it held (for a present or
// transition PTE, old.Frame() is the page's frame). The flush of a present
// page's translation goes into b, or happens now if b is nil; the frame may
// be reused only after it.
func (p *PageTables) Unmap(va uintptr, b *FlushBatch) (PTE, ntstatus.Status) {
	return p.Swap(va, 0, b)
}

// Protect gives the page at va protection prot. A present page stays present
// unless prot is NOACCESS or GUARD, which no present PTE can express: then it
// becomes a transition PTE keeping its frame (as NT takes such a page out of
// the working set). A demand-zero or transition page takes prot in its
// software PTE. A free or reserved page is not committed.
func (p *PageTables) Protect(va uintptr, prot Protection, b *FlushBatch) ntstatus.Status {
	if !prot.Valid() {
		return ntstatus.InvalidPageProtection
	}
	old, st := p.Leaf(va)
	if st != ntstatus.Success {
		return st
	}
	var e PTE
	switch old.Kind() {
	case KindFree, KindReserved:
		return ntstatus.NotCommitted
	case KindValid:
		if prot.Mappable() {
			e = old&^(Write|NX) | prot.hardware()
		} else {
			e = NewTransition(old.Frame(), prot, old.Cache())
		}
	case KindDemandZero:
		e = DemandZero(prot)
	case KindTransition:
		e = old&^ProtectionMask | PTE(prot)<<protShift
	default:
		bugcheck.KeBugCheckEx(bugcheck.MemoryManagement, CorruptPte, PteAddress(va), uintptr(old), 0)
	}
	p.Replace(va, e, b)
	return ntstatus.Success
}

// Swap stores e as va's leaf and returns the previous leaf, creating the
// tables on the way if e is non-zero and freeing those that empty if it is
// zero. A present old leaf's flush goes into b (now if b is nil).
func (p *PageTables) Swap(va uintptr, e PTE, b *FlushBatch) (PTE, ntstatus.Status) {
	old, st := p.Leaf(va)
	switch {
	case st == ntstatus.MemoryNotAllocated:
		// No table holds va's leaf: it is zero.
		if e == 0 {
			return 0, ntstatus.Success
		}
		if !p.ensure(va) {
			return 0, ntstatus.InsufficientResources
		}
	case st != ntstatus.Success:
		return 0, st
	}
	p.tables.Store(PT, va, e)
	p.flushStale(va, old, e, b)
	switch {
	case old == 0 && e != 0:
		p.count(PT, va)
	case old != 0 && e == 0:
		p.uncount(PT, va)
	}
	return old, ntstatus.Success
}

// ensure creates the missing tables on va's path, all or none. It reports
// false if the FrameSource ran out.
func (p *PageTables) ensure(va uintptr) bool {
	top := PML4 // the highest level whose entry for va is missing
	for top > PT && p.tables.Load(top, va).Valid() {
		top--
	}
	var got [PML4]physmem.PFN
	need := got[:top-PT]
	for i := range need {
		f, ok := p.frames.AllocTable()
		if !ok {
			for _, g := range need[:i] {
				p.frames.FreeTable(g)
			}
			return false
		}
		need[i] = f
	}
	for i, l := 0, top; l > PT; i, l = i+1, l-1 {
		p.tables.Store(l, va, tableEntry(need[i]))
		p.count(l, va)
	}
	return true
}

// count records that the level-l entry for va became non-zero.
func (p *PageTables) count(l Level, va uintptr) {
	if l == PML4 {
		return // the PML4 is never freed and keeps no count
	}
	parent := p.tables.Load(l+1, va)
	p.tables.Store(l+1, va, parent.WithUsedEntries(parent.UsedEntries()+1))
}

// uncount records that the level-l entry for va became zero, freeing each
// table on the path up that is left empty.
func (p *PageTables) uncount(l Level, va uintptr) {
	for ; l < PML4; l++ {
		parent := p.tables.Load(l+1, va)
		n := parent.UsedEntries() - 1
		if n < 0 {
			bugcheck.KeBugCheckEx(bugcheck.MemoryManagement, CorruptPte, EntryAddress(l+1, va), uintptr(parent), 0)
		}
		if n > 0 {
			p.tables.Store(l+1, va, parent.WithUsedEntries(n))
			return
		}
		p.tables.Store(l+1, va, 0)
		p.flush.FlushPage(TableAddress(l, va))
		p.frames.FreeTable(parent.Frame())
	}
}
