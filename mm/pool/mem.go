// Foreign memory.
//
// Pool pages are not Go memory: the collector never scans them and never
// moves them, so the allocator reaches them through raw addresses (uintptr)
// and converts to a pointer only for the single load or store it is doing.
// Nothing stored in pool memory is a Go pointer; links, owners and cookies
// are all uintptr or uint64 values.
//
// The conversion goes through unsafe.Add(nil, a) rather than
// unsafe.Pointer(a): both produce the same pointer, but the former is the
// form vet accepts for an address that did not come from a Go object.

package pool

import "unsafe"

// Bits in a byte, and the mask of one byte, for fields packed in words.
const (
	byteBits = 8
	byteMask = 1<<byteBits - 1
)

// Ptr is the pointer for pool address a (what mm/ex hands drivers).
func Ptr(a uintptr) unsafe.Pointer { return unsafe.Add(nil, a) }

func load8(a uintptr) uint8       { return *(*uint8)(Ptr(a)) }
func store8(a uintptr, v uint8)   { *(*uint8)(Ptr(a)) = v }
func load16(a uintptr) uint16     { return *(*uint16)(Ptr(a)) }
func load32(a uintptr) uint32     { return *(*uint32)(Ptr(a)) }
func store32(a uintptr, v uint32) { *(*uint32)(Ptr(a)) = v }
func load64(a uintptr) uint64     { return *(*uint64)(Ptr(a)) }
func store64(a uintptr, v uint64) { *(*uint64)(Ptr(a)) = v }

func loadPtr(a uintptr) uintptr     { return *(*uintptr)(Ptr(a)) }
func storePtr(a uintptr, v uintptr) { *(*uintptr)(Ptr(a)) = v }

// bytesAt is the n bytes of foreign memory at a.
func bytesAt(a, n uintptr) []byte { return unsafe.Slice((*byte)(Ptr(a)), n) }

// pageAt is the page of foreign memory at a, which must be page-aligned.
func pageAt(a uintptr) *[pageSize]byte { return (*[pageSize]byte)(Ptr(a)) }
