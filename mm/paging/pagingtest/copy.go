// Package pagingtest is test support for paging on the machine, shared by
// mm's in-kernel tests (a paging file in RAM) and
// drivers/virtioblk/pagingbench's (the virtio disk).
package pagingtest

import (
	"testing"
	"unsafe"

	"ntgo/mm/physmem"
	"ntgo/nt/rtl"
)

// CheckCopy checks that hard faults in code the Go runtime would not
// preempt wait for their pages: `copy` (the runtime's memmove) into the
// paged pool block of pages pages at base once pageOut has left it only in
// the paging file, and RtlCopyMemory out of it once paged out again, with
// every byte checked.
func CheckCopy(t testing.TB, base uintptr, pages int, pageOut func()) {
	t.Helper()
	n := pages * physmem.PageSize
	block := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), base)), n)
	src := make([]byte, n)
	for i := range src {
		src[i] = byte(i*7 + i>>12)
	}
	for i := range block {
		block[i] = 0xEE // every page written once, so that pageOut can page it out
	}
	pageOut()
	if got := copy(block, src); got != n {
		t.Fatalf("copy moved %d bytes", got)
	}
	pageOut()
	dst := make([]byte, n)
	rtl.CopyMemory(unsafe.Pointer(&dst[0]), unsafe.Pointer(&block[0]), uintptr(n))
	for i := range dst {
		if dst[i] != src[i] {
			t.Fatalf("byte %#x of the block (at %#x): %#x, want %#x", i, base+uintptr(i), dst[i], src[i])
		}
	}
}
