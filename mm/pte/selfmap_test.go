package pte_test

import (
	"math/rand/v2"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/nt/ke"
)

func TestSelfMapBases(t *testing.T) {
	for name, c := range map[string]struct{ got, want uintptr }{
		"PteBase":             {pte.PteBase, 0xFFFFF680_00000000},
		"PdeBase":             {pte.PdeBase, 0xFFFFF6FB_40000000},
		"PpeBase":             {pte.PpeBase, 0xFFFFF6FB_7DA00000},
		"PxeBase":             {pte.PxeBase, 0xFFFFF6FB_7DBED000},
		"PteSpaceEnd":         {pte.PteSpaceEnd, 0xFFFFF700_00000000},
		"self-map PXE":        {pte.PxeAddress(pte.PteBase), 0xFFFFF6FB_7DBEDF68},
		"SelfMapEntryAddress": {pte.SelfMapEntryAddress, 0xFFFFF6FB_7DBEDF68},
		"PTE of 0":            {pte.PteAddress(0), pte.PteBase},
		"PTE of last page":    {pte.PteAddress(^uintptr(0)), pte.PteBase + 1<<39 - 8},
		"PDE of kernel base":  {pte.PdeAddress(0xFFFFF800_00000000), 0xFFFFF6FB_7E000000},
		"PPE of user 1 GiB":   {pte.PpeAddress(1 << 30), pte.PpeBase + 8},
		"PXE of user top":     {pte.PxeAddress(0x00007FFF_FFFFFFFF), pte.PxeBase + 255*8},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", name, c.got, c.want)
		}
	}
}

// randomVA is a canonical address with a random page and offset.
func randomVA(r *rand.Rand) uintptr {
	return pte.Canonical(uintptr(r.Uint64()))
}

func TestSelfMapArithmetic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		va := randomVA(r)
		page := va &^ physmem.PageMask
		p := pte.PteAddress(va)
		if !pte.InPteSpace(p) || p%8 != 0 {
			t.Fatalf("PTE of %#x at %#x", va, p)
		}
		if got := pte.VaFromPte(p); got != page {
			t.Fatalf("VaFromPte(PteAddress(%#x)) = %#x", va, got)
		}
		// The recursion: each level's entry is the PTE of the level below's.
		if pte.PdeAddress(va) != pte.PteAddress(p) ||
			pte.PpeAddress(va) != pte.PteAddress(pte.PdeAddress(va)) ||
			pte.PxeAddress(va) != pte.PteAddress(pte.PpeAddress(va)) {
			t.Fatalf("recursion broken at %#x", va)
		}
		if pte.IsCanonical(va+physmem.PageSize) && pte.PteAddress(va+physmem.PageSize) != p+8 {
			t.Fatalf("PTEs of neighbouring pages not adjacent at %#x", va)
		}
		for l := pte.PT; l <= pte.PML4; l++ {
			if pte.TableAddress(l, va)+uintptr(l.Index(va))*8 != pte.EntryAddress(l, va) {
				t.Fatalf("%v of %#x: table and index disagree", l, va)
			}
		}
	}
}

// physicalEntry walks from CR3 in memory to the level-l entry of va and
// returns its physical address, or false if a level above is not present.
func physicalEntry(m *ptesim.Machine, l pte.Level, va uintptr) (uint64, bool) {
	table := m.PML4
	for cur := pte.PML4; ; cur-- {
		ea := table.Addr() + uint64(cur.Index(va))*8
		if cur == l {
			return ea, true
		}
		e := pte.PTE(m.Mem.Load64(ea))
		if !e.Valid() {
			return 0, false
		}
		table = e.Frame()
	}
}

// TestSelfMapAgreesWithMMU maps scattered pages, then asks the simulated
// MMU to translate each entry's self-map address: it must land on the very
// entry a physical walk finds.
// A processor's self-map entry carries its number where ke reads it
// (ke.CurrentProcessorNumber: one load at SelfMapEntryAddress, then
// ProcessorNumberShift and ProcessorNumberMask), and the number changes
// nothing the MMU does through the self-map.
func TestProcessorSelfMapEntry(t *testing.T) {
	if pte.UsedMask>>ke.ProcessorNumberShift != ke.ProcessorNumberMask {
		t.Fatalf("ke keeps the number in %#x, the used field is %#x", ke.ProcessorNumberMask<<ke.ProcessorNumberShift, uint64(pte.UsedMask))
	}
	if ke.MaximumProcessors-1 > ke.ProcessorNumberMask {
		t.Fatalf("the field holds numbers up to %d, there are %d processors", ke.ProcessorNumberMask, ke.MaximumProcessors)
	}
	m := ptesim.New(64)
	defer m.Close()
	for _, cpu := range []int{1, 37, ke.MaximumProcessors - 1} {
		m.Mem.Store64(m.PML4.Addr()+pte.SelfMapSlot*8, uint64(pte.ProcessorSelfMapEntry(m.PML4, cpu)))
		m.MMU.FlushAll()
		pa, code, ok := m.MMU.Translate(pte.SelfMapEntryAddress, pte.AccessRead)
		if !ok {
			t.Fatalf("processor %d: the self-map entry is unreachable (%v)", cpu, code)
		}
		e := m.Mem.Load64(pa)
		if got := int(e >> ke.ProcessorNumberShift & ke.ProcessorNumberMask); got != cpu {
			t.Errorf("processor %d's self-map entry %#x reads as processor %d", cpu, e, got)
		}
		if f := pte.PTE(e).Frame(); f != m.PML4 {
			t.Errorf("processor %d's self-map entry names frame %#x, the PML4 is %#x", cpu, f, m.PML4)
		}
		if pa, _, ok := m.MMU.Translate(pte.PxeBase, pte.AccessRead); !ok || pa != m.PML4.Addr() {
			t.Errorf("processor %d: PxeBase translates to %#x, PML4 is at %#x", cpu, pa, m.PML4.Addr())
		}
	}
}

func TestSelfMapAgreesWithMMU(t *testing.T) {
	m := ptesim.New(512)
	defer m.Close()
	r := rand.New(rand.NewPCG(3, 4))
	var vas []uintptr
	for len(vas) < 40 {
		va := randomVA(r) &^ physmem.PageMask
		if !pte.Mappable(va) {
			continue
		}
		if st := m.PT.Map(va, physmem.PFN(len(vas)+1000), pte.ProtReadWrite, pte.Cached); st != 0 {
			t.Fatalf("map %#x: %v", va, st)
		}
		vas = append(vas, va)
	}
	for _, va := range vas {
		for l := pte.PT; l <= pte.PML4; l++ {
			want, ok := physicalEntry(m, l, va)
			if !ok {
				t.Fatalf("%v of mapped %#x unreachable", l, va)
			}
			got, code, ok := m.MMU.Translate(pte.EntryAddress(l, va), pte.AccessRead)
			if !ok || got != want {
				t.Fatalf("%v of %#x: self-map reaches %#x (fault %v), physical walk %#x", l, va, got, code, want)
			}
		}
		if pa, _, _ := m.MMU.Translate(va, pte.AccessRead); physmem.FrameOf(pa) != pte.PTE(m.Mem.Load64(mustEntry(t, m, va))).Frame() {
			t.Fatalf("%#x translates to %#x", va, pa)
		}
	}
	// The self-map entry maps the PML4 itself at PxeBase.
	if pa, _, ok := m.MMU.Translate(pte.PxeBase, pte.AccessRead); !ok || pa != m.PML4.Addr() {
		t.Fatalf("PxeBase translates to %#x, PML4 is at %#x", pa, m.PML4.Addr())
	}
	// Self-map pages are data, never code.
	if _, code, ok := m.MMU.Translate(pte.PteAddress(vas[0]), pte.AccessExecute); ok || code != pte.ErrPresent|pte.ErrFetch {
		t.Fatalf("executing PTE space: ok=%v code %v", ok, code)
	}
}

func mustEntry(t *testing.T, m *ptesim.Machine, va uintptr) uint64 {
	ea, ok := physicalEntry(m, pte.PT, va)
	if !ok {
		t.Fatalf("no PT for %#x", va)
	}
	return ea
}
