package mm_test

// MmMapLockedPagesSpecifyCache's MdlMappingNoWrite and
// MdlMappingNoExecute: each combination gives the system mapping's PTE
// its Write and NX bits.

import (
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/pte"
)

func TestMdlMappingProtection(t *testing.T) {
	requireBare(t)
	buf := make([]byte, 2*page)
	for _, c := range []struct {
		flags     mm.PagePriority
		write, nx bool
	}{
		{0, true, false},
		{mm.MdlMappingNoWrite, false, false},
		{mm.MdlMappingNoExecute, true, true},
		{mm.MdlMappingNoWrite | mm.MdlMappingNoExecute, false, true},
	} {
		m := newMdl(t, unsafe.Pointer(&buf[0]), page)
		if e := probe(m, mm.IoReadAccess); e != nil {
			t.Fatalf("probe raised %v", e)
		}
		sys := mm.MapLockedPagesSpecifyCache(m, pte.Cached, false, mm.NormalPagePriority|c.flags)
		_, e := mm.Tables.Lookup(sys).Last()
		if !e.Valid() || (e&pte.Write != 0) != c.write || (e&pte.NX != 0) != c.nx {
			t.Errorf("flags %#x: PTE %v, want write %v, no-execute %v", uint32(c.flags), e, c.write, c.nx)
		}
		mm.UnlockPages(m)
		mm.FreeMdl(m)
	}
}
