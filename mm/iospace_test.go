package mm_test

// MmMapIoSpace and MmAllocateContiguousMemory on the machine: the mapping
// lands in the system PTE region with NX, the bytes are the physical
// range's, the contiguous run is contiguous, zeroed and within its bounds,
// every system PTE comes back, and misuse stops with SYSTEM_PTE_MISUSE.

import (
	"bytes"
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/va"
	"ntgo/nt/bugcheck"
)

// imageText is a physical address of the kernel's own text, which the
// kernel maps at the same virtual address (its image is identity-placed).
const imageText = 0x401000

func TestMapIoSpace(t *testing.T) {
	requireBare(t)
	free := mm.SystemPtes.Free()
	const offset, n = 0x10, 64
	v := mm.MapIoSpace(imageText+offset, n, pte.Cached)
	if v == 0 {
		t.Fatal("MmMapIoSpace returned NULL")
	}
	if r, ok := layout.Find(v); !ok || r.ID != layout.SystemPtes || v&physmem.PageMask != offset {
		t.Fatalf("mapped at %#x, want the system PTE region at page offset %#x", v, offset)
	}
	got := unsafe.Slice((*byte)(unsafe.Add(nil, v)), n)
	want := unsafe.Slice((*byte)(unsafe.Add(nil, imageText+offset)), n)
	if !bytes.Equal(got, want) {
		t.Fatal("the mapping does not show the physical range's bytes")
	}
	if pa, ok := mm.Tables.Translate(v); !ok || pa != imageText+offset {
		t.Fatalf("%#x translates to %#x (%v)", v, pa, ok)
	}
	if _, e := mm.Tables.Lookup(v).Last(); e&pte.NX == 0 || e&pte.Write == 0 {
		t.Fatalf("I/O mapping PTE %v, want read-write no-execute", e)
	}
	if mm.SystemPtes.Free() >= free {
		t.Fatal("the mapping took no system PTEs")
	}
	rec := bugcheck.Catch(func() { mm.UnmapIoSpace(v, 3*physmem.PageSize) })
	if rec == nil || rec.Code != bugcheck.SystemPteMisuse || rec.Params[0] != va.PteMisuseWrongCount {
		t.Fatalf("MmUnmapIoSpace with the wrong size: %v", rec)
	}
	mm.UnmapIoSpace(v, n)
	if mm.SystemPtes.Free() != free {
		t.Fatalf("%d free system PTEs after MmUnmapIoSpace, %d before", mm.SystemPtes.Free(), free)
	}
	if _, e := mm.Tables.Lookup(v).Last(); e.Valid() {
		t.Fatalf("%#x still mapped: %v", v, e)
	}
}

func TestAllocateContiguousMemory(t *testing.T) {
	requireBare(t)
	free := mm.SystemPtes.Free()
	const pages, highest, boundary = 3, 64 << 20, 64 << 10
	alloc := func() unsafe.Pointer {
		p := mm.AllocateContiguousMemorySpecifyCache(pages*physmem.PageSize, 1<<20, highest, boundary, pte.Cached)
		if p == nil {
			t.Fatal("MmAllocateContiguousMemorySpecifyCache returned NULL")
		}
		return p
	}
	// A run written and freed, then taken again (the same frames, first
	// fit): it must come back zeroed.
	p := alloc()
	copy(unsafe.Slice((*byte)(p), pages*physmem.PageSize), bytes.Repeat([]byte{0xEE}, pages*physmem.PageSize))
	mm.FreeContiguousMemory(p)
	p = alloc()
	b := unsafe.Slice((*byte)(p), pages*physmem.PageSize)
	for _, c := range b {
		if c != 0 {
			t.Fatal("contiguous memory not zeroed")
		}
	}
	first, _ := mm.Tables.Translate(uintptr(p))
	var frames []physmem.PFN
	for i := uintptr(0); i < pages; i++ {
		pa, ok := mm.Tables.Translate(uintptr(p) + i*physmem.PageSize)
		if !ok || pa != first+uint64(i)*physmem.PageSize {
			t.Fatalf("page %d at %#x, want %#x: not contiguous", i, pa, first+uint64(i)*physmem.PageSize)
		}
		frames = append(frames, physmem.FrameOf(pa))
	}
	last := first + pages*physmem.PageSize - 1
	if first < 1<<20 || last > highest || first/boundary != last/boundary {
		t.Fatalf("run %#x-%#x outside [1 MiB, %#x] or across a %#x boundary", first, last, uint64(highest), boundary)
	}
	copy(b, "contiguous")
	if mm.AllocateContiguousMemory(pages*physmem.PageSize, 0) != nil {
		t.Fatal("a run below physical address 0 was found")
	}
	rec := bugcheck.Catch(func() { mm.FreeContiguousMemory(unsafe.Add(p, physmem.PageSize)) })
	if rec == nil || rec.Code != bugcheck.SystemPteMisuse {
		t.Fatalf("MmFreeContiguousMemory inside the run: %v", rec)
	}
	mm.FreeContiguousMemory(p)
	if mm.SystemPtes.Free() != free {
		t.Fatalf("%d free system PTEs after MmFreeContiguousMemory, %d before", mm.SystemPtes.Free(), free)
	}
	for _, f := range frames {
		if info, _ := mm.PFN.Decode(f); info.State == pfn.StateActive {
			t.Fatalf("frame %#x still active after MmFreeContiguousMemory", f)
		}
	}
}
