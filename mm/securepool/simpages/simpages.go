// Package simpages is securepool.Pages over the simulated MMU
// (mm/pte/ptesim), for host tests: the secure pages are mapped read-only
// and no-execute in the simulated page tables, and every read and write
// goes through the simulated MMU, so a write to a secure page from
// outside Write faults there as it does on the machine. Write maps the
// frame writable at one alias page, copies, and unmaps the alias with its
// TLB entry flushed, as the kernel's per-processor alias does.
package simpages

import (
	"fmt"

	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/mm/securepool"
)

// Pages is securepool.Pages over m.
type Pages struct {
	M     *ptesim.Machine
	Base  uintptr // the region's first page
	Alias uintptr // the alias page's address
	used  []bool
	// Writes counts Write calls; AliasLeft is set if the alias was still
	// mapped when a Write began (a torn-down alias never is).
	Writes    int
	AliasLeft bool
}

// New is n pages of region at base over m, with the alias page at alias.
// The idle alias holds the reserved PTE, so its table stays, as an idle
// hyperspace slot does.
func New(m *ptesim.Machine, base uintptr, n int, alias uintptr) *Pages {
	if _, st := m.PT.Swap(alias, pte.Reserved, nil); st != 0 {
		panic(fmt.Sprintf("simpages: alias: %v", st))
	}
	return &Pages{M: m, Base: base, Alias: alias, used: make([]bool, n)}
}

func (p *Pages) Region() (uintptr, uintptr) { return p.Base, uintptr(len(p.used)) * physmem.PageSize }

// InUse is how many pages are handed out.
func (p *Pages) InUse() int {
	n := 0
	for _, u := range p.used {
		if u {
			n++
		}
	}
	return n
}

func (p *Pages) AllocPages(n int) (uintptr, bool) {
	run := 0
	for i := range p.used {
		if p.used[i] {
			run = 0
			continue
		}
		if run++; run < n {
			continue
		}
		start := i - n + 1
		va := p.Base + uintptr(start)*physmem.PageSize
		for j := 0; j < n; j++ {
			a := va + uintptr(j)*physmem.PageSize
			f, ok := p.M.Frames.AllocZeroedPage(pte.PteAddress(a), 0)
			if !ok {
				p.unmap(va, j)
				return 0, false
			}
			if st := p.M.PT.Map(a, f, pte.ProtReadOnly, pte.Cached); st != 0 {
				panic(fmt.Sprintf("simpages: map %#x: %v", a, st))
			}
			p.used[start+j] = true
		}
		return va, true
	}
	return 0, false
}

func (p *Pages) unmap(va uintptr, n int) {
	for j := 0; j < n; j++ {
		a := va + uintptr(j)*physmem.PageSize
		old, _ := p.M.PT.Unmap(a, nil)
		p.M.Frames.FreePage(old.Frame(), pte.PteAddress(a))
		p.used[(a-p.Base)/physmem.PageSize] = false
	}
}

func (p *Pages) FreePages(va uintptr, n int) { p.unmap(va, n) }

func (p *Pages) frame(va uintptr) physmem.PFN {
	e, st := p.M.PT.Leaf(va)
	if st != 0 || !e.Valid() {
		panic(fmt.Sprintf("simpages: %#x is not mapped", va))
	}
	return e.Frame()
}

// Write maps page's frame writable at the alias, copies each run through
// it (the MMU translating the alias) and returns the alias to idle
// (Replace flushes its TLB entry).
func (p *Pages) Write(page uintptr, runs []securepool.Run) {
	p.Writes++
	if e, _ := p.M.PT.Leaf(p.Alias); e != pte.Reserved {
		p.AliasLeft = true
	}
	p.M.PT.Replace(p.Alias, pte.NewValid(p.frame(page), pte.ProtReadWrite, pte.Cached), nil)
	for _, r := range runs {
		if r.Off+uintptr(len(r.Data)) > physmem.PageSize {
			panic(fmt.Sprintf("simpages: a run of %d bytes at %#x leaves the page", len(r.Data), r.Off))
		}
		copy(p.bytes(p.Alias+r.Off, pte.AccessWrite), r.Data)
	}
	p.M.PT.Replace(p.Alias, pte.Reserved, nil)
}

// bytes is the rest of the page from va, as the MMU translates an access
// a there (once: the range lies in one page); a refused access panics.
func (p *Pages) bytes(va uintptr, a pte.Access) []byte {
	pa, code, ok := p.M.MMU.Translate(va, a)
	if !ok {
		panic(fmt.Sprintf("simpages: %#x: #PF %v", va, code))
	}
	return p.M.Mem.Frame(physmem.FrameOf(pa))[pa&physmem.PageMask:]
}

// Read reads through the MMU, as a load from the read-only mapping, page
// by page (tests read across pages; the pool never does).
func (p *Pages) Read(va uintptr, dst []byte) {
	for len(dst) > 0 {
		n := copy(dst, p.bytes(va, pte.AccessRead))
		va, dst = va+uintptr(n), dst[n:]
	}
}

// Store is a write from outside the pool (a stray driver's) through the
// ordinary mapping: the fault's error code and false if the MMU refuses it.
func (p *Pages) Store(va uintptr, v uint64) (pte.ErrorCode, bool) { return p.M.MMU.Write64(va, v) }

// NewMachine is n pages of the secure-pool region over a machine of its
// own, with room for their frames and tables; Close releases it.
func NewMachine(n int) *Pages {
	return New(ptesim.New(physmem.PFN(n+64)), layout.SecurePoolStart, n, layout.HyperSpaceStart+2*physmem.PageSize)
}

// Close releases the machine's memory.
func (p *Pages) Close() { p.M.Close() }
