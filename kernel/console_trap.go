// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Serial input: the COM1 receive interrupt drains the UART into a ring;
// read(0) takes from the ring or blocks the thread until the interrupt
// brings data. Output is polled (tamago's uart.Tx waits for the transmit
// holding register), which keeps a bugcheck screen reliable.

package kernel

import (
	"syscall"

	"ntgo/kernel/arch"
)

const consoleRingSize = 4096

var (
	consoleRing       [consoleRingSize]byte
	consoleRead0      uint32 // next byte to hand out
	consoleWrite0     uint32 // next free slot
	consoleWaiter     int32  = noThread
	consoleReaderBuf  uintptr
	consoleReaderSize uintptr
)

//go:nosplit
func serialInterrupt() {
	for {
		c, ok := com1.Rx()
		if !ok {
			break
		}
		if consoleWrite0-consoleRead0 < consoleRingSize {
			consoleRing[consoleWrite0%consoleRingSize] = c
			consoleWrite0++
		}
	}
	if consoleWaiter != noThread && consoleWrite0 != consoleRead0 {
		t := consoleWaiter
		consoleWaiter = noThread
		wake(t, consoleTake(consoleReaderBuf, consoleReaderSize))
	}
}

//go:nosplit
func consoleTake(buf, n uintptr) uint64 {
	b := bytesAt(buf, n)
	i := 0
	for i < len(b) && consoleRead0 != consoleWrite0 {
		b[i] = consoleRing[consoleRead0%consoleRingSize]
		consoleRead0++
		i++
	}
	return uint64(i)
}

//go:nosplit
func consoleRead(buf, n uintptr) uintptr {
	if n == 0 {
		return 0
	}
	if consoleRead0 != consoleWrite0 {
		return uintptr(consoleTake(buf, n))
	}
	if consoleWaiter != noThread {
		return errno(syscall.EAGAIN)
	}
	consoleWaiter = kpcr0.Current
	consoleReaderBuf, consoleReaderSize = buf, n
	block(waitConsole, 0, 0)
	return 0
}

// serialFlush waits until the UART has sent everything.
//
//go:nosplit
func serialFlush() {
	const lsr, lsrTEMT = 5, 1 << 6
	for i := 0; i < 1_000_000 && arch.In8(com1Base+lsr)&lsrTEMT == 0; i++ {
	}
}
