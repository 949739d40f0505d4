package va_test

import (
	"testing"

	"ntgo/mm/layout"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/mm/va"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

const sysBase = layout.SystemPtesStart

func newSysPtes(t *testing.T, pages int) (*ptesim.Machine, *va.SystemPtes) {
	m := ptesim.New(256)
	t.Cleanup(m.Close)
	s, st := va.NewSystemPtes(m.PT, sysBase, pages)
	if st != ntstatus.Success {
		t.Fatal(st)
	}
	return m, s
}

func TestSystemPtesRunsAndGuards(t *testing.T) {
	m, s := newSysPtes(t, 64)
	a, _ := s.Reserve(3)
	b, _ := s.Reserve(5)
	c, _ := s.Reserve(1)
	if a != sysBase || b != a+4*pageSize || c != b+6*pageSize {
		t.Fatalf("runs at %#x %#x %#x: each must be followed by a guard page", a, b, c)
	}
	if s.Free() != 64-4-6-2 || s.Total() != 64 {
		t.Fatalf("free %d of %d", s.Free(), s.Total())
	}
	// Map a's pages; its guard page stays unmapped, so an overrun faults.
	for p := range uintptr(3) {
		m.PT.Map(a+p*pageSize, 0x500, pte.ProtReadWrite, pte.Cached)
	}
	if _, code, ok := m.MMU.Translate(a+3*pageSize, pte.AccessWrite); ok || code.Present() {
		t.Fatalf("guard page after a run: %v %v", ok, code)
	}
	// Release unmaps and flushes; the space is reused first-fit and coalesces.
	s.Release(a, 3)
	if l, _ := m.PT.Leaf(a); l != 0 {
		t.Fatalf("released page still mapped: %v", l)
	}
	if _, _, ok := m.MMU.Translate(a, pte.AccessRead); ok {
		t.Fatal("released page still translates")
	}
	if d, _ := s.Reserve(2); d != a {
		t.Fatalf("first fit reused %#x, want %#x", d, a)
	}
	s.Release(a, 2)
	s.Release(c, 1)
	s.Release(b, 5)
	if s.Free() != 64 {
		t.Fatalf("free %d after releasing everything", s.Free())
	}
	if big, st := s.Reserve(63); st != 0 || big != sysBase {
		t.Fatalf("free runs not coalesced: %#x %v", big, st)
	}
	if err := m.Check(nil); err != nil {
		t.Fatal(err)
	}
}

func TestSystemPtesExhaustion(t *testing.T) {
	_, s := newSysPtes(t, 16)
	if _, st := s.Reserve(15); st != 0 {
		t.Fatal(st)
	}
	// MmMapIoSpace's path: failure is a status (NULL to the driver).
	if va, st := s.Reserve(1); st != ntstatus.InsufficientResources || va != 0 {
		t.Fatalf("exhausted Reserve: %#x %v", va, st)
	}
	if got := s.MapIoSpace(0xFEE00000, 0x1000, pte.NonCached); got != 0 {
		t.Fatalf("MapIoSpace on exhaustion: %#x", got)
	}
	// The bugcheck-on-failure path.
	rec := bugcheck.Catch(func() { s.ReserveOrBugcheck(4) })
	if rec == nil || rec.Code != bugcheck.NoMoreSystemPtes || rec.Params != [4]uintptr{0, 4, 0, 16} {
		t.Fatalf("NO_MORE_SYSTEM_PTES: %v", rec)
	}
}

func TestSystemPtesMisuse(t *testing.T) {
	_, s := newSysPtes(t, 16)
	a, _ := s.Reserve(2)
	for name, c := range map[string]struct {
		f      func()
		params [4]uintptr
	}{
		"reserve 0":       {func() { s.Reserve(0) }, [4]uintptr{va.PteMisuseZeroReserve, 0, 0, 0}},
		"reserve 0, must": {func() { s.ReserveOrBugcheck(0) }, [4]uintptr{va.PteMisuseZeroReserve, 1, 0, 0}},
		"release 0":       {func() { s.Release(a, 0) }, [4]uintptr{va.PteMisuseZeroRelease, a, 0, 0}},
		"outside":         {func() { s.Release(sysBase-pageSize, 1) }, [4]uintptr{va.PteMisuseOutOfRange, sysBase - pageSize, 1, 0}},
		"past the end":    {func() { s.Release(sysBase+16*pageSize, 1) }, [4]uintptr{va.PteMisuseOutOfRange, sysBase + 16*pageSize, 1, 0}},
		"not allocated":   {func() { s.Release(a+pageSize, 1) }, [4]uintptr{va.PteMisuseNotAllocated, a + pageSize, 1, 0}},
		"unaligned":       {func() { s.Release(a+8, 2) }, [4]uintptr{va.PteMisuseNotAllocated, a + 8, 2, 0}},
		"wrong count":     {func() { s.Release(a, 3) }, [4]uintptr{va.PteMisuseWrongCount, a, 3, 2}},
	} {
		rec := bugcheck.Catch(c.f)
		if rec == nil || rec.Code != bugcheck.SystemPteMisuse || rec.Params != c.params {
			t.Errorf("%s: %v, want 0xDA %#x", name, rec, c.params)
		}
	}
	s.Release(a, 2)
	if rec := bugcheck.Catch(func() { s.Release(a, 2) }); rec == nil || rec.Params[0] != va.PteMisuseNotAllocated {
		t.Fatalf("double release: %v", rec)
	}
}

func TestMapIoSpace(t *testing.T) {
	m, s := newSysPtes(t, 64)
	const pa = 0xFD000000 + 0x1F00 // a frame buffer, not page aligned
	got := s.MapIoSpace(pa, 0x200, pte.WriteCombined)
	if got == 0 || got&0xFFF != 0xF00 {
		t.Fatalf("MapIoSpace = %#x", got)
	}
	for _, off := range []uintptr{0, 0x1FF} {
		if p, code, ok := m.MMU.Translate(got+off, pte.AccessWrite); !ok || p != pa+uint64(off) {
			t.Fatalf("+%#x: %#x %v", off, p, code)
		}
	}
	if _, _, ok := m.MMU.Translate(got, pte.AccessExecute); ok {
		t.Fatal("device memory executable")
	}
	for _, v := range []uintptr{got, got + 0x1FF} {
		if l, _ := m.PT.Leaf(v); l.Cache() != pte.WriteCombined {
			t.Fatalf("%#x mapped %v", v, l.Cache())
		}
	}
	if s.Free() != 64-3 { // two pages (the range crosses a page) and a guard
		t.Fatalf("free %d", s.Free())
	}
	s.UnmapIoSpace(got, 0x200)
	if s.Free() != 64 {
		t.Fatalf("free %d after unmapping", s.Free())
	}
	if _, _, ok := m.MMU.Translate(got, pte.AccessRead); ok {
		t.Fatal("unmapped I/O space translates")
	}
	// Out of table frames: NULL, and nothing held.
	m.Frames.Limit = m.Frames.Count(ptesim.Table)
	if got := s.MapIoSpace(0xFEC00000, 0x1000, pte.NonCached); got != 0 || s.Free() != 64 {
		t.Fatalf("MapIoSpace without table frames: %#x, free %d", got, s.Free())
	}
	if err := m.Check(nil); err != nil {
		t.Fatal(err)
	}
}
