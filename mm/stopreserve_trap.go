// Frames held back for a stop.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// A stop that begins in a goroutine (KeBugCheckEx, or a fault the kernel
// hands to its goroutine) prints its screen with Go code that allocates,
// and the Go runtime's memory takes its frames in demand-zero faults. When
// the stop is for want of memory — NO_PAGES_AVAILABLE, a driver holding
// every frame — that code, or a runtime thread that holds a lock it needs
// and waits in a fault for a frame, would wait for ever. So boot holds
// frames off the lists (active, owned by no PTE) — stopReservePages, or a
// 256th of the frames on a machine of less than 64 MiB, which has none to
// spare for its processors — and the kernel gives them back, once, when
// a stop begins (OpenStopReserve).
// NT's bugcheck allocates nothing; ntgo's Go screen cannot promise that.

package mm

import (
	"sync/atomic"

	"ntgo/mm/physmem"
)

// stopReservePages is how many frames the reserve holds: room for the
// screen's symbol lookups and the runtime's spans and stacks behind them.
const stopReservePages = 64

var (
	stopReserve     [stopReservePages]physmem.PFN
	stopReserveHeld int // frames in stopReserve, set at boot
	stopReserveOpen atomic.Bool
)

// holdStopReserve takes the reserve from the free lists at boot, out of
// the frames frames the PFN database describes.
//
//go:nosplit
func holdStopReserve(frames physmem.PFN) {
	for n := stopReserveSize(frames); stopReserveHeld < n; {
		f, ok := PFN.AllocateZeroed(0, 0)
		if !ok {
			return
		}
		stopReserve[stopReserveHeld] = f
		stopReserveHeld++
	}
}

// stopReserveSize is the reserve for a database of frames frames.
//
//go:nosplit
func stopReserveSize(frames physmem.PFN) int { return min(stopReservePages, int(frames/256)) }

// OpenStopReserve gives the reserve's frames back to the free lists, the
// first time it is called: the kernel calls it as a stop begins.
//
//go:nosplit
func OpenStopReserve() {
	if !stopReserveOpen.CompareAndSwap(false, true) {
		return
	}
	for _, f := range stopReserve[:stopReserveHeld] {
		PFN.Free(f, 0)
	}
}
