package kd

import "ntgo/mm/physmem"

// How the debugger reads memory: only through Memory, a page at a time,
// since the page is the granularity at which mapping changes and an
// unmapped page should hide only its own bytes.

// Memory is the debugger's view of the address space.
//
// Read copies len(b) bytes at addr into b and reports whether the whole
// range was readable; it must refuse (return false) rather than fault when
// any page of the range is not mapped. On false, b's contents are
// unspecified. Implementations check the page tables without the memory
// manager's locks: the kernel's walks the current tables through the
// self-map.
type Memory interface {
	Read(addr uintptr, b []byte) bool
}

// readPages reads len(b) bytes at addr page by page and reports, per byte,
// whether it could be read (ok[i] for b[i]). It returns false if no byte
// could be read.
func readPages(m Memory, addr uintptr, b []byte, ok []bool) bool {
	some := false
	for off := 0; off < len(b); {
		a := addr + uintptr(off)
		n := min(len(b)-off, int(physmem.PageSize-a%physmem.PageSize))
		got := m.Read(a, b[off:off+n])
		for i := off; i < off+n; i++ {
			ok[i] = got
		}
		some = some || got
		off += n
	}
	return some
}
