package va_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/mm/va"
	"ntgo/nt/ntstatus"
)

// The fuzzed Space: 1024 pages from a 2 MiB boundary, so two page tables.
const (
	fzPages   = 1024
	fzGranule = int(va.AllocationGranularity / pageSize)
	fzMaxOps  = 300
)

var fzProtections = [...]va.PageProtection{
	va.PageNoAccess, va.PageReadOnly, va.PageReadWrite, va.PageExecuteRead, va.PageExecuteReadWrite,
	va.PageReadWrite | va.PageGuard, va.PageExecuteRead | va.PageGuard, 0x10, // PAGE_EXECUTE: refused
}

type pageState uint8

const (
	stFree pageState = iota
	stReserved
	stCommitted
)

// page is the model of one page.
type page struct {
	state    pageState
	prot     pte.Protection // when committed
	resident bool           // holds a frame (valid or transition)
	mapped   bool           // resident and valid
	value    uint64         // word 0's contents, when resident
	resv     int            // first page of its reservation
}

// vaModel is an independent model of a Space's semantics.
type vaModel struct {
	e     *env
	pages [fzPages]page
	resv  map[int]int // reservation start page → end page
	tag   uint64
}

func (m *vaModel) addr(p int) uintptr { return layout.DynamicVAStart + uintptr(p)*pageSize }

func (m *vaModel) mm(p va.PageProtection) (pte.Protection, bool) {
	switch p &^ va.PageGuard {
	case va.PageNoAccess:
		return pte.ProtNoAccess, p == va.PageNoAccess
	case va.PageReadOnly:
		return guarded(pte.ProtReadOnly, p), true
	case va.PageReadWrite:
		return guarded(pte.ProtReadWrite, p), true
	case va.PageExecuteRead:
		return guarded(pte.ProtExecuteRead, p), true
	case va.PageExecuteReadWrite:
		return guarded(pte.ProtExecuteReadWrite, p), true
	}
	return 0, false
}

func guarded(base pte.Protection, p va.PageProtection) pte.Protection {
	if p&va.PageGuard != 0 {
		return base | pte.ProtGuard
	}
	return base
}

// limited reports whether frame exhaustion may explain a failure.
func (m *vaModel) limited() bool { return m.e.m.Frames.Limit > 0 }

func (m *vaModel) reserve(p, n int, commit bool, protect va.PageProtection) error {
	typ := va.MemReserve
	if commit {
		typ |= va.MemCommit
	}
	base := uintptr(0)
	if p >= 0 {
		base = m.addr(p) + 0x123
	}
	got, size, st := m.e.space.Allocate(base, uintptr(n)*pageSize-0x10, typ, protect)
	prot, ok := m.mm(protect)
	// The model's answer.
	start := -1
	want := ntstatus.Success
	switch {
	case !ok:
		want = ntstatus.InvalidPageProtection
	case p < 0:
		want = ntstatus.NoMemory
		for g := 0; g+n <= fzPages; g += fzGranule {
			if m.free(g, g+n) {
				start, want = g, ntstatus.Success
				break
			}
		}
	default:
		start = p / fzGranule * fzGranule
		// From the rounded-down base to the end of the page holding the
		// last byte, base+0x123+n pages-0x10: one page past p+n-1.
		n = p + n + 1 - start
		if p+1 > fzPages || start+n > fzPages || !m.free(start, start+n) {
			want = ntstatus.ConflictingAddresses
		}
	}
	if st == ntstatus.InsufficientResources && want == ntstatus.Success && m.limited() {
		return nil
	}
	if st != want || (st == ntstatus.Success && (got != m.addr(start) || size != uintptr(n)*pageSize)) {
		return fmt.Errorf("reserve(%d, %d, %v, %#x) = %#x+%#x %v, model %d %v", p, n, commit, protect, got, size, st, start, want)
	}
	if st != ntstatus.Success {
		return nil
	}
	m.resv[start] = start + n
	for i := start; i < start+n; i++ {
		m.pages[i] = page{state: stReserved, resv: start}
		if commit {
			m.pages[i].state, m.pages[i].prot = stCommitted, prot
		}
	}
	return nil
}

func (m *vaModel) free(from, to int) bool {
	for i := from; i < to; i++ {
		if m.pages[i].state != stFree {
			return false
		}
	}
	return true
}

// reservation is the reservation holding page p.
func (m *vaModel) reservation(p int) (int, int, bool) {
	if p >= fzPages || m.pages[p].state == stFree {
		return 0, 0, false
	}
	s := m.pages[p].resv
	return s, m.resv[s], true
}

// protectPage applies a new protection to committed page p, as the PTE
// layer does to valid, transition and demand-zero PTEs.
func (m *vaModel) protectPage(p int, prot pte.Protection) {
	pg := &m.pages[p]
	pg.prot = prot
	if pg.mapped && !prot.Mappable() {
		pg.mapped = false
	}
}

func (m *vaModel) commit(p, n int, protect va.PageProtection) error {
	_, _, st := m.e.space.Allocate(m.addr(p), uintptr(n)*pageSize, va.MemCommit, protect)
	prot, ok := m.mm(protect)
	s, end, in := m.reservation(p)
	want := ntstatus.Success
	switch {
	case !ok:
		want = ntstatus.InvalidPageProtection
	case !in || p+n > end:
		want = ntstatus.ConflictingAddresses
	}
	if st != want {
		return fmt.Errorf("commit(%d, %d, %#x) = %v, model %v (reservation %d..%d %v)", p, n, protect, st, want, s, end, in)
	}
	if st == ntstatus.Success {
		for i := p; i < p+n; i++ {
			if m.pages[i].state == stReserved {
				m.pages[i].state, m.pages[i].prot = stCommitted, prot
			} else {
				m.protectPage(i, prot)
			}
		}
	}
	return nil
}

func (m *vaModel) decommit(p, n int) error {
	size := uintptr(n) * pageSize
	_, _, st := m.e.space.Free(m.addr(p), size, va.MemDecommit)
	s, end, in := m.reservation(p)
	want := ntstatus.Success
	switch {
	case !in:
		want = ntstatus.MemoryNotAllocated
	case n == 0 && p != s:
		want = ntstatus.FreeVMNotAtBase
	case n == 0:
		n = end - s
	case p+n > end:
		want = ntstatus.MemoryNotAllocated
	}
	if st != want {
		return fmt.Errorf("decommit(%d, %d) = %v, model %v", p, n, st, want)
	}
	if st == ntstatus.Success {
		for i := p; i < p+n; i++ {
			m.pages[i] = page{state: stReserved, resv: s}
		}
	}
	return nil
}

func (m *vaModel) release(p int, sizeSel byte) error {
	s, end, in := m.reservation(p)
	var size uintptr
	switch sizeSel % 3 {
	case 1:
		size = uintptr(end-s) * pageSize
	case 2:
		size = pageSize
	}
	_, _, st := m.e.space.Free(m.addr(p), size, va.MemRelease)
	want := ntstatus.Success
	switch {
	case !in:
		want = ntstatus.MemoryNotAllocated
	case p != s:
		want = ntstatus.FreeVMNotAtBase
	case size != 0 && size != uintptr(end-s)*pageSize:
		want = ntstatus.InvalidParameter
	}
	if st != want {
		return fmt.Errorf("release(%d, %#x) = %v, model %v", p, size, st, want)
	}
	if st == ntstatus.Success {
		for i := s; i < end; i++ {
			m.pages[i] = page{}
		}
		delete(m.resv, s)
	}
	return nil
}

func (m *vaModel) protect(p, n int, protect va.PageProtection) error {
	old, st := m.e.space.Protect(m.addr(p), uintptr(n)*pageSize, protect)
	prot, ok := m.mm(protect)
	_, end, in := m.reservation(p)
	want := ntstatus.Success
	switch {
	case !ok:
		want = ntstatus.InvalidPageProtection
	case !in:
		want = ntstatus.MemoryNotAllocated
	case p+n > end:
		want = ntstatus.ConflictingAddresses
	default:
		for i := p; i < p+n; i++ {
			if m.pages[i].state != stCommitted {
				want = ntstatus.NotCommitted
			}
		}
	}
	if st != want {
		return fmt.Errorf("protect(%d, %d, %#x) = %v, model %v", p, n, protect, st, want)
	}
	if st != ntstatus.Success {
		return nil
	}
	if wantOld := m.pages[p].prot; old != pageProtectionOf(wantOld) {
		return fmt.Errorf("protect(%d): old %#x, model %v", p, old, wantOld)
	}
	for i := p; i < p+n; i++ {
		m.protectPage(i, prot)
	}
	return nil
}

// pageProtectionOf is the PAGE_* form of an MM protection, by the model.
func pageProtectionOf(p pte.Protection) va.PageProtection {
	for _, pp := range fzProtections {
		if q, ok := (&vaModel{}).mm(pp); ok && q == p {
			return pp
		}
	}
	return 0
}

func (m *vaModel) touch(p int, a pte.Access) error {
	addr := m.addr(p)
	pa, f := m.e.touch(addr, a)
	pg := &m.pages[p]
	want := va.Resolved
	switch {
	case pg.state != stCommitted || pg.prot == pte.ProtNoAccess:
		want = va.NotPresent
	case pg.prot.Guard():
		want = va.GuardPage
	case !pg.prot.Allows(a) && a == pte.AccessWrite:
		want = va.WriteToReadonly
	case !pg.prot.Allows(a):
		want = va.ExecuteNoExecute
	}
	got := va.Resolved
	if f != nil {
		got = f.Result
	}
	if got == va.NoMemory && want == va.Resolved && !pg.resident && m.limited() {
		return nil
	}
	if got != want {
		return fmt.Errorf("%v page %d (%+v): %v, model %v", a, p, *pg, got, want)
	}
	switch got {
	case va.GuardPage:
		pg.prot = pg.prot.WithoutGuard()
	case va.Resolved:
		if !pg.resident {
			pg.resident, pg.value = true, 0
		}
		pg.mapped = true
		if v := m.e.m.Mem.Load64(pa &^ physmem.PageMask); v != pg.value {
			return fmt.Errorf("page %d holds %#x, model %#x", p, v, pg.value)
		}
		if a == pte.AccessWrite {
			m.tag++
			pg.value = m.tag
			m.e.m.Mem.Store64(pa&^physmem.PageMask, m.tag)
		}
	}
	return nil
}

// check compares every PTE, the frame count and the MMU with the model.
func (m *vaModel) check(from, to int) error {
	resident, leaves := 0, 0
	for _, pg := range m.pages {
		if pg.resident {
			resident++
		}
		if pg.state != stFree {
			leaves++
		}
	}
	if n := m.e.m.Frames.Count(ptesim.Page); n != resident {
		return fmt.Errorf("%d page frames out, model has %d resident pages", n, resident)
	}
	seen := 0
	var bad error
	err := m.e.m.Check(func(addr uintptr, e pte.PTE) {
		seen++
		p := int((addr - layout.DynamicVAStart) / pageSize)
		if p < 0 || p >= fzPages {
			bad = fmt.Errorf("leaf %v at %#x outside the Space", e, addr)
			return
		}
		pg := m.pages[p]
		// A resident page's frame points back at its PTE.
		ok := !pg.resident || m.e.m.Frames.BackPointer(e.Frame()) == pte.PteAddress(addr)
		switch {
		case pg.state == stReserved:
			ok = ok && e == pte.Reserved
		case pg.state == stCommitted && !pg.resident:
			ok = ok && e == pte.DemandZero(pg.prot)
		case pg.state == stCommitted && pg.mapped:
			ok = ok && e.Kind() == pte.KindValid && e.Protection() == pg.prot && m.e.m.Frames.Use(e.Frame()) == ptesim.Page
		case pg.state == stCommitted:
			ok = ok && e.Kind() == pte.KindTransition && e.Protection() == pg.prot && m.e.m.Frames.Use(e.Frame()) == ptesim.Page
		default:
			ok = false
		}
		if !ok && bad == nil {
			bad = fmt.Errorf("page %d: PTE %v, model %+v", p, e, pg)
		}
	})
	switch {
	case err != nil:
		return err
	case bad != nil:
		return bad
	case seen != leaves:
		return fmt.Errorf("%d non-zero leaves, model has %d pages reserved or committed", seen, leaves)
	}
	for p := from; p < to && p < fzPages; p++ {
		pg := m.pages[p]
		_, _, ok := m.e.m.MMU.Translate(m.addr(p), pte.AccessRead)
		if want := pg.mapped && pg.prot.Allows(pte.AccessRead); ok != want {
			return fmt.Errorf("page %d (%+v): MMU read ok=%v", p, pg, ok)
		}
	}
	return nil
}

func runVA(t testing.TB, ops []byte) {
	e := newEnvSized(t, fzPages*pageSize)
	m := &vaModel{e: e, resv: map[int]int{}}
	for i := 0; i+4 <= len(ops) && i < 4*fzMaxOps; i += 4 {
		op, x, y, z := ops[i], ops[i+1], ops[i+2], ops[i+3]
		p := (int(x) | int(y&3)<<8) % fzPages
		n := int(y>>2)%24 + 1
		protect := fzProtections[z%8]
		var err error
		switch op % 9 {
		case 0:
			at := p
			if z&0x80 != 0 {
				at = -1
			}
			err = m.reserve(at, n, z&0x40 != 0, protect)
		case 1:
			err = m.commit(p, n, protect)
		case 2:
			if z&0x80 != 0 {
				n = 0
			}
			err = m.decommit(p, n)
		case 3:
			err = m.release(p, z)
		case 4:
			err = m.protect(p, n, protect)
		case 5, 6, 7:
			err = m.touch(p, pte.Access(z%3))
		case 8: // frame pressure, or none
			e.m.Frames.Limit = 0
			if z%2 == 0 {
				e.m.Frames.Limit = e.m.Frames.Count(ptesim.Table) + e.m.Frames.Count(ptesim.Page) + int(z%5)
			}
		}
		if err == nil {
			err = m.check(p, p+n)
		}
		if err != nil {
			t.Fatalf("op %d (%d): %v", i/4, op%9, err)
		}
	}
	// Releasing everything gives every frame back.
	e.m.Frames.Limit = 0
	for s := range m.resv {
		if _, _, st := e.space.Free(m.addr(s), 0, va.MemRelease); st != ntstatus.Success {
			t.Fatalf("final release of page %d: %v", s, st)
		}
	}
	if e.m.Frames.Count(ptesim.Page) != 0 || e.m.Frames.Count(ptesim.Table) != 1 {
		t.Fatalf("after releasing all: %d page frames, %d table frames", e.m.Frames.Count(ptesim.Page), e.m.Frames.Count(ptesim.Table))
	}
}

func FuzzVA(f *testing.F) {
	f.Add([]byte{0, 0, 8, 0x42, 5, 0, 0, 1, 6, 0, 0, 0, 2, 0, 4, 0x80, 3, 0, 0, 0})
	f.Add([]byte{0, 5, 0, 0xC2, 4, 5, 0, 0, 5, 5, 0, 0, 1, 5, 8, 5, 7, 5, 0, 2, 3, 0, 0, 1})
	f.Add([]byte{0, 0xF0, 0x0B, 0x45, 8, 0, 0, 0, 5, 0xF0, 3, 1, 5, 0xF8, 3, 1, 8, 0, 0, 1, 5, 0, 4, 1})
	f.Fuzz(func(t *testing.T, ops []byte) { runVA(t, ops) })
}

// TestVARandom runs the fuzz body over pseudo-random sequences concentrated
// on a few reservations, so a plain `go test` goes beyond the seeds.
func TestVARandom(t *testing.T) {
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 7))
		ops := make([]byte, 4*fzMaxOps)
		for i := range ops {
			ops[i] = byte(r.Uint32())
		}
		for i := 0; i < len(ops); i += 4 {
			ops[i+1] = byte(r.IntN(3)*fzGranule + r.IntN(20)) // around three granules
			ops[i+2] &^= 3
			if ops[i]%9 == 8 && r.IntN(4) != 0 {
				ops[i+3] |= 1 // mostly no frame limit
			}
		}
		runVA(t, ops)
	}
}
