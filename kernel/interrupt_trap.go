// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// A connected device interrupt (interrupt.go): the driver's service routine,
// then, if it claimed the interrupt, the count bumped and its waiters woken.

package kernel

import (
	"sync/atomic"
	"unsafe"
)

// The vectors IoConnectInterrupt hands out, above the platform's own.
const (
	vecDeviceFirst = 0x40
	deviceVectors  = 16
)

//go:nosplit
func deviceInterrupt(i uint64) {
	in := &connected[i]
	if in.service == nil {
		return
	}
	if !in.service(in.context) {
		in.spurious++
		return
	}
	atomic.AddUint32(&in.count, 1)
	sysFutexCall(uintptr(unsafe.Pointer(&in.count)), futexWake, maxThreads, 0)
}
