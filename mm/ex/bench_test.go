package ex

import (
	"testing"

	"ntgo/mm/pool"
)

const benchBytes = 64

// BenchmarkNPagedLookasideAllocateFree is an ExAllocateFromNPagedLookasideList
// and ExFreeToNPagedLookasideList pair, the cache hit every driver hopes for.
func BenchmarkNPagedLookasideAllocateFree(b *testing.B) {
	setup(b)
	var l NPagedLookasideList
	InitializeNPagedLookasideList(&l, nil, nil, 0, benchBytes, tagEx, 0)
	defer DeleteNPagedLookasideList(&l)
	for b.Loop() {
		FreeToNPagedLookasideList(&l, AllocateFromNPagedLookasideList(&l))
	}
}

// BenchmarkLookasideListExAllocateFree is the same pair through
// LOOKASIDE_LIST_EX over paged pool (which adds the IRQL check).
func BenchmarkLookasideListExAllocateFree(b *testing.B) {
	setup(b)
	var l LookasideListEx
	InitializeLookasideListEx(&l, nil, nil, pool.PagedPool, 0, benchBytes, tagEx, 0)
	defer DeleteLookasideListEx(&l)
	for b.Loop() {
		FreeToLookasideListEx(&l, AllocateFromLookasideListEx(&l))
	}
}

var heapSink *[benchBytes]byte

// BenchmarkGoNew64 is the Go heap's new of the same size, for comparison.
func BenchmarkGoNew64(b *testing.B) {
	for b.Loop() {
		heapSink = new([benchBytes]byte)
	}
}
