// Pool pages: the page sources behind the executive pools (mm/pool).
//
// Each pool region of NT's layout (non-paged pool, paged pool) is a
// PoolPages: a bitmap of its first maxPages pages, handed out in runs,
// first fit from a roving cursor. What a page is backed by differs:
//
//	non-paged  a frame from the PFN database at once, mapped valid: pool
//	           memory that may be touched at any IRQL never faults
//	paged      a demand-zero PTE: the first touch faults in a zeroed frame
//	           (at DISPATCH_LEVEL that fault is IRQL_NOT_LESS_OR_EQUAL, as
//	           in NT); the page is in the system working set from then on
//	           and may be trimmed and paged out (paging.go)
//
// Freeing clears the PTEs and returns the frames after the flush; a paged
// page is freed through the pager, wherever it is (valid, on Standby or
// Modified, in the paging file). Frames of both carry NT's PteAddress.
// Pool pages count in the commit charge, which the commit limit (RAM plus
// the paging file) bounds: beyond it AllocPages fails and the pool returns
// nil.
//
// Locking: runs are carved and mapped under kernelSpace; the bitmap words
// are also read atomically so Mapped, which the pool asks on every free,
// takes no lock.

package mm

import (
	"sync/atomic"

	"ntgo/mm/paging"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/vmstat"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// PoolPages is a pool.PageSource over one pool region.
type PoolPages struct {
	base     uintptr
	pages    int
	paged    bool
	readOnly bool            // the secure pools' pages (securepages.go)
	inUse    []atomic.Uint64 // bit per page, set while handed out
	cursor   int
	pager    *paging.Pager // paged pool's
}

const wordBits = 64

// NewPoolPages manages maxBytes of the region at base.
func NewPoolPages(base, maxBytes uintptr, paged bool) *PoolPages {
	n := int(maxBytes / physmem.PageSize)
	return &PoolPages{base: base, pages: n, paged: paged, inUse: make([]atomic.Uint64, (n+wordBits-1)/wordBits)}
}

// Region is the range pages come from.
func (s *PoolPages) Region() (uintptr, uintptr) { return s.base, uintptr(s.pages) * physmem.PageSize }

func (s *PoolPages) used(i int) bool { return s.inUse[i/wordBits].Load()&(1<<(i%wordBits)) != 0 }

func (s *PoolPages) mark(i, n int, on bool) {
	for p := i; p < i+n; p++ {
		w, bit := &s.inUse[p/wordBits], uint64(1)<<(p%wordBits)
		if on {
			w.Or(bit)
		} else {
			w.And(^bit)
		}
	}
}

// InUseBits is the in-use bitmap (pool.PageBitmap).
func (s *PoolPages) InUseBits() []atomic.Uint64 { return s.inUse }

// Mapped reports whether the page holding va is handed out.
func (s *PoolPages) Mapped(va uintptr) bool {
	if va < s.base || va-s.base >= uintptr(s.pages)*physmem.PageSize {
		return false
	}
	return s.used(int((va - s.base) / physmem.PageSize))
}

// find returns the first free run of n pages at or after the cursor,
// then from the start.
func (s *PoolPages) find(n int) (int, bool) {
	for _, start := range [...]int{s.cursor, 0} {
		run := 0
		for i := start; i < s.pages; i++ {
			if s.used(i) {
				run = 0
				continue
			}
			if run++; run == n {
				return i - n + 1, true
			}
		}
	}
	return 0, false
}

// AllocPages hands out n pages, executable or not; non-paged pool's
// frames come from the current processor's node first.
func (s *PoolPages) AllocPages(n int, executable bool) (uintptr, bool) {
	return s.alloc(n, executable, ke.GetCurrentNodeNumber(), false)
}

// AllocPagesOnNode is AllocPages with non-paged pool's frames from node
// first, only from it if required (pool.NodePageSource).
func (s *PoolPages) AllocPagesOnNode(n int, executable bool, node uint32, required bool) (uintptr, bool) {
	return s.alloc(n, executable, node, required)
}

func (s *PoolPages) alloc(n int, executable bool, node uint32, required bool) (uintptr, bool) {
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	i, ok := s.find(n)
	if !ok || !chargeCommit(int64(n)) {
		return 0, false
	}
	va := s.base + uintptr(i)*physmem.PageSize
	prot := pte.ProtReadWrite
	switch {
	case s.readOnly:
		prot = pte.ProtReadOnly
	case executable:
		prot = pte.ProtExecuteReadWrite
	}
	for p := 0; p < n; p++ {
		if !s.back(va+uintptr(p)*physmem.PageSize, prot, node, required) {
			s.unback(va, p)
			chargeCommit(-int64(n))
			return 0, false
		}
	}
	s.mark(i, n, true)
	s.cursor = i + n
	return va, true
}

// back gives the page at va its PTE (and frame, for non-paged pool, from
// node first, only from it if required).
func (s *PoolPages) back(va uintptr, prot pte.Protection, node uint32, required bool) bool {
	return backPage(va, prot, s.paged, node, required)
}

// unback clears n pages from va and returns their frames (and a paged
// page's slot).
func (s *PoolPages) unback(va uintptr, n int) {
	for p := 0; p < n; p++ {
		if s.pager != nil {
			s.pager.Free(va+uintptr(p)*physmem.PageSize, swapOut)
		} else {
			unbackPage(va + uintptr(p)*physmem.PageSize)
		}
	}
}

// swapOut clears a freed page's PTE, freeing tables that empty.
func swapOut(va uintptr, e pte.PTE) { Tables.Swap(va, e, nil) }

// backPage gives the page at va a PTE: a zeroed frame mapped valid (from
// node first, only from it if required), or for paged memory a demand-zero
// PTE. kernelSpace is held.
func backPage(va uintptr, prot pte.Protection, paged bool, node uint32, required bool) bool {
	e := pte.DemandZero(prot)
	if !paged {
		f, ok := PFN.AllocateOnNode(pte.PteAddress(va), 0, true, node, required)
		if !ok {
			return false
		}
		e = pte.NewValid(f, prot, pte.Cached)
	}
	if _, st := Tables.Swap(va, e, nil); st != ntstatus.Success {
		if e.Valid() {
			PFN.Free(e.Frame(), pte.PteAddress(va))
		}
		return false
	}
	return true
}

// unbackPage clears va's PTE and returns its frame. kernelSpace is held.
func unbackPage(va uintptr) {
	old, st := Tables.Swap(va, 0, nil)
	if st == ntstatus.Success && old.Valid() {
		PFN.Free(old.Frame(), pte.PteAddress(va))
	}
}

// FreePages takes back a run AllocPages handed out.
func (s *PoolPages) FreePages(va uintptr, n int) {
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	s.unback(va, n)
	s.mark(int((va-s.base)/physmem.PageSize), n, false)
	chargeCommit(-int64(n))
}

// summary is !vm's line for the region: pages handed out, of the maximum.
func (s *PoolPages) summary() vmstat.PoolPages {
	return vmstat.PoolPages{InUse: uint64(s.InUse()), Max: uint64(s.pages)}
}
