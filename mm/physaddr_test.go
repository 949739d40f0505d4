package mm_test

import (
	"testing"

	"ntgo/mm"
	"ntgo/mm/physmem"
)

// GetPhysicalAddress agrees, byte offset included, with the frames an MDL
// over the same contiguous memory describes, and is 0 where nothing is
// mapped.
func TestGetPhysicalAddress(t *testing.T) {
	requireBare(t)
	const pages = 3
	p := mm.AllocateContiguousMemory(pages*physmem.PageSize, mm.MaxPhysicalAddress)
	if p == nil {
		t.Fatal("AllocateContiguousMemory failed")
	}
	defer mm.FreeContiguousMemory(p)
	m := mm.AllocateMdl(p, pages*physmem.PageSize)
	defer mm.FreeMdl(m)
	mm.BuildMdlForNonPagedPool(m)
	for i, f := range m.Pages() {
		off := uintptr(i)*physmem.PageSize + 0x123
		if got, want := mm.GetPhysicalAddress(uintptr(p)+off), f.Addr()+0x123; got != want {
			t.Errorf("page %d: GetPhysicalAddress = %#x, want %#x", i, got, want)
		}
	}
	// System PTE runs have an unmapped guard page after them.
	if got := mm.GetPhysicalAddress(uintptr(p) + pages*physmem.PageSize); got != 0 {
		t.Errorf("GetPhysicalAddress of the guard page = %#x, want 0", got)
	}
}
