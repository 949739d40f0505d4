// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The disk's interrupt service routines, one per transport: each runs on the interrupt's vector
// (kernel.IoConnectInterrupt) with a register address as its context, and
// only quiets the device; the completion goroutine does the
// rest once the kernel has woken it.

package virtioblk

import (
	"sync/atomic"
	"unsafe"
)

// serviceMMIO acknowledges what a virtio-mmio device reports in
// InterruptStatus (a used buffer, a configuration change) and claims the
// interrupt if it reported anything: a claim that is not the device's
// would wake its requesters for nothing.
//
//go:nosplit
func serviceMMIO(regs uintptr) bool {
	st := atomic.LoadUint32(mmio(regs + regInterruptStatus))
	st &= interruptUsedBuffer | interruptConfig
	if st == 0 {
		return false
	}
	atomic.StoreUint32(mmio(regs+regInterruptACK), st)
	return true
}

// servicePCI reads a virtio-pci device's ISR status byte, which
// acknowledges the interrupt (4.1.4.5), and claims it if a bit was set:
// an INTx line may be shared with other functions.
//
//go:nosplit
func servicePCI(isr uintptr) bool {
	return *(*uint8)(unsafe.Add(nil, isr))&(interruptUsedBuffer|interruptConfig) != 0
}

//go:nosplit
func mmio(addr uintptr) *uint32 { return (*uint32)(unsafe.Add(nil, addr)) }
