package pool

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

import "unsafe"

// at is the pointer for foreign address a.
func at(a uintptr) unsafe.Pointer { return unsafe.Add(nil, a) }

func load8(a uintptr) uint8       { return *(*uint8)(at(a)) }
func store8(a uintptr, v uint8)   { *(*uint8)(at(a)) = v }
func load32(a uintptr) uint32     { return *(*uint32)(at(a)) }
func store32(a uintptr, v uint32) { *(*uint32)(at(a)) = v }
func load64(a uintptr) uint64     { return *(*uint64)(at(a)) }
func store64(a uintptr, v uint64) { *(*uint64)(at(a)) = v }

func loadPtr(a uintptr) uintptr     { return *(*uintptr)(at(a)) }
func storePtr(a uintptr, v uintptr) { *(*uintptr)(at(a)) = v }

// bytesAt is the n bytes of foreign memory at a.
func bytesAt(a, n uintptr) []byte { return unsafe.Slice((*byte)(at(a)), n) }
