package va_test

import (
	"testing"

	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/mm/va"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

const (
	pageSize  = uintptr(physmem.PageSize)
	spaceSize = 16 << 20
)

type env struct {
	t     testing.TB
	m     *ptesim.Machine
	space *va.Space
}

func newEnv(t testing.TB) *env {
	return newEnvSized(t, spaceSize)
}

func newEnvSized(t testing.TB, size uintptr) *env {
	m := ptesim.New(1024)
	t.Cleanup(m.Close)
	space, st := va.NewSpace(m.PT, m.Frames, layout.DynamicVAStart, size)
	if st != ntstatus.Success {
		t.Fatal(st)
	}
	return &env{t: t, m: m, space: space}
}

// touch performs access a at addr as a CPU running the kernel's #PF handler
// would: on a fault it asks ResolveFault and retries while that resolves it.
// It returns the physical address, or the unresolved fault.
func (e *env) touch(addr uintptr, a pte.Access) (uint64, *va.Fault) {
	for range 3 {
		pa, code, ok := e.m.MMU.Translate(addr, a)
		if ok {
			return pa, nil
		}
		f := va.ResolveFault(e.m.PT, e.m.Frames, addr, code)
		if f.Result != va.Resolved && f.Result != va.Spurious {
			return 0, &f
		}
	}
	e.t.Fatalf("fault at %#x not resolved after retries", addr)
	return 0, nil
}

func (e *env) mustTouch(addr uintptr, a pte.Access) uint64 {
	e.t.Helper()
	pa, f := e.touch(addr, a)
	if f != nil {
		e.t.Fatalf("%v %#x: %v", a, addr, f.Result)
	}
	return pa
}

func (e *env) mustFault(addr uintptr, a pte.Access, want va.Result) va.Fault {
	e.t.Helper()
	_, f := e.touch(addr, a)
	if f == nil || f.Result != want {
		e.t.Fatalf("%v %#x: %+v, want %v", a, addr, f, want)
	}
	return *f
}

func (e *env) leaf(addr uintptr) pte.PTE {
	l, _ := e.m.PT.Leaf(addr)
	return l
}

func (e *env) check() {
	e.t.Helper()
	if err := e.m.Check(nil); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) alloc(base, size uintptr, typ va.AllocationType, p va.PageProtection) uintptr {
	e.t.Helper()
	got, _, st := e.space.Allocate(base, size, typ, p)
	if st != ntstatus.Success {
		e.t.Fatalf("Allocate(%#x, %#x, %#x, %#x): %v", base, size, typ, p, st)
	}
	return got
}

func TestReserveCommitTouch(t *testing.T) {
	e := newEnv(t)
	base, size, st := e.space.Allocate(0, 3*pageSize-100, va.MemReserve, va.PageReadWrite)
	if st != 0 || base != layout.DynamicVAStart || size != 3*pageSize {
		t.Fatalf("reserve: %#x %#x %v", base, size, st)
	}
	for p := range 3 {
		if l := e.leaf(base + uintptr(p)*pageSize); l != pte.Reserved {
			t.Fatalf("page %d: %v", p, l)
		}
	}
	if e.m.Frames.Count(ptesim.Page) != 0 {
		t.Fatal("reserving took frames")
	}
	f := e.mustFault(base, pte.AccessRead, va.NotPresent)
	if code, p, ok := f.Bugcheck(0x1234); !ok || code != bugcheck.PageFaultInNonpagedArea || p != [4]uintptr{base, 0, 0x1234, 0} {
		t.Fatalf("bugcheck %v %#x", code, p)
	}

	start, n, st := e.space.Allocate(base+10, 2*pageSize, va.MemCommit, va.PageReadWrite)
	if st != 0 || start != base || n != 3*pageSize {
		t.Fatalf("commit: %#x %#x %v", start, n, st)
	}
	if l := e.leaf(base); l != pte.DemandZero(pte.ProtReadWrite) {
		t.Fatalf("committed page %v", l)
	}
	if e.m.Frames.Count(ptesim.Page) != 0 {
		t.Fatal("commit took frames: it must be demand-zero")
	}
	pa := e.mustTouch(base+8, pte.AccessRead)
	if e.m.Mem.Load64(pa) != 0 || e.m.Frames.Count(ptesim.Page) != 1 {
		t.Fatalf("first touch: %#x holds %#x, %d frames", pa, e.m.Mem.Load64(pa), e.m.Frames.Count(ptesim.Page))
	}
	if code, ok := e.m.MMU.Write64(base+8, 0xfeed); !ok {
		t.Fatalf("write: %v", code)
	}
	if v, _, _ := e.m.MMU.Read64(base + 8); v != 0xfeed {
		t.Fatalf("read back %#x", v)
	}
	if l := e.leaf(base); l.Kind() != pte.KindValid || l.Protection() != pte.ProtReadWrite || l.Cache() != pte.Cached {
		t.Fatalf("resolved PTE %v", l)
	}
	if bp := e.m.Frames.BackPointer(physmem.FrameOf(pa)); bp != pte.PteAddress(base) {
		t.Fatalf("frame's PTE back-pointer %#x, PTE at %#x", bp, pte.PteAddress(base))
	}
	e.check()
}

func TestDecommitFreesFrames(t *testing.T) {
	e := newEnv(t)
	base := e.alloc(0, 4*pageSize, va.MemReserve|va.MemCommit, va.PageReadWrite)
	for p := range uintptr(4) {
		e.m.MMU.Write64(base+p*pageSize, 0xaa) // the faults are ours to resolve
		e.mustTouch(base+p*pageSize, pte.AccessWrite)
		e.m.MMU.Write64(base+p*pageSize, 0xaa)
	}
	if e.m.Frames.Count(ptesim.Page) != 4 {
		t.Fatalf("%d frames", e.m.Frames.Count(ptesim.Page))
	}
	start, n, st := e.space.Free(base+pageSize, 2*pageSize, va.MemDecommit)
	if st != 0 || start != base+pageSize || n != 2*pageSize {
		t.Fatalf("decommit %#x %#x %v", start, n, st)
	}
	if e.m.Frames.Count(ptesim.Page) != 2 || e.leaf(base+pageSize) != pte.Reserved {
		t.Fatalf("%d frames, PTE %v", e.m.Frames.Count(ptesim.Page), e.leaf(base+pageSize))
	}
	e.mustFault(base+pageSize, pte.AccessRead, va.NotPresent)
	// Recommitted, the page comes back zeroed, not with its old contents.
	e.alloc(base+pageSize, pageSize, va.MemCommit, va.PageReadOnly)
	if pa := e.mustTouch(base+pageSize, pte.AccessRead); e.m.Mem.Load64(pa) != 0 {
		t.Fatal("recommitted page not zero")
	}
	// Decommitting reserved pages is harmless; size 0 means the whole
	// reservation and needs its base.
	if _, _, st := e.space.Free(base+pageSize, 0, va.MemDecommit); st != ntstatus.FreeVMNotAtBase {
		t.Fatalf("decommit size 0 off base: %v", st)
	}
	if _, n, st := e.space.Free(base, 0, va.MemDecommit); st != 0 || n != 4*pageSize {
		t.Fatalf("decommit all: %#x %v", n, st)
	}
	if e.m.Frames.Count(ptesim.Page) != 0 {
		t.Fatalf("%d frames after decommitting all", e.m.Frames.Count(ptesim.Page))
	}
	e.check()
}

func TestReleaseRemovesReservation(t *testing.T) {
	e := newEnv(t)
	base := e.alloc(0, 8*pageSize, va.MemReserve, va.PageExecuteRead)
	e.alloc(base, 3*pageSize, va.MemCommit, va.PageReadWrite)
	e.mustTouch(base, pte.AccessWrite)
	if start, size, p, ok := e.space.Reservation(base + 5*pageSize); !ok || start != base || size != 8*pageSize || p != va.PageExecuteRead {
		t.Fatalf("Reservation: %#x %#x %#x %v", start, size, p, ok)
	}
	for _, c := range []struct {
		base, size uintptr
		want       ntstatus.Status
	}{
		{base + pageSize, 0, ntstatus.FreeVMNotAtBase},
		{base, 4 * pageSize, ntstatus.InvalidParameter},
		{base + 8*pageSize, 0, ntstatus.MemoryNotAllocated},
	} {
		if _, _, st := e.space.Free(c.base, c.size, va.MemRelease); st != c.want {
			t.Errorf("release %#x+%#x: %v, want %v", c.base, c.size, st, c.want)
		}
	}
	if _, n, st := e.space.Free(base, 8*pageSize, va.MemRelease); st != 0 || n != 8*pageSize {
		t.Fatalf("release: %#x %v", n, st)
	}
	if _, _, _, ok := e.space.Reservation(base); ok {
		t.Fatal("reservation survived release")
	}
	if e.m.Frames.Count(ptesim.Page) != 0 || e.m.Frames.Count(ptesim.Table) != 1 {
		t.Fatalf("%d page frames, %d table frames after release", e.m.Frames.Count(ptesim.Page), e.m.Frames.Count(ptesim.Table))
	}
	if _, _, st := e.space.Free(base, 0, va.MemRelease); st != ntstatus.MemoryNotAllocated {
		t.Fatalf("double release: %v", st)
	}
	e.mustFault(base, pte.AccessRead, va.NotPresent)
	// The space is reusable at the same address.
	if again := e.alloc(0, pageSize, va.MemReserve, va.PageReadOnly); again != base {
		t.Fatalf("first fit after release: %#x", again)
	}
	e.check()
}

func TestReserveAddresses(t *testing.T) {
	e := newEnv(t)
	lo := layout.DynamicVAStart
	a := e.alloc(lo+va.AllocationGranularity+0x1234, pageSize, va.MemReserve, va.PageReadOnly)
	if a != lo+va.AllocationGranularity {
		t.Fatalf("given base not rounded to the granularity: %#x", a)
	}
	if _, size, _, _ := e.space.Reservation(a); size != 3*pageSize {
		t.Fatalf("reservation from a rounded-down base to the end of the last page: %#x", size)
	}
	// First fit skips the taken granule; the granule before it fits.
	if b := e.alloc(0, pageSize, va.MemReserve, va.PageReadOnly); b != lo {
		t.Fatalf("first fit %#x", b)
	}
	if c := e.alloc(0, pageSize, va.MemReserve, va.PageReadOnly); c != lo+2*va.AllocationGranularity {
		t.Fatalf("next fit %#x", c)
	}
	for _, c := range []struct {
		name       string
		base, size uintptr
		typ        va.AllocationType
		p          va.PageProtection
		want       ntstatus.Status
	}{
		{"overlap", a + pageSize, pageSize, va.MemReserve, va.PageReadOnly, ntstatus.ConflictingAddresses},
		{"below space", lo - va.AllocationGranularity, pageSize, va.MemReserve, va.PageReadOnly, ntstatus.ConflictingAddresses},
		{"beyond space", lo + spaceSize - pageSize, 2 * pageSize, va.MemReserve, va.PageReadOnly, ntstatus.ConflictingAddresses},
		{"commit unreserved", lo + 5*va.AllocationGranularity, pageSize, va.MemCommit, va.PageReadOnly, ntstatus.ConflictingAddresses},
		{"commit past reservation", a, 4 * pageSize, va.MemCommit, va.PageReadOnly, ntstatus.ConflictingAddresses},
		{"too big", 0, spaceSize, va.MemReserve, va.PageReadOnly, ntstatus.NoMemory},
		{"size 0", 0, 0, va.MemReserve, va.PageReadOnly, ntstatus.InvalidParameter},
		{"wraps", a, ^uintptr(0), va.MemCommit, va.PageReadOnly, ntstatus.InvalidParameter},
		{"decommit flag", 0, pageSize, va.MemDecommit, va.PageReadOnly, ntstatus.InvalidParameter},
		{"PAGE_EXECUTE", 0, pageSize, va.MemReserve, 0x10, ntstatus.InvalidPageProtection},
		{"NOACCESS|GUARD", 0, pageSize, va.MemReserve, va.PageNoAccess | va.PageGuard, ntstatus.InvalidPageProtection},
		{"two bases", 0, pageSize, va.MemReserve, va.PageReadOnly | va.PageReadWrite, ntstatus.InvalidPageProtection},
		{"none", 0, pageSize, va.MemReserve, 0, ntstatus.InvalidPageProtection},
	} {
		if _, _, st := e.space.Allocate(c.base, c.size, c.typ, c.p); st != c.want {
			t.Errorf("%s: %v, want %v", c.name, st, c.want)
		}
	}
	if _, _, st := e.space.Free(a, pageSize, va.MemRelease|va.MemDecommit); st != ntstatus.InvalidParameter {
		t.Errorf("release|decommit: %v", st)
	}
	e.check()
}

func TestReserveWithoutTableFramesLeavesNothing(t *testing.T) {
	e := newEnv(t)
	// Two reserved ranges 2 MiB apart need a second PT.
	e.alloc(layout.DynamicVAStart, pageSize, va.MemReserve, va.PageReadOnly)
	tables := e.m.Frames.Count(ptesim.Table)
	e.m.Frames.Limit = tables
	far := layout.DynamicVAStart + 2<<20 - 2*pageSize // straddles the PT boundary
	if _, _, st := e.space.Allocate(far, 4*pageSize, va.MemReserve, va.PageReadOnly); st != ntstatus.InsufficientResources {
		t.Fatalf("reserve without frames: %v", st)
	}
	if _, _, _, ok := e.space.Reservation(far); ok || e.leaf(far) != 0 || e.m.Frames.Count(ptesim.Table) != tables {
		t.Fatal("failed reserve left state behind")
	}
	e.check()
	e.m.Frames.Limit = 0
	e.alloc(far, 4*pageSize, va.MemReserve, va.PageReadOnly)
	e.check()
}

func TestReserveOverForeignMapping(t *testing.T) {
	e := newEnv(t)
	at := layout.DynamicVAStart + 3*pageSize
	e.m.PT.Map(at, 0x99, pte.ProtReadOnly, pte.Cached) // not the Space's doing
	if _, _, st := e.space.Allocate(layout.DynamicVAStart, 8*pageSize, va.MemReserve, va.PageReadOnly); st != ntstatus.ConflictingAddresses {
		t.Fatalf("reserve over a mapping: %v", st)
	}
	if l := e.leaf(at); l.Frame() != 0x99 || !l.Valid() || e.leaf(layout.DynamicVAStart) != 0 {
		t.Fatalf("mapping disturbed: %v", l)
	}
	e.check()
}

func TestProtectRange(t *testing.T) {
	e := newEnv(t)
	base := e.alloc(0, 4*pageSize, va.MemReserve, va.PageReadWrite)
	e.alloc(base, 3*pageSize, va.MemCommit, va.PageReadWrite|va.PageGuard)
	if _, st := e.space.Protect(base, 4*pageSize, va.PageReadOnly); st != ntstatus.NotCommitted {
		t.Fatalf("protect over an uncommitted page: %v", st)
	}
	if e.leaf(base) != pte.DemandZero(pte.ProtReadWrite|pte.ProtGuard) {
		t.Fatal("a refused Protect changed pages")
	}
	old, st := e.space.Protect(base+pageSize, 2*pageSize, va.PageExecuteRead)
	if st != 0 || old != va.PageReadWrite|va.PageGuard {
		t.Fatalf("protect: old %#x %v", old, st)
	}
	e.mustTouch(base+pageSize, pte.AccessExecute)
	for _, c := range []struct {
		base, size uintptr
		p          va.PageProtection
		want       ntstatus.Status
	}{
		{base, pageSize, 0x10, ntstatus.InvalidPageProtection},
		{base, 0, va.PageReadOnly, ntstatus.InvalidParameter},
		{base, 5 * pageSize, va.PageReadOnly, ntstatus.ConflictingAddresses},
		{base + 8*pageSize, pageSize, va.PageReadOnly, ntstatus.MemoryNotAllocated},
	} {
		if _, st := e.space.Protect(c.base, c.size, c.p); st != c.want {
			t.Errorf("protect %#x+%#x %#x: %v, want %v", c.base, c.size, c.p, st, c.want)
		}
	}
	// Committing again re-protects committed pages and keeps their frame.
	pa := e.mustTouch(base+pageSize, pte.AccessRead)
	e.alloc(base, 4*pageSize, va.MemCommit, va.PageReadWrite)
	if got := e.mustTouch(base+pageSize, pte.AccessWrite); got != pa {
		t.Fatalf("recommit moved the page: %#x -> %#x", pa, got)
	}
	e.check()
}

func TestConstructorsRefuseBadRanges(t *testing.T) {
	m := ptesim.New(16)
	defer m.Close()
	const g = va.AllocationGranularity
	for _, c := range []struct {
		name       string
		base, size uintptr
	}{
		{"unaligned base", layout.DynamicVAStart + pageSize, g},
		{"unaligned size", layout.DynamicVAStart, g + pageSize},
		{"empty", layout.DynamicVAStart, 0},
		{"PTE space", pte.PteBase, g},
		{"covers PTE space", pte.PteBase - g, 1 << 40},
		{"non-canonical", 0x0000_8000_0000_0000, g},
		{"across the hole", 0x0000_7FFF_FFFF_0000, 0xFFFF_8000_0000_0000 - 0x0000_7FFF_FFFF_0000 + g},
		{"wraps", 0xFFFF_FFFF_FFFF_0000, 2 * g},
	} {
		if s, st := va.NewSpace(m.PT, m.Frames, c.base, c.size); s != nil || st != ntstatus.InvalidParameter {
			t.Errorf("NewSpace %s: %v", c.name, st)
		}
		if s, st := va.NewSystemPtes(m.PT, c.base, int(c.size/pageSize)); c.name != "unaligned base" && c.name != "unaligned size" && (s != nil || st != ntstatus.InvalidParameter) {
			t.Errorf("NewSystemPtes %s: %v", c.name, st)
		}
	}
	if s, st := va.NewSystemPtes(m.PT, layout.SystemPtesStart+8, 4); s != nil || st != ntstatus.InvalidParameter {
		t.Errorf("NewSystemPtes unaligned: %v", st)
	}
}
