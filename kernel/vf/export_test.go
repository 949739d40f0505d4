package vf

import (
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/pool"
)

// AllocateFromVf allocates from package vf's own code: a caller that is no
// verified driver's.
//
//go:noinline
func AllocateFromVf(tag pool.Tag) unsafe.Pointer {
	return ex.AllocatePoolWithTag(pool.NonPagedPoolNx, 64, tag)
}

// Parse is parse, for the external tests.
var Parse = parse

// FreeFromVf frees from package vf's own code.
//
//go:noinline
func FreeFromVf(p unsafe.Pointer, tag pool.Tag) { ex.FreePoolWithTag(p, tag) }
