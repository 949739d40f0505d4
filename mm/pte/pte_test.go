package pte_test

import (
	"strings"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

func TestHardwareBits(t *testing.T) {
	for _, c := range []struct {
		bit  pte.PTE
		want uint64
	}{
		{pte.Present, 1}, {pte.Write, 2}, {pte.User, 4}, {pte.PWT, 8}, {pte.PCD, 0x10},
		{pte.Accessed, 0x20}, {pte.Dirty, 0x40}, {pte.PAT, 0x80}, {pte.PS, 0x80},
		{pte.Global, 0x100}, {pte.LargePAT, 0x1000}, {pte.NX, 1 << 63},
		{pte.FrameMask, 0x000FFFFFFFFFF000},
	} {
		if uint64(c.bit) != c.want {
			t.Errorf("%#x, want %#x", uint64(c.bit), c.want)
		}
	}
	e := pte.PTE(0).WithFrame(0xABCDE).WithUsedEntries(pte.EntriesPerTable)
	if e.Frame() != 0xABCDE || e.UsedEntries() != 512 || e.Valid() {
		t.Fatalf("fields of %v", e)
	}
	if e.WithFrame(7).UsedEntries() != 512 || e.WithUsedEntries(3).Frame() != 0xABCDE {
		t.Fatal("fields overlap")
	}
}

// patIndex is the PAT entry a 4 KiB leaf selects.
func patIndex(e pte.PTE) int {
	i := 0
	if e&pte.PWT != 0 {
		i |= 1
	}
	if e&pte.PCD != 0 {
		i |= 2
	}
	if e&pte.PAT != 0 {
		i |= 4
	}
	return i
}

func TestPAT(t *testing.T) {
	if pte.PATValue != 0x0007010600070106 {
		t.Fatalf("PATValue = %#x", uint64(pte.PATValue))
	}
	// The memory type each cache type ends up with through the programmed PAT.
	const wb, wc, uc = 0x06, 0x01, 0x00
	for c, want := range map[pte.CacheType]uint64{pte.Cached: wb, pte.WriteCombined: wc, pte.NonCached: uc} {
		e := pte.NewValid(1, pte.ProtReadWrite, c)
		if got := uint64(pte.PATValue) >> (8 * patIndex(e)) & 0xFF; got != want {
			t.Errorf("%v selects PAT entry %d = %#x, want %#x", c, patIndex(e), got, want)
		}
		if e.Cache() != c {
			t.Errorf("%v reads back as %v", c, e.Cache())
		}
		if tr := pte.NewTransition(1, pte.ProtReadWrite, c); tr.Cache() != c {
			t.Errorf("transition keeps %v as %v", c, tr.Cache())
		}
	}
	if pte.IA32PAT != 0x277 {
		t.Fatal("IA32_PAT MSR number")
	}
}

var allProtections = []pte.Protection{
	pte.ProtReadOnly, pte.ProtExecuteRead, pte.ProtReadWrite, pte.ProtExecuteReadWrite, pte.ProtNoAccess,
	pte.ProtReadOnly | pte.ProtGuard, pte.ProtExecuteRead | pte.ProtGuard,
	pte.ProtReadWrite | pte.ProtGuard, pte.ProtExecuteReadWrite | pte.ProtGuard,
}

func TestProtection(t *testing.T) {
	type rwx struct{ r, w, x bool }
	want := map[pte.Protection]rwx{
		pte.ProtReadOnly:         {true, false, false},
		pte.ProtExecuteRead:      {true, false, true},
		pte.ProtReadWrite:        {true, true, false},
		pte.ProtExecuteReadWrite: {true, true, true},
		pte.ProtNoAccess:         {},
	}
	for _, p := range allProtections {
		if !p.Valid() {
			t.Errorf("%v not valid", p)
		}
		w := want[p.WithoutGuard()]
		got := rwx{p.Allows(pte.AccessRead), p.Allows(pte.AccessWrite), p.Allows(pte.AccessExecute)}
		if got != w {
			t.Errorf("%v allows %+v, want %+v", p, got, w)
		}
		if p.Mappable() != (p != pte.ProtNoAccess && !p.Guard()) {
			t.Errorf("%v mappable = %v", p, p.Mappable())
		}
		if p.Mappable() {
			if got := pte.NewValid(5, p, pte.Cached).Protection(); got != p {
				t.Errorf("valid PTE with %v reads back %v", p, got)
			}
		}
	}
	for _, p := range []pte.Protection{0, 2, 5, 7, 8, 0x10, 0x12, 0x1F, 0x20} {
		if p.Valid() || p.Allows(pte.AccessRead) {
			t.Errorf("%v accepted", p)
		}
	}
	if s := (pte.ProtReadWrite | pte.ProtGuard).String(); s != "READWRITE|GUARD" {
		t.Errorf("String = %q", s)
	}
}

func TestSoftwareEncodings(t *testing.T) {
	for _, p := range allProtections {
		dz := pte.DemandZero(p)
		if dz.Valid() || dz.Kind() != pte.KindDemandZero || dz.Protection() != p {
			t.Errorf("demand-zero %v: %v kind %v", p, dz, dz.Kind())
		}
		for _, slot := range []uint32{1, 0x1234, pte.MaxPageFileSlot} {
			pf := pte.NewPageFile(slot, p)
			if pf.Valid() || pf.Kind() != pte.KindPageFile || pf.Slot() != slot || pf.Protection() != p {
				t.Errorf("page-file %v slot %#x: %v kind %v slot %#x", p, slot, pf, pf.Kind(), pf.Slot())
			}
		}
		if dz.Slot() != 0 {
			t.Errorf("demand-zero %v has slot %#x", p, dz.Slot())
		}
		tr := pte.NewTransition(0x12345, p, pte.NonCached)
		if tr.Valid() || tr.Kind() != pte.KindTransition || tr.Frame() != 0x12345 || tr.Protection() != p {
			t.Errorf("transition %v: %v", p, tr)
		}
	}
	if pte.Reserved.Kind() != pte.KindReserved || pte.Reserved.Valid() || pte.Reserved.Protection() != 0 {
		t.Errorf("reserved: %v", pte.Reserved)
	}
	if pte.PTE(0).Kind() != pte.KindFree {
		t.Error("zero is not free")
	}
	v := pte.NewValid(9, pte.ProtReadOnly, pte.Cached)
	if v.Kind() != pte.KindValid || v.Frame() != 9 || v&pte.NX == 0 || v&pte.Write != 0 {
		t.Errorf("valid: %v", v)
	}
	for _, e := range []pte.PTE{
		pte.Prototype | pte.DemandZero(pte.ProtReadOnly),
		pte.Prototype | pte.Transition,
		pte.Reserved | 1<<32, // a slot on a reserved page
		pte.PTE(1) << 32,     // a slot without a protection
		pte.PTE(2) << 5,      // MM_EXECUTE: unsupported protection
	} {
		if e.Kind() != pte.KindUnknown || e.Protection() != 0 {
			t.Errorf("%#x classified %v", uint64(e), e.Kind())
		}
	}
	for e, want := range map[pte.PTE]string{
		pte.DemandZero(pte.ProtReadWrite | pte.ProtGuard):     "demand-zero READWRITE|GUARD",
		pte.NewTransition(0x42, pte.ProtNoAccess, pte.Cached): "transition pfn 42 NOACCESS cached",
		pte.Reserved:                             "reserved",
		pte.NewPageFile(0x10, pte.ProtReadWrite): "page-file slot 10 (offset 0x10000) READWRITE",
		v:                                        "pfn 9 P|NX",
	} {
		if !strings.HasSuffix(e.String(), want) {
			t.Errorf("%q does not end in %q", e.String(), want)
		}
	}
}

func TestErrorCode(t *testing.T) {
	for _, c := range []struct {
		a       pte.Access
		present bool
		code    pte.ErrorCode
		s       string
	}{
		{pte.AccessRead, false, 0, "0"},
		{pte.AccessWrite, false, 2, "W"},
		{pte.AccessExecute, false, 0x10, "I/D"},
		{pte.AccessWrite, true, 3, "P|W"},
		{pte.AccessExecute, true, 0x11, "P|I/D"},
	} {
		code := pte.ErrorCodeFor(c.a, c.present)
		if code != c.code || code.Access() != c.a || code.Present() != c.present || code.String() != c.s {
			t.Errorf("%v present=%v: %#x %q", c.a, c.present, uint32(code), code)
		}
	}
	if (pte.ErrReserved | pte.ErrUser).String() != "U|RSVD" {
		t.Error("RSVD/U names")
	}
}

func TestFlushBatch(t *testing.T) {
	for _, n := range []int{0, 1, pte.FlushAllThreshold, pte.FlushAllThreshold + 1, 100} {
		var b pte.FlushBatch
		var f countFlusher
		for i := range n {
			b.Add(uintptr(i) << physmem.PageShift)
		}
		if b.Pending() != n {
			t.Fatalf("pending %d, want %d", b.Pending(), n)
		}
		b.Flush(&f)
		if n > pte.FlushAllThreshold {
			if f.all != 1 || len(f.pages) != 0 {
				t.Errorf("%d pages: %d INVLPG, %d reloads; want one reload", n, len(f.pages), f.all)
			}
		} else if f.all != 0 || len(f.pages) != n {
			t.Errorf("%d pages: %d INVLPG, %d reloads", n, len(f.pages), f.all)
		}
		if b.Pending() != 0 {
			t.Error("batch not emptied")
		}
	}
}

type countFlusher struct {
	pages []uintptr
	all   int
}

func (f *countFlusher) FlushPage(va uintptr) { f.pages = append(f.pages, va) }
func (f *countFlusher) FlushAll()            { f.all++ }

func TestCPUFlusherIsInertOnHost(t *testing.T) {
	// On the host INVLPG and MOV CR3 would fault; CPUFlusher must not issue them.
	var f pte.CPUFlusher
	f.FlushPage(0xFFFFF98000000000)
	f.FlushAll()
}
