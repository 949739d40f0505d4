package ptesim

import (
	"strings"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

const va = uintptr(0xFFFFF980_00042000)

// leafPA is the physical address of va's PTE, by a physical walk.
func leafPA(t *testing.T, m *Machine, va uintptr) uint64 {
	t.Helper()
	table := m.PML4
	for l := pte.PML4; l > pte.PT; l-- {
		e := pte.PTE(m.Mem.Load64(table.Addr() + uint64(l.Index(va))*8))
		if !e.Valid() {
			t.Fatalf("%v of %#x not present", l, va)
		}
		table = e.Frame()
	}
	return table.Addr() + uint64(pte.PT.Index(va))*8
}

func TestFaultCodes(t *testing.T) {
	m := New(64)
	defer m.Close()
	m.PT.Map(va, 0x30, pte.ProtReadOnly, pte.Cached)
	for _, c := range []struct {
		va   uintptr
		a    pte.Access
		ok   bool
		code pte.ErrorCode
	}{
		{va, pte.AccessRead, true, 0},
		{va, pte.AccessWrite, false, pte.ErrPresent | pte.ErrWrite},
		{va, pte.AccessExecute, false, pte.ErrPresent | pte.ErrFetch},
		{va + 0x1000, pte.AccessRead, false, 0},
		{va + 0x1000, pte.AccessWrite, false, pte.ErrWrite},
		{0x1000, pte.AccessExecute, false, pte.ErrFetch},
	} {
		pa, code, ok := m.MMU.Translate(c.va+0x18, c.a)
		if ok != c.ok || code != c.code || (ok && pa != 0x30018) {
			t.Errorf("%v at %#x: pa %#x code %v ok %v; want code %v ok %v", c.a, c.va, pa, code, ok, c.code, c.ok)
		}
	}
}

func TestAccessedDirty(t *testing.T) {
	m := New(64)
	defer m.Close()
	m.PT.Map(va, 0x30, pte.ProtReadWrite, pte.Cached)
	ea := leafPA(t, m, va)
	if e := pte.PTE(m.Mem.Load64(ea)); e&(pte.Accessed|pte.Dirty) != 0 {
		t.Fatalf("fresh PTE %v", e)
	}
	m.MMU.Translate(va, pte.AccessRead)
	if e := pte.PTE(m.Mem.Load64(ea)); e&pte.Accessed == 0 || e&pte.Dirty != 0 {
		t.Fatalf("after read %v", e)
	}
	// The read cached a clean translation; a write must walk again for Dirty.
	m.MMU.Translate(va, pte.AccessWrite)
	if e := pte.PTE(m.Mem.Load64(ea)); e&pte.Dirty == 0 {
		t.Fatalf("after write %v", e)
	}
	pde := pte.PTE(m.Mem.Load64(pte.PTE(m.Mem.Load64(m.PML4.Addr() + uint64(pte.PML4.Index(va))*8)).Frame().Addr()))
	if pde&pte.Accessed == 0 {
		t.Fatalf("upper level not marked accessed: %v", pde)
	}
}

func TestReservedBits(t *testing.T) {
	m := New(64)
	defer m.Close()
	m.PT.Map(va, 0x30, pte.ProtReadWrite, pte.Cached)
	ea := leafPA(t, m, va)
	good := m.Mem.Load64(ea)
	m.Mem.Store64(ea, good|1<<MaxPhysAddrBits)
	if _, code, ok := m.MMU.Translate(va, pte.AccessRead); ok || code != pte.ErrPresent|pte.ErrReserved {
		t.Fatalf("frame bit above MAXPHYADDR: %v %v", code, ok)
	}
	m.Mem.Store64(ea, good)
	// PS in a PML4 entry is reserved.
	pxe := m.PML4.Addr() + uint64(pte.PML4.Index(va))*8
	m.Mem.Store64(pxe, m.Mem.Load64(pxe)|uint64(pte.PS))
	if _, code, ok := m.MMU.Translate(va, pte.AccessWrite); ok || code != pte.ErrPresent|pte.ErrWrite|pte.ErrReserved {
		t.Fatalf("PS in PML4E: %v %v", code, ok)
	}
}

func TestLargePageAlignment(t *testing.T) {
	m := New(64)
	defer m.Close()
	m.PT.Map(va, 0x30, pte.ProtReadWrite, pte.Cached)
	// The PTE of the PDE's self-map page is the PDPT entry; its frame is the PD.
	pd := pte.PTE(m.Mem.Load64(leafPA(t, m, pte.PdeAddress(va)))).Frame()
	pdeAt := pd.Addr() + uint64(pte.PD.Index(va+1<<21))*8
	m.Mem.Store64(pdeAt, uint64((pte.Present | pte.PS | pte.LargePAT).WithFrame(0x400)))
	if pa, code, ok := m.MMU.Translate(va+1<<21, pte.AccessRead); !ok || pa != 0x400000+0x42000 {
		t.Fatalf("aligned 2 MiB page (PAT bit set): %#x %v %v", pa, code, ok)
	}
	m.Mem.Store64(pdeAt, uint64((pte.Present | pte.PS).WithFrame(0x402)))
	if _, code, ok := m.MMU.Translate(va+1<<21, pte.AccessRead); ok || code != pte.ErrPresent|pte.ErrReserved {
		t.Fatalf("misaligned 2 MiB page: %v %v", code, ok)
	}
}

func TestTLB(t *testing.T) {
	m := New(64)
	defer m.Close()
	m.PT.Map(va, 0x30, pte.ProtReadOnly, pte.Cached)
	m.MMU.Translate(va, pte.AccessRead)
	ea := leafPA(t, m, va)
	// Change the PTE in memory without telling the TLB.
	m.Mem.Store64(ea, uint64(pte.NewValid(0x31, pte.ProtReadWrite, pte.Cached)))
	if pa, _, _ := m.MMU.Translate(va, pte.AccessRead); pa != 0x30000 {
		t.Fatalf("TLB hit expected to give the old frame, got %#x", pa)
	}
	// The cached entry denies writes: a spurious fault, which drops it.
	if _, code, ok := m.MMU.Translate(va, pte.AccessWrite); ok || code != pte.ErrPresent|pte.ErrWrite {
		t.Fatalf("write through stale read-only entry: %v %v", code, ok)
	}
	if pa, _, ok := m.MMU.Translate(va, pte.AccessWrite); !ok || pa != 0x31000 {
		t.Fatalf("retry after the fault: %#x %v", pa, ok)
	}
	// FlushAll spares global translations only.
	m.Mem.Store64(ea, uint64(pte.NewValid(0x32, pte.ProtReadWrite, pte.Cached)|pte.Global))
	m.MMU.FlushPage(va)
	m.MMU.Translate(va, pte.AccessRead)
	m.Mem.Store64(ea, 0)
	m.MMU.FlushAll()
	if pa, _, ok := m.MMU.Translate(va, pte.AccessRead); !ok || pa != 0x32000 {
		t.Fatalf("global entry after CR3 reload: %#x %v", pa, ok)
	}
	m.MMU.FlushPage(va)
	if _, _, ok := m.MMU.Translate(va, pte.AccessRead); ok {
		t.Fatal("INVLPG left the global entry")
	}
}

func TestFrames(t *testing.T) {
	mem := physmem.NewSim(8)
	defer mem.Close()
	f := NewFrames(mem)
	if f.Count(Free) != 7 || f.Use(0) != Fixed {
		t.Fatalf("free %d, frame 0 %v", f.Count(Free), f.Use(0))
	}
	mem.Store64(physmem.PFN(1).Addr(), 0xdead)
	var got []physmem.PFN
	for {
		p, ok := f.AllocZeroedPage(uintptr(0x1000+len(got)*8), 0)
		if !ok {
			break
		}
		if mem.Load64(p.Addr()) != 0 {
			t.Fatalf("frame %#x not zeroed", p)
		}
		got = append(got, p)
	}
	if len(got) != 7 || f.Count(Page) != 7 {
		t.Fatalf("handed out %d", len(got))
	}
	if f.BackPointer(got[3]) != 0x1018 {
		t.Fatalf("back-pointer %#x", f.BackPointer(got[3]))
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "mapped by the one at 0x1000") {
				t.Fatalf("freeing from the wrong PTE: %v", r)
			}
		}()
		f.FreePage(got[0], 0x1008)
	}()
	f.FreePage(got[0], 0x1000)
	f.Limit = 6
	if _, ok := f.AllocTable(); ok {
		t.Fatal("Limit ignored")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "as a table frame") {
			t.Fatalf("freeing a page as a table: %v", r)
		}
	}()
	f.FreeTable(got[1])
}

// TestCheckCatches makes sure the invariant checker can fail.
func TestCheckCatches(t *testing.T) {
	for name, corrupt := range map[string]func(m *Machine){
		"wrong count": func(m *Machine) {
			// The PTE of the PDE's self-map page is the PDPT entry holding the PD.
			ea := leafPA(t, m, pte.PdeAddress(va))
			m.Mem.Store64(ea, uint64(pte.PTE(m.Mem.Load64(ea)).WithUsedEntries(2)))
		},
		"leaked table": func(m *Machine) { m.Frames.AllocTable() },
		"shared table": func(m *Machine) {
			pd := pte.PTE(m.Mem.Load64(leafPA(t, m, pte.PdeAddress(va)))).Frame().Addr()
			m.Mem.Store64(pd+8*uint64(pte.PD.Index(va)+1), m.Mem.Load64(pd+8*uint64(pte.PD.Index(va))))
		},
		"software non-leaf": func(m *Machine) {
			m.Mem.Store64(m.PML4.Addr()+8, uint64(pte.DemandZero(pte.ProtReadOnly)))
		},
		"self-map": func(m *Machine) {
			m.Mem.Store64(m.PML4.Addr()+pte.SelfMapSlot*8, uint64(pte.SelfMapEntry(m.PML4)&^pte.NX))
		},
	} {
		m := New(64)
		m.PT.Map(va, 0x30, pte.ProtReadWrite, pte.Cached)
		if err := m.Check(nil); err != nil {
			t.Fatalf("%s: clean machine: %v", name, err)
		}
		corrupt(m)
		if err := m.Check(nil); err == nil {
			t.Errorf("%s: not detected", name)
		}
		m.Close()
	}
}
