// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The disk's interrupt service routine: it runs on the interrupt's vector
// (kernel.IoConnectInterrupt) with the register window's address as its
// context, and only quiets the device; the completion goroutine does the
// rest once the kernel has woken it.

package virtioblk

import (
	"sync/atomic"
	"unsafe"
)

// service acknowledges what the device reports in InterruptStatus (a used
// buffer, a configuration change) and claims the interrupt if it reported
// anything: the line is shared by nobody on microvm, but a claim that is
// not the device's would wake the completion goroutine for nothing.
//
//go:nosplit
func service(regs uintptr) bool {
	st := atomic.LoadUint32(mmio(regs + regInterruptStatus))
	st &= interruptUsedBuffer | interruptConfig
	if st == 0 {
		return false
	}
	atomic.StoreUint32(mmio(regs+regInterruptACK), st)
	return true
}

//go:nosplit
func mmio(addr uintptr) *uint32 { return (*uint32)(unsafe.Add(nil, addr)) }
