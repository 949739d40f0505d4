package kernel

import "unsafe"

// Trap context: nosplit, no allocation.
//
// The boot frame allocator: a bitmap over physical memory below 4 GiB (all
// of it identity-mapped by the boot page tables, so a frame's contents are
// reached at its physical address). It serves page-table pages and
// demand-zero faults until the PFN database (mm/pfn) takes over.

const (
	pageShift   = 12
	pageSize    = 1 << pageShift
	maxFrames   = 1 << 20 // 4 GiB of 4 KiB frames
	bitsPerWord = 64
)

var (
	frameBitmap [maxFrames / bitsPerWord]uint64 // 1 = free
	framesFree  uint64
	framesTotal uint64
	frameHint   uint64
)

// addFreeFrames marks [start, end) free.
//
//go:nosplit
func addFreeFrames(start, end uint64) {
	for f := start; f < end && f < maxFrames; f++ {
		if frameBitmap[f/bitsPerWord]&(1<<(f%bitsPerWord)) == 0 {
			frameBitmap[f/bitsPerWord] |= 1 << (f % bitsPerWord)
			framesFree++
			framesTotal++
		}
	}
}

// allocFrame returns a zeroed free frame, or 0 when memory is exhausted.
//
//go:nosplit
func allocFrame() uint64 {
	words := uint64(len(frameBitmap))
	for i := uint64(0); i < words; i++ {
		w := (frameHint + i) % words
		if frameBitmap[w] == 0 {
			continue
		}
		bit := uint64(trailingZeros64(frameBitmap[w]))
		frameBitmap[w] &^= 1 << bit
		framesFree--
		frameHint = w
		f := w*bitsPerWord + bit
		clear((*[pageSize]byte)(unsafePointerAt(uintptr(f << pageShift)))[:])
		return f
	}
	return 0
}

//go:nosplit
func freeFrame(f uint64) {
	frameBitmap[f/bitsPerWord] |= 1 << (f % bitsPerWord)
	framesFree++
}

//go:nosplit
func trailingZeros64(x uint64) int {
	n := 0
	for x&1 == 0 {
		x >>= 1
		n++
	}
	return n
}

// unsafePointerAt turns an address that never was a Go pointer (a physical
// address, a caller's buffer passed as a system-call argument) into a
// pointer; the indirection keeps vet's unsafe.Pointer check for real misuse.
//
//go:nosplit
func unsafePointerAt(addr uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}
