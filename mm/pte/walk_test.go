package pte_test

import (
	"slices"
	"strings"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

const dynVA = uintptr(0xFFFFF980_00000000) // NT's dynamic kernel VA

// newRecorded is a machine whose walker logs its flushes.
func newRecorded(t *testing.T) (*ptesim.Machine, *pte.PageTables, *ptesim.Recorder) {
	t.Helper()
	m := ptesim.New(256)
	t.Cleanup(m.Close)
	rec := &ptesim.Recorder{Next: m.MMU}
	return m, m.NewPageTables(rec), rec
}

func check(t *testing.T, m *ptesim.Machine) {
	t.Helper()
	if err := m.Check(nil); err != nil {
		t.Fatal(err)
	}
}

// access reports whether the MMU lets a at va through, and the fault code.
func access(m *ptesim.Machine, va uintptr, a pte.Access) (bool, pte.ErrorCode) {
	_, code, ok := m.MMU.Translate(va, a)
	return ok, code
}

func TestMapUnmapFreesTables(t *testing.T) {
	m, pt, rec := newRecorded(t)
	va := dynVA + 0x1000
	if st := pt.Map(va, 0x777, pte.ProtReadWrite, pte.Cached); st != ntstatus.Success {
		t.Fatal(st)
	}
	if m.Frames.Count(ptesim.Table) != 4 {
		t.Fatalf("%d table frames, want PML4+PDPT+PD+PT", m.Frames.Count(ptesim.Table))
	}
	check(t, m)
	if pa, ok := pt.Translate(va + 0x123); !ok || pa != 0x777123 {
		t.Fatalf("Translate = %#x %v", pa, ok)
	}
	if pa, code, ok := m.MMU.Translate(va+0x123, pte.AccessWrite); !ok || pa != 0x777123 {
		t.Fatalf("MMU write: %#x %v", pa, code)
	}
	if ok, code := access(m, va, pte.AccessExecute); ok || code != pte.ErrPresent|pte.ErrFetch {
		t.Fatalf("executing a READWRITE page: %v %v", ok, code)
	}
	if len(rec.Pages) != 0 {
		t.Fatalf("mapping flushed %#x", rec.Pages)
	}

	old, st := pt.Unmap(va, nil)
	if st != ntstatus.Success || old.Frame() != 0x777 || !old.Valid() || old&pte.Dirty == 0 {
		t.Fatalf("Unmap = %v, %v (the MMU's write should have set Dirty)", old, st)
	}
	if m.Frames.Count(ptesim.Table) != 1 {
		t.Fatalf("%d table frames left", m.Frames.Count(ptesim.Table))
	}
	check(t, m)
	want := []uintptr{va, pte.TableAddress(pte.PT, va), pte.TableAddress(pte.PD, va), pte.TableAddress(pte.PDPT, va)}
	if !slices.Equal(rec.Pages, want) {
		t.Fatalf("flushes %#x, want the page then each freed table: %#x", rec.Pages, want)
	}
	if ok, code := access(m, va, pte.AccessRead); ok || code != 0 {
		t.Fatalf("read after unmap: %v %v", ok, code)
	}
	if old, st := pt.Unmap(va, nil); old != 0 || st != ntstatus.Success {
		t.Fatalf("second Unmap = %v %v", old, st)
	}
}

func TestTablesSharedAndKept(t *testing.T) {
	m, pt, _ := newRecorded(t)
	// Two pages in one PT, one in the next PD entry.
	vas := []uintptr{dynVA, dynVA + 0x5000, dynVA + 1<<21}
	for i, va := range vas {
		if st := pt.Map(va, physmem.PFN(0x100+i), pte.ProtExecuteRead, pte.Cached); st != 0 {
			t.Fatal(st)
		}
	}
	if n := m.Frames.Count(ptesim.Table); n != 5 {
		t.Fatalf("%d table frames, want PML4, PDPT, PD, 2 PTs", n)
	}
	if pde := pt.Lookup(dynVA).Entries[pte.PD]; pde.UsedEntries() != 2 {
		t.Fatalf("PT holds 2 entries, PDE counts %d", pde.UsedEntries())
	}
	// A software PTE keeps its table: clearing the valid page beside it
	// must not free the PT.
	if _, st := pt.Swap(dynVA+0x5000, pte.DemandZero(pte.ProtReadWrite), nil); st != 0 {
		t.Fatal(st)
	}
	pt.Unmap(dynVA, nil)
	if n := m.Frames.Count(ptesim.Table); n != 5 {
		t.Fatalf("%d table frames after unmapping beside a demand-zero PTE", n)
	}
	check(t, m)
	pt.Unmap(dynVA+0x5000, nil)
	pt.Unmap(dynVA+1<<21, nil)
	if n := m.Frames.Count(ptesim.Table); n != 1 {
		t.Fatalf("%d table frames after clearing everything", n)
	}
	check(t, m)
}

func TestMapRefusals(t *testing.T) {
	m, pt, _ := newRecorded(t)
	for _, c := range []struct {
		name string
		va   uintptr
		prot pte.Protection
		c    pte.CacheType
		want ntstatus.Status
	}{
		{"NOACCESS", dynVA, pte.ProtNoAccess, pte.Cached, ntstatus.InvalidPageProtection},
		{"GUARD", dynVA, pte.ProtReadWrite | pte.ProtGuard, pte.Cached, ntstatus.InvalidPageProtection},
		{"no protection", dynVA, 0, pte.Cached, ntstatus.InvalidPageProtection},
		{"bad cache type", dynVA, pte.ProtReadOnly, 7, ntstatus.InvalidParameter},
		{"PTE space", pte.PteBase + 0x1000, pte.ProtReadWrite, pte.Cached, ntstatus.InvalidAddress},
		{"non-canonical", 0x0000_8000_0000_0000, pte.ProtReadWrite, pte.Cached, ntstatus.InvalidAddress},
	} {
		if st := pt.Map(c.va, 1, c.prot, c.c); st != c.want {
			t.Errorf("%s: %v, want %v", c.name, st, c.want)
		}
	}
	if m.Frames.Count(ptesim.Table) != 1 {
		t.Fatal("a refused Map allocated tables")
	}
	if st := pt.Map(dynVA, 1, pte.ProtReadOnly, pte.Cached); st != 0 {
		t.Fatal(st)
	}
	if st := pt.Map(dynVA, 2, pte.ProtReadOnly, pte.Cached); st != ntstatus.ConflictingAddresses {
		t.Fatalf("mapping over a valid page: %v", st)
	}
	if _, st := pt.Unmap(pte.PxeBase, nil); st != ntstatus.InvalidAddress {
		t.Fatalf("unmapping the PML4's self-map page: %v", st)
	}
	check(t, m)
}

func TestMapOutOfTableFramesLeavesNothing(t *testing.T) {
	m, pt, _ := newRecorded(t)
	for limit := 1; limit <= 3; limit++ {
		m.Frames.Limit = limit // the PML4 holds one: room for limit-1 of 3 tables
		if st := pt.Map(dynVA, 9, pte.ProtReadWrite, pte.Cached); st != ntstatus.InsufficientResources {
			t.Fatalf("limit %d: %v", limit, st)
		}
		if n := m.Frames.Count(ptesim.Table); n != 1 {
			t.Fatalf("limit %d: a failed Map left %d table frames", limit, n)
		}
		check(t, m)
	}
	m.Frames.Limit = 4
	if st := pt.Map(dynVA, 9, pte.ProtReadWrite, pte.Cached); st != 0 {
		t.Fatal(st)
	}
	// The PT exists now, so a neighbour needs no frame at all.
	if st := pt.Map(dynVA+0x1000, 9, pte.ProtReadWrite, pte.Cached); st != 0 {
		t.Fatal(st)
	}
	check(t, m)
}

func TestProtect(t *testing.T) {
	m, pt, rec := newRecorded(t)
	va := dynVA + 0x3000
	pt.Map(va, 0x55, pte.ProtReadWrite, pte.WriteCombined)
	// Warm the TLB with a write: the change must still take effect.
	if ok, _ := access(m, va, pte.AccessWrite); !ok {
		t.Fatal("write to READWRITE page")
	}
	if st := pt.Protect(va, pte.ProtReadOnly, nil); st != 0 {
		t.Fatal(st)
	}
	if !slices.Equal(rec.Pages, []uintptr{va}) {
		t.Fatalf("flushes %#x", rec.Pages)
	}
	if ok, code := access(m, va, pte.AccessWrite); ok || code != pte.ErrPresent|pte.ErrWrite {
		t.Fatalf("write after Protect(READONLY): %v %v", ok, code)
	}
	e, _ := pt.Leaf(va)
	if e.Frame() != 0x55 || e.Cache() != pte.WriteCombined || e&pte.Dirty == 0 || e.Protection() != pte.ProtReadOnly {
		t.Fatalf("protect lost fields: %v", e)
	}
	if st := pt.Protect(va, pte.ProtExecuteReadWrite, nil); st != 0 {
		t.Fatal(st)
	}
	if ok, _ := access(m, va, pte.AccessExecute); !ok {
		t.Fatal("execute after Protect(EXECUTE_READWRITE)")
	}

	// NOACCESS and GUARD take the page out: transition, frame kept.
	for _, p := range []pte.Protection{pte.ProtNoAccess, pte.ProtReadOnly | pte.ProtGuard} {
		pt.Map(va, 0x55, pte.ProtReadWrite, pte.Cached)
		pt.Protect(va, p, nil)
		e, _ := pt.Leaf(va)
		if e.Kind() != pte.KindTransition || e.Frame() != 0x55 || e.Protection() != p {
			t.Fatalf("Protect(%v) of a valid page: %v", p, e)
		}
		if ok, code := access(m, va, pte.AccessRead); ok || code != 0 {
			t.Fatalf("read of a transition page: %v %v", ok, code)
		}
		pt.Protect(va, pte.ProtReadOnly, nil)
		if e, _ := pt.Leaf(va); e.Kind() != pte.KindTransition || e.Protection() != pte.ProtReadOnly || e.Frame() != 0x55 {
			t.Fatalf("re-protecting a transition page: %v", e)
		}
		pt.Unmap(va, nil)
	}

	pt.Swap(va, pte.DemandZero(pte.ProtReadOnly), nil)
	pt.Protect(va, pte.ProtReadWrite|pte.ProtGuard, nil)
	if e, _ := pt.Leaf(va); e != pte.DemandZero(pte.ProtReadWrite|pte.ProtGuard) {
		t.Fatalf("protecting demand-zero: %v", e)
	}
	if st := pt.Protect(va, 0x2, nil); st != ntstatus.InvalidPageProtection {
		t.Fatalf("MM_EXECUTE accepted: %v", st)
	}
	pt.Swap(va, pte.Reserved, nil)
	for _, free := range []uintptr{va, va + 0x1000, dynVA + 1<<39} {
		if st := pt.Protect(free, pte.ProtReadOnly, nil); st != ntstatus.NotCommitted && st != ntstatus.MemoryNotAllocated {
			t.Fatalf("protecting uncommitted %#x: %v", free, st)
		}
	}
	check(t, m)
}

func TestProtectUnknownPTEBugchecks(t *testing.T) {
	m, pt, _ := newRecorded(t)
	bad := pte.Prototype | pte.DemandZero(pte.ProtReadOnly)
	pt.Swap(dynVA, bad, nil)
	rec := bugcheck.Catch(func() { pt.Protect(dynVA, pte.ProtReadWrite, nil) })
	if rec == nil || rec.Code != bugcheck.MemoryManagement || rec.Params != [4]uintptr{pte.CorruptPte, pte.PteAddress(dynVA), uintptr(bad), 0} {
		t.Fatalf("bugcheck %v", rec)
	}
	check(t, m)
}

func TestCorruptCountBugchecks(t *testing.T) {
	m, pt, _ := newRecorded(t)
	pt.Map(dynVA, 1, pte.ProtReadOnly, pte.Cached)
	// Zero the PDE's used count behind the walker's back.
	pdeVA := pte.PdeAddress(dynVA)
	pa, _, _ := m.MMU.Translate(pdeVA, pte.AccessRead)
	pde := pte.PTE(m.Mem.Load64(pa)).WithUsedEntries(0)
	m.Mem.Store64(pa, uint64(pde))
	rec := bugcheck.Catch(func() { pt.Unmap(dynVA, nil) })
	if rec == nil || rec.Code != bugcheck.MemoryManagement || rec.Params[0] != pte.CorruptPte || rec.Params[1] != pdeVA {
		t.Fatalf("bugcheck %v", rec)
	}
}

func TestReplaceMisuseBugchecks(t *testing.T) {
	_, pt, _ := newRecorded(t)
	pt.Swap(dynVA, pte.DemandZero(pte.ProtReadOnly), nil)
	for name, f := range map[string]func(){
		"zero leaf":   func() { pt.Replace(dynVA+0x1000, pte.DemandZero(pte.ProtReadOnly), nil) },
		"with zero":   func() { pt.Replace(dynVA, 0, nil) },
		"no table":    func() { pt.Replace(dynVA+1<<30, pte.Reserved, nil) },
		"bad address": func() { pt.Replace(pte.PteBase, pte.Reserved, nil) },
	} {
		if rec := bugcheck.Catch(f); rec == nil || rec.Code != bugcheck.MemoryManagement || rec.Params[0] != pte.CorruptPte {
			t.Errorf("%s: %v", name, rec)
		}
	}
}

func TestBatchedUnmapDefersFlush(t *testing.T) {
	m, pt, rec := newRecorded(t)
	const n = pte.FlushAllThreshold + 1
	for i := range n {
		pt.Map(dynVA+uintptr(i)<<physmem.PageShift, physmem.PFN(0x100+i), pte.ProtReadWrite, pte.Cached)
		access(m, dynVA+uintptr(i)<<physmem.PageShift, pte.AccessRead) // cache it
	}
	var b pte.FlushBatch
	for i := range n - 1 { // leave one so the PT survives
		pt.Unmap(dynVA+uintptr(i)<<physmem.PageShift, &b)
	}
	// Until the flush the TLB still translates the unmapped pages, as a CPU's would.
	if pa, _, ok := m.MMU.Translate(dynVA, pte.AccessRead); !ok || pa != 0x100000 {
		t.Fatalf("stale translation gone before the flush: %#x %v", pa, ok)
	}
	if len(rec.Pages) != 0 || b.Pending() != n-1 {
		t.Fatalf("flushed early: %#x, pending %d", rec.Pages, b.Pending())
	}
	pt.Flush(&b)
	if rec.Full != 0 || len(rec.Pages) != n-1 {
		t.Fatalf("%d pages: %d INVLPG %d reloads", n-1, len(rec.Pages), rec.Full)
	}
	if ok, _ := access(m, dynVA, pte.AccessRead); ok {
		t.Fatal("translation survived the flush")
	}
	pt.Map(dynVA, 0x100, pte.ProtReadWrite, pte.Cached)
	pt.Unmap(dynVA, &b)
	pt.Unmap(dynVA+(n-1)<<physmem.PageShift, &b) // empties the tables: flushed at once
	if len(rec.Pages) != n-1+3 {
		t.Fatalf("freed tables not flushed at once: %#x", rec.Pages[n-1:])
	}
	rec.Reset()
	for i := range n {
		pt.Map(dynVA+uintptr(i)<<physmem.PageShift, 1, pte.ProtReadWrite, pte.Cached)
		pt.Protect(dynVA+uintptr(i)<<physmem.PageShift, pte.ProtReadOnly, &b)
	}
	pt.Flush(&b)
	if rec.Full != 1 || len(rec.Pages) != 0 {
		t.Fatalf("%d protections: %d INVLPG %d reloads, want one reload", n, len(rec.Pages), rec.Full)
	}
	check(t, m)
}

func TestLookup(t *testing.T) {
	m, pt, _ := newRecorded(t)
	va := dynVA + 0x7000
	pt.Map(va, 0xABC, pte.ProtReadOnly, pte.NonCached)
	w := pt.Lookup(va + 0x10)
	if w.Depth != 4 || w.Entries[pte.PT].Frame() != 0xABC || w.Protection() != pte.ProtReadOnly {
		t.Fatalf("%+v", w)
	}
	s := w.String()
	for _, want := range []string{"PXE at fffff6fb7dbedf98", "PPE at fffff6fb7dbf3000", "PDE at fffff6fb7e600000",
		"PTE at fffff6fcc0000038", "pfn abc P|PWT|PCD|NX READONLY uncached", "used=1"} {
		if !strings.Contains(s, want) {
			t.Errorf("!pte output lacks %q:\n%s", want, s)
		}
	}
	// Not mapped: the walk stops at the missing level.
	w = pt.Lookup(dynVA + 1<<21)
	if l, e := w.Last(); w.Depth != 3 || l != pte.PD || e != 0 {
		t.Fatalf("unmapped walk stops at %v (depth %d)", l, w.Depth)
	}
	if _, ok := w.PhysAddr(); ok || w.Protection() != 0 {
		t.Fatal("unmapped address translates")
	}
	// PTE space decodes through the recursion: the PTE page is the PT frame,
	// reached via the non-executable self-map entry.
	w = pt.Lookup(pte.PteAddress(va))
	ptFrame := pt.Lookup(va).Entries[pte.PD].Frame()
	if pa, ok := w.PhysAddr(); !ok || physmem.FrameOf(pa) != ptFrame || w.Protection() != pte.ProtReadWrite {
		t.Fatalf("PTE page at %#x %v, want frame %#x READWRITE", pa, w.Protection(), ptFrame)
	}
	if w = pt.Lookup(0x0000_8000_0000_0000); w.Depth != 0 || !strings.Contains(w.String(), "not a canonical") {
		t.Fatalf("non-canonical walk %+v", w)
	}
	check(t, m)
}

// TestLargePage hand-builds a 2 MiB mapping, as the boot path may: the
// walker decodes it and refuses to split it.
func TestLargePage(t *testing.T) {
	m, pt, _ := newRecorded(t)
	pt.Map(dynVA, 1, pte.ProtReadOnly, pte.Cached) // builds PDPT and PD
	large := dynVA + 1<<21
	pdeVA := pte.PdeAddress(large)
	pa, _, _ := m.MMU.Translate(pdeVA, pte.AccessWrite)
	m.Mem.Store64(pa, uint64((pte.Present | pte.Write | pte.PS).WithFrame(0x200)))
	pde := pt.Lookup(dynVA).Entries[pte.PDPT]
	pde = pde.WithUsedEntries(pde.UsedEntries() + 1)
	ppa, _, _ := m.MMU.Translate(pte.PpeAddress(dynVA), pte.AccessWrite)
	m.Mem.Store64(ppa, uint64(pde))

	if got, ok := pt.Translate(large + 0x12345); !ok || got != 0x200000+0x12345 {
		t.Fatalf("Translate in large page: %#x %v", got, ok)
	}
	if got, _, ok := m.MMU.Translate(large+0x12345, pte.AccessWrite); !ok || got != 0x212345 {
		t.Fatalf("MMU in large page: %#x %v", got, ok)
	}
	if !strings.Contains(pt.Lookup(large).String(), "large page EXECUTE_READWRITE") {
		t.Fatal(pt.Lookup(large).String())
	}
	if st := pt.Map(large+0x3000, 1, pte.ProtReadOnly, pte.Cached); st != ntstatus.ConflictingAddresses {
		t.Fatalf("Map inside a large page: %v", st)
	}
	if _, st := pt.Unmap(large, nil); st != ntstatus.ConflictingAddresses {
		t.Fatalf("Unmap inside a large page: %v", st)
	}
	check(t, m)
}

// MapRun maps what Map would, page by page, across page-table boundaries:
// the same leaves, counts that Check accepts, and Unmap of every page frees
// every table again. A mapped page inside a run is refused.
func TestMapRun(t *testing.T) {
	m := ptesim.New(2048)
	t.Cleanup(m.Close)
	pt := m.NewPageTables(m.MMU)
	const pages = 3*pte.EntriesPerTable/2 + 7
	start := dynVA + 500*physmem.PageSize // 12 pages before a table boundary
	if st := pt.Map(start+700*physmem.PageSize, 3, pte.ProtReadOnly, pte.Cached); st != ntstatus.Success {
		t.Fatal(st)
	}
	if st := pt.MapRun(start, 100, pages, pte.ProtReadWrite, pte.Cached); st != ntstatus.ConflictingAddresses {
		t.Fatalf("MapRun over a mapped page: %v", st)
	}
	check(t, m)
	pt.Unmap(start+700*physmem.PageSize, nil)
	for va := start; va < start+pages*physmem.PageSize; va += physmem.PageSize {
		pt.Unmap(va, nil) // the pages the refused run mapped before the conflict's table
	}
	if st := pt.MapRun(start, 100, pages, pte.ProtReadWrite, pte.Cached); st != ntstatus.Success {
		t.Fatal(st)
	}
	check(t, m)
	want := pte.NewValid(0, pte.ProtReadWrite, pte.Cached)
	for i := uintptr(0); i < pages; i++ {
		e, st := pt.Leaf(start + i*physmem.PageSize)
		if st != ntstatus.Success || e != want|pte.NewValid(physmem.PFN(100+i), pte.ProtReadWrite, pte.Cached) {
			t.Fatalf("page %d: %v %v", i, e, st)
		}
	}
	for i := uintptr(0); i < pages; i++ {
		pt.Unmap(start+i*physmem.PageSize, nil)
	}
	check(t, m)
	if n := m.Frames.Count(ptesim.Table); n != 1 {
		t.Fatalf("%d tables left after unmapping the run, want the PML4 alone", n)
	}
}
