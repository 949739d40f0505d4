package mm_test

// MDLs on the machine: locking Go-heap, dynamic-VA and pool buffers, the
// system-PTE mappings of their frames, partial MDLs, pages allocated for an
// MDL, and each misuse's bugcheck or raise.

import (
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/va"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

var mdlTestTag = pool.MakeTag("MdlT")

// probe runs ProbeAndLockPages in a Try and returns what it raised.
func probe(m *mm.Mdl, op mm.LockOperation) (raised *ntstatus.Exception) {
	ntstatus.Try(func() { mm.ProbeAndLockPages(m, op) }, func(e *ntstatus.Exception) { raised = e })
	return raised
}

func newMdl(t *testing.T, p unsafe.Pointer, n uintptr) *mm.Mdl {
	t.Helper()
	m := mm.AllocateMdl(p, uint32(n))
	if m == nil {
		t.Fatalf("AllocateMdl(%p, %#x) = nil", p, n)
	}
	if want := mm.SizeOfMdl(p, n); uintptr(m.Size) != want {
		t.Fatalf("MDL size %d, MmSizeOfMdl says %d", m.Size, want)
	}
	return m
}

// refs is frame f's reference count.
func refs(t *testing.T, f physmem.PFN) uint16 {
	t.Helper()
	i, ok := mm.PFN.Decode(f)
	if !ok {
		t.Fatalf("frame %#x beyond the database", f)
	}
	return i.RefCount
}

// checkFrames checks that m's PFN array names the frames mapping its buffer.
func checkFrames(t *testing.T, m *mm.Mdl) {
	t.Helper()
	for i, f := range m.Pages() {
		pa, ok := mm.Tables.Translate(m.StartVa + uintptr(i)*page)
		if !ok || physmem.FrameOf(pa) != f {
			t.Fatalf("page %d: MDL says frame %#x, the page tables %#x (mapped %v)", i, f, physmem.FrameOf(pa), ok)
		}
	}
}

func TestProbeAndLockGoBufferAndMapIt(t *testing.T) {
	requireBare(t)
	buf := make([]byte, 3*page+200)
	const offset = 100
	n := uintptr(len(buf) - offset - 50)
	ptesFree := mm.SystemPtes.Free()
	m := newMdl(t, unsafe.Pointer(&buf[offset]), n)
	if got := len(m.Pages()); got != int((uintptr(unsafe.Pointer(&buf[offset]))%page+n+page-1)/page) {
		t.Fatalf("%d pages for %d bytes at offset %d", got, n, uintptr(unsafe.Pointer(&buf[offset]))%page)
	}
	before := make([]uint16, 0, 8)
	if e := probe(m, mm.IoWriteAccess); e != nil {
		t.Fatalf("probe raised %v", e)
	}
	if m.MdlFlags&(mm.MdlPagesLocked|mm.MdlWriteOperation) != mm.MdlPagesLocked|mm.MdlWriteOperation {
		t.Fatalf("flags %#x after a write probe", m.MdlFlags)
	}
	checkFrames(t, m)
	for _, f := range m.Pages() {
		before = append(before, refs(t, f))
		if before[len(before)-1] < 2 {
			t.Fatalf("frame %#x: ref %d, want its mapping's and the lock's", f, before[len(before)-1])
		}
	}

	sys := mm.MapLockedPagesSpecifyCache(m, pte.Cached, false, mm.NormalPagePriority|mm.MdlMappingNoExecute)
	if r, _ := layout.Find(sys); r.ID != layout.SystemPtes || sys%page != uintptr(m.ByteOffset) {
		t.Fatalf("mapped at %#x (%s), byte offset %#x", sys, r.Name, m.ByteOffset)
	}
	if mm.GetSystemAddressForMdlSafe(m, mm.NormalPagePriority) != sys {
		t.Fatal("GetSystemAddressForMdlSafe does not return the existing mapping")
	}
	view := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), sys)), n)
	for i := range view {
		view[i] = byte(i * 7)
	}
	for i := range n {
		if buf[offset+i] != byte(i*7) {
			t.Fatalf("byte %d written through the system mapping reads %#x in the buffer", i, buf[offset+i])
		}
	}
	buf[offset+n-1] = 0xA5
	if view[n-1] != 0xA5 {
		t.Fatal("the system mapping does not see the buffer's write")
	}

	mm.UnlockPages(m) // unmaps too, as MmUnlockPages does
	if m.MdlFlags&(mm.MdlPagesLocked|mm.MdlMappedToSystemVa) != 0 {
		t.Fatalf("flags %#x after unlock", m.MdlFlags)
	}
	for i, f := range m.Pages() {
		if got := refs(t, f); got != before[i]-1 {
			t.Fatalf("frame %#x: ref %d after unlock, want %d", f, got, before[i]-1)
		}
	}
	if got := mm.SystemPtes.Free(); got != ptesFree {
		t.Fatalf("system PTEs free: %d after unmap, %d before", got, ptesFree)
	}
	mm.FreeMdl(m)
}

// A locked frame outlives its mapping: decommitting the buffer leaves it in
// Transition with its contents, and the unlock puts it on a list.
func TestLockedFrameOutlivesDecommit(t *testing.T) {
	requireBare(t)
	base := allocate(t, 2*page, va.MemReserve|va.MemCommit, va.PageReadWrite)
	*at(base) = 0x1111
	*at(base + page) = 0x2222
	m := newMdl(t, unsafe.Pointer(at(base)), 2*page)
	defer mm.FreeMdl(m)
	if e := probe(m, mm.IoReadAccess); e != nil {
		t.Fatalf("probe raised %v", e)
	}
	frames := append([]physmem.PFN(nil), m.Pages()...)
	if _, _, st := mm.FreeVirtualMemory(base, 2*page, va.MemDecommit); st != ntstatus.Success {
		t.Fatal(st)
	}
	for _, f := range frames {
		if i, _ := mm.PFN.Decode(f); i.State != pfn.StateTransition || i.RefCount != 1 {
			t.Fatalf("locked frame %#x after decommit: %v", f, i)
		}
	}
	sys := mm.MapLockedPages(m)
	if *at(sys) != 0x1111 || *at(sys + page) != 0x2222 {
		t.Fatalf("locked frames lost their contents: %#x %#x", *at(sys), *at(sys + page))
	}
	mm.UnmapLockedPages(sys, m)
	var after [2]pfn.State
	uninterrupted(func() {
		mm.UnlockPages(m)
		for i, f := range frames {
			info, _ := mm.PFN.Decode(f)
			after[i] = info.State
		}
	})
	for i, s := range after {
		if s != pfn.StateFree && s != pfn.StateZeroed {
			t.Fatalf("frame %#x after the last unlock: %v, want a free list", frames[i], s)
		}
	}
}

func TestProbeRaisesAndUnlocksWhatItLocked(t *testing.T) {
	requireBare(t)
	base := allocate(t, 2*page, va.MemReserve|va.MemCommit, va.PageReadWrite)
	*at(base) = 1
	*at(base + page) = 2
	if _, st := mm.ProtectVirtualMemory(base+page, page, va.PageReadOnly); st != ntstatus.Success {
		t.Fatal(st)
	}
	first, _ := mm.Tables.Translate(base)
	refBefore := refs(t, physmem.FrameOf(first))

	m := newMdl(t, unsafe.Pointer(at(base)), 2*page)
	defer mm.FreeMdl(m)
	e := probe(m, mm.IoModifyAccess)
	if e == nil || e.Status != ntstatus.AccessViolation || e.Address != base+page {
		t.Fatalf("write probe of a read-only page raised %v, want an access violation at %#x", e, base+page)
	}
	if got := refs(t, physmem.FrameOf(first)); got != refBefore || m.MdlFlags&mm.MdlPagesLocked != 0 {
		t.Fatalf("first frame's ref %d after the failed probe (was %d), flags %#x", got, refBefore, m.MdlFlags)
	}
	if e := probe(m, mm.IoReadAccess); e != nil {
		t.Fatalf("read probe raised %v", e)
	}
	if e := probe(m, mm.IoReadAccess); e == nil || e.Status != ntstatus.InvalidParameter {
		t.Fatalf("probing a locked MDL again raised %v, want STATUS_INVALID_PARAMETER", e)
	}
	mm.UnlockPages(m)

	// The Go runtime's half is NT's user range: a hole there raises.
	const hole = 0x10000
	u := newMdl(t, unsafe.Pointer(at(hole)), 16)
	defer mm.FreeMdl(u)
	if e := probe(u, mm.IoReadAccess); e == nil || e.Status != ntstatus.AccessViolation || e.Address != hole {
		t.Fatalf("probe of unmapped %#x raised %v", hole, e)
	}
}

func TestBuildMdlForNonPagedPool(t *testing.T) {
	requireBare(t)
	const n = 3 * page
	p := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, n, mdlTestTag)
	defer ex.FreePool(p)
	m := newMdl(t, p, n)
	defer mm.FreeMdl(m)
	mm.BuildMdlForNonPagedPool(m)
	checkFrames(t, m)
	if m.MdlFlags&mm.MdlSourceIsNonpagedPool == 0 || m.MappedSystemVa != uintptr(p) {
		t.Fatalf("flags %#x, MappedSystemVa %#x for pool at %p", m.MdlFlags, m.MappedSystemVa, p)
	}
	if mm.MapLockedPages(m) != uintptr(p) || mm.GetSystemAddressForMdlSafe(m, mm.LowPagePriority) != uintptr(p) {
		t.Fatal("a non-paged-pool MDL is not its own mapping")
	}
	mm.UnmapLockedPages(uintptr(p), m) // nothing to undo

	heap := make([]byte, 64)
	g := newMdl(t, unsafe.Pointer(&heap[0]), 64)
	defer mm.FreeMdl(g)
	rec := bugcheck.Catch(func() { mm.BuildMdlForNonPagedPool(g) })
	if rec == nil || rec.Code != bugcheck.MemoryManagement || rec.Params[0] != mm.MdlNotResident || rec.Params[1] != uintptr(unsafe.Pointer(g)) {
		t.Fatalf("describing Go heap as non-paged: %v", rec)
	}
}

func TestPartialMdl(t *testing.T) {
	requireBare(t)
	buf := make([]byte, 4*page)
	start := unsafe.Pointer(&buf[0])
	source := newMdl(t, start, 4*page)
	defer mm.FreeMdl(source)
	if e := probe(source, mm.IoWriteAccess); e != nil {
		t.Fatal(e)
	}
	defer mm.UnlockPages(source)
	target := newMdl(t, start, 4*page)
	defer mm.FreeMdl(target)
	ptesFree := mm.SystemPtes.Free()

	// Unmapped source: the partial MDL maps its own pages.
	addr := uintptr(start) + page + 10
	mm.BuildPartialMdl(source, target, addr, uint32(page))
	if target.MdlFlags&mm.MdlPartial == 0 || target.VirtualAddress() != addr || len(target.Pages()) != 2 {
		t.Fatalf("partial MDL: flags %#x, va %#x, %d pages", target.MdlFlags, target.VirtualAddress(), len(target.Pages()))
	}
	first := (target.StartVa - source.StartVa) / page
	for i, f := range target.Pages() {
		if f != source.Pages()[first+uintptr(i)] {
			t.Fatalf("partial page %d: frame %#x, source has %#x", i, f, source.Pages()[first+uintptr(i)])
		}
	}
	sys := mm.GetSystemAddressForMdlSafe(target, mm.NormalPagePriority)
	if sys == 0 || target.MdlFlags&mm.MdlPartialHasBeenMapped == 0 {
		t.Fatalf("partial MDL mapping %#x, flags %#x", sys, target.MdlFlags)
	}
	buf[page+10] = 0x5A
	if *(*byte)(unsafe.Add(unsafe.Pointer(nil), sys)) != 0x5A {
		t.Fatal("partial mapping does not show the buffer")
	}

	// Reusing the target undoes its own mapping; a mapped source lends its.
	srcVA := mm.MapLockedPages(source)
	mm.BuildPartialMdl(source, target, uintptr(start)+2*page, 0)
	if got := mm.SystemPtes.Free(); got != ptesFree-(4+1) {
		t.Fatalf("system PTEs free %d: the partial mapping was not undone (source's 5 taken of %d)", got, ptesFree)
	}
	if target.MappedSystemVa != srcVA+2*page || target.ByteCount != uint32(2*page) || target.MdlFlags&mm.MdlMappedToSystemVa == 0 {
		t.Fatalf("partial of a mapped source: MappedSystemVa %#x (source %#x), %#x bytes, flags %#x", target.MappedSystemVa, srcVA, target.ByteCount, target.MdlFlags)
	}

	rec := bugcheck.Catch(func() { mm.BuildPartialMdl(source, target, uintptr(start)+3*page, uint32(2*page)) })
	if rec == nil || rec.Code != bugcheck.InvalidMdlRange || rec.Params != [4]uintptr{uintptr(unsafe.Pointer(source)), uintptr(unsafe.Pointer(target)), uintptr(start) + 3*page, 2 * page} {
		t.Fatalf("partial range past the source: %v", rec)
	}
}

func TestAllocatePagesForMdl(t *testing.T) {
	requireBare(t)
	const high = 64<<20 - 1
	m := mm.AllocatePagesForMdlEx(0, high, 0, 5*page+1, pte.Cached, 0)
	if m == nil {
		t.Fatal("no pages below 64 MiB")
	}
	if len(m.Pages()) != 6 || uintptr(m.ByteCount) != 5*page+1 || m.MdlFlags&mm.MdlPagesLocked == 0 {
		t.Fatalf("%d pages, %#x bytes, flags %#x", len(m.Pages()), m.ByteCount, m.MdlFlags)
	}
	for _, f := range m.Pages() {
		if i, _ := mm.PFN.Decode(f); f.Addr() > high || i.State != pfn.StateActive {
			t.Fatalf("frame %#x: %v", f, i)
		}
	}
	sys := mm.MapLockedPages(m)
	for off := uintptr(0); off < 6*page; off += 8 {
		if v := *at(sys + off); v != 0 {
			t.Fatalf("allocated page not zeroed: %#x at %#x", v, off)
		}
	}
	frames := append([]physmem.PFN(nil), m.Pages()...)
	mm.FreePagesFromMdl(m) // unmaps too
	for _, f := range frames {
		if i, _ := mm.PFN.Decode(f); i.State == pfn.StateActive {
			t.Fatalf("frame %#x still Active after FreePagesFromMdl", f)
		}
	}
	mm.FreeMdl(m)

	// Frame 0 is firmware's: nothing to take, so all-or-nothing fails.
	if m := mm.AllocatePagesForMdlEx(0, uint64(page-1), 0, page, pte.Cached, mm.MmAllocateFullyRequired); m != nil {
		t.Fatalf("allocated frame %#x below 4 KiB", m.Pages()[0])
	}
}

func TestMdlMisuseBugchecks(t *testing.T) {
	requireBare(t)
	buf := make([]byte, 2*page)
	m := newMdl(t, unsafe.Pointer(&buf[0]), 2*page)
	self := uintptr(unsafe.Pointer(m))

	rec := bugcheck.Catch(func() { mm.UnlockPages(m) })
	if rec == nil || rec.Code != bugcheck.PfnListCorrupt || rec.Params[0] != pfn.UnlockedTooOften || rec.Params[3] != self {
		t.Fatalf("unlocking an unlocked MDL: %v", rec)
	}
	rec = bugcheck.Catch(func() { mm.MapLockedPages(m) })
	if rec == nil || rec.Code != bugcheck.MemoryManagement || rec.Params[0] != mm.MdlPagesNotLocked || rec.Params[1] != self {
		t.Fatalf("mapping an unlocked MDL: %v", rec)
	}
	if e := probe(m, mm.IoReadAccess); e != nil {
		t.Fatal(e)
	}
	rec = bugcheck.Catch(func() { mm.UnmapLockedPages(0xFFFFF880_00000000, m) })
	if rec == nil || rec.Code != bugcheck.SystemPteMisuse || rec.Params[0] != mm.PteMisuseMdlNotMapped || rec.Params[1] != self {
		t.Fatalf("unmapping an unmapped MDL: %v", rec)
	}
	pages := uintptr(len(m.Pages()))
	rec = bugcheck.Catch(func() { mm.FreeMdl(m) })
	if rec == nil || rec.Code != bugcheck.DriverLeftLockedPagesInProcess || rec.Params[2] != self || rec.Params[3] != pages {
		t.Fatalf("freeing a locked MDL: %v", rec)
	}
	mm.UnlockPages(m) // nothing was lost: the MDL still holds its locks
	mm.FreeMdl(m)
}

func TestKernelStackRoundTrip(t *testing.T) {
	requireBare(t)
	ptesFree := mm.SystemPtes.Free()
	s, st := mm.CreateKernelStack(3*page - 100)
	if st != ntstatus.Success {
		t.Fatal(st)
	}
	if s.Size() != 3*page || s.Base != s.Guard+page {
		t.Fatalf("stack %+v: want 3 pages above the guard", s)
	}
	if _, mapped := mm.Tables.Translate(s.Guard); mapped {
		t.Fatal("guard page mapped")
	}
	var frames []physmem.PFN
	for va := s.Base; va < s.Top; va += page {
		if *at(va) != 0 || *at(va + page - 8) != 0 {
			t.Fatalf("stack page %#x not zeroed", va)
		}
		pa, _ := mm.Tables.Translate(va)
		frames = append(frames, physmem.FrameOf(pa))
		if i, _ := mm.PFN.Decode(physmem.FrameOf(pa)); i.State != pfn.StateActive || i.Pte != pte.PteAddress(va) {
			t.Fatalf("stack frame: %v, want Active and owned by PTE %#x", i, pte.PteAddress(va))
		}
	}
	mm.DeleteKernelStack(s)
	if got := mm.SystemPtes.Free(); got != ptesFree {
		t.Fatalf("system PTEs free %d after delete, %d before", got, ptesFree)
	}
	for _, f := range frames {
		if i, _ := mm.PFN.Decode(f); i.State == pfn.StateActive {
			t.Fatalf("stack frame %#x still Active after delete", f)
		}
	}
}

// MDLs of up to 23 pages are allocated at one fixed size, so a freed one is
// the next one's, whatever their page counts (the per-processor lookaside
// list NT keeps for MDLs); a larger MDL's block is sized to its pages.
func TestMdlFixedSizeFromLookaside(t *testing.T) {
	requireBare(t)
	small := newMdl(t, nil, page)
	if small.MdlFlags&mm.MdlAllocatedFixedSize == 0 {
		t.Fatalf("one-page MDL flags %#x", small.MdlFlags)
	}
	addr := uintptr(unsafe.Pointer(small))
	mm.FreeMdl(small)
	fixed := newMdl(t, nil, 23*page)
	if uintptr(unsafe.Pointer(fixed)) != addr || fixed.MdlFlags&mm.MdlAllocatedFixedSize == 0 {
		t.Fatalf("23-page MDL at %p (flags %#x), want the freed one-page MDL's %#x", fixed, fixed.MdlFlags, addr)
	}
	if size, _ := ex.QueryPoolBlockSize(unsafe.Pointer(fixed)); size < mm.SizeOfMdl(nil, 23*page) {
		t.Fatalf("fixed-size MDL block holds %d bytes", size)
	}
	mm.FreeMdl(fixed)
	big := newMdl(t, nil, 64*page)
	if size, _ := ex.QueryPoolBlockSize(unsafe.Pointer(big)); big.MdlFlags&mm.MdlAllocatedFixedSize != 0 || size >= mm.SizeOfMdl(nil, 64*page)+pool.BlockUnit {
		t.Fatalf("64-page MDL flags %#x, block of %d bytes", big.MdlFlags, size)
	}
	mm.FreeMdl(big)
}
