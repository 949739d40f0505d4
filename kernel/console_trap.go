// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Serial input: the COM1 receive interrupt moves bytes from the UART into a
// ring; read(0) takes from the ring or blocks the thread until the interrupt
// brings data. Output is polled (tamago's uart.Tx waits for the transmit
// holding register), which keeps a bugcheck screen reliable.
//
// No input is dropped: the interrupt takes only as many bytes as the ring
// has room for. When the ring is full it turns the UART's receive
// interrupt off and leaves the next byte in the UART, whose receive buffer
// stays full, so QEMU stops reading its own input (the host's pipe or
// terminal) until the reader has taken half the ring and consoleTake turns
// the interrupt back on. Bytes the UART itself loses (a receive overrun,
// on hardware that sends faster than the interrupt is serviced) are
// counted from the line status register and reported on the console by the
// next read.
//
// ^C bytes go into the ring like any other (the line editor discards the
// line on them) and are also counted as they arrive, so a running command
// can see them (console.Interrupted) before anyone reads the ring; a ^C
// still waiting in the UART behind a full ring (piped input) is seen when
// it arrives, like the bytes before it.
//
// All of it runs with interrupts off (the serial interrupt, and read(0) in
// the system-call handler), which is the lock over the ring's state.

package kernel

import (
	"sync/atomic"
	"syscall"

	"ntgo/nt/arch"
)

const consoleRingSize = 4096

// consoleResume is how much room the ring must have before the receive
// interrupt goes back on, so a held UART is not resumed for a byte at a time.
const consoleResume = consoleRingSize / 2

const asciiCtrlC = 0x03

var (
	consoleRing       [consoleRingSize]byte
	consoleRead0      uint32 // next byte to hand out
	consoleWrite0     uint32 // next free slot
	consoleWaiter     int32  = noThread
	consoleReaderBuf  uintptr
	consoleReaderSize uintptr
	consoleHeld       bool   // receive interrupt off: the ring is full
	consoleCtrlC      uint64 // ^C bytes received, ever
	consoleOverruns   uint64 // UART receive overruns seen, ever
	consoleReported   uint64 // overruns already reported on the console
)

//go:nosplit
func serialInterrupt() {
	for consoleWrite0-consoleRead0 < consoleRingSize {
		lsr := arch.In8(com1Base + uartLSR)
		if lsr&uartLSROverrun != 0 {
			consoleOverruns++
		}
		if lsr&uartLSRData == 0 {
			break
		}
		c := arch.In8(com1Base)
		if c == asciiCtrlC {
			atomic.AddUint64(&consoleCtrlC, 1)
		}
		consoleRing[consoleWrite0%consoleRingSize] = c
		consoleWrite0++
	}
	if consoleWrite0-consoleRead0 == consoleRingSize {
		arch.Out8(com1Base+uartIER, 0)
		consoleHeld = true
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
	if consoleHeld && consoleRingSize-(consoleWrite0-consoleRead0) >= consoleResume {
		consoleHeld = false
		arch.Out8(com1Base+uartIER, uartIERRxAvail)
	}
	return uint64(i)
}

//go:nosplit
func consoleRead(buf, n uintptr) uintptr {
	if n == 0 {
		return 0
	}
	reportOverruns()
	if consoleRead0 != consoleWrite0 {
		return uintptr(consoleTake(buf, n))
	}
	if consoleWaiter != noThread {
		return errno(syscall.EAGAIN)
	}
	consoleWaiter = currentKPCR().Current
	consoleReaderBuf, consoleReaderSize = buf, n
	block(waitConsole, 0, 0)
	return 0
}

// reportOverruns prints a line for receive overruns not yet reported.
//
//go:nosplit
func reportOverruns() {
	if consoleOverruns == consoleReported {
		return
	}
	serialWriteString("\nserial: console input lost (UART receive overrun, ")
	printDec(consoleOverruns - consoleReported)
	serialWriteString(" times)\n")
	consoleReported = consoleOverruns
}

// ConsoleInterrupts is how many ^C the console has received since boot.
//
//go:nosplit
func ConsoleInterrupts() uint64 {
	return atomic.LoadUint64(&consoleCtrlC)
}

// serialFlush waits until the UART has sent everything.
//
//go:nosplit
func serialFlush() {
	for i := 0; i < 1_000_000 && arch.In8(com1Base+uartLSR)&uartLSREmpty == 0; i++ {
	}
}
