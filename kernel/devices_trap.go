// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The platform devices: the serial console, the LAPIC and I/O APIC, the
// debug-exit port. Trap handlers write the console, acknowledge interrupts
// and power off.

package kernel

import (
	"github.com/usbarmory/tamago/amd64/lapic"
	"github.com/usbarmory/tamago/soc/intel/ioapic"
	"github.com/usbarmory/tamago/soc/intel/uart"

	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
)

// The platform devices, at the addresses QEMU's pc and microvm machines use.
// Their registers are reached through tamago's drivers; the few registers
// those drivers do not cover are named here.
const (
	com1Base      = 0x3F8
	com1IRQ       = 4
	com2Base      = 0x2F8 // the crash-dump port (crashdump.go), polled
	lapicBase     = 0xFEE00000
	ioapicBase    = 0xFEC00000
	debugExitPort = 0xF4 // QEMU isa-debug-exit: exits with status (v<<1)|1
	pic1Data      = 0x21
	pic2Data      = 0xA1
	picMaskAll    = 0xFF
)

// 16550 registers beyond tamago's uart: interrupt enable; the line status
// (receive data, overrun, transmitter empty); and the scratch register,
// which keeps what is written to it where a UART answers (an absent port
// reads back all ones). The FIFOs stay off, so the UART holds one received
// byte and QEMU delivers the next only when the kernel has taken it.
const (
	uartIER        = 1
	uartIERRxAvail = 1 << 0
	uartLSR        = 5
	uartLSRData    = 1 << 0
	uartLSROverrun = 1 << 1
	uartLSREmpty   = 1 << 6 // transmitter empty: everything sent
	uartSCR        = 7
	uartSCRProbe   = 0x5A
)

// LAPIC timer registers beyond tamago's lapic.
const (
	lapicTimerInitial = 0x380
	lapicTimerCurrent = 0x390
	lapicTimerDivide  = 0x3E0
	lapicDivideBy1    = 0xB
	lapicLVTMasked    = 1 << 16
	lapicSVR          = 0xF0
	lapicIDRegister   = 0x20
)

var (
	com1  = uart.UART{Index: 1, Base: com1Base}
	com2  = uart.UART{Index: 2, Base: com2Base}
	apic  = lapic.LAPIC{Base: lapicBase}
	ioapc = ioapic.IOAPIC{Index: 0, Base: ioapicBase}
)

//go:nosplit
func mmio32(addr uintptr) *uint32 { return (*uint32)(unsafePointerAt(addr)) }

// serialWrite sends b to COM1, turning \n into \r\n for terminals.
//
//go:nosplit
func serialWrite(b []byte) {
	for _, c := range b {
		if c == '\n' {
			com1Tx('\r')
		}
		com1Tx(c)
	}
}

// uartTx sends c on the 16550 at base, polled, as tamago's UART.Tx does;
// but with no stack check, which a goroutine may not reach once the
// other processors are frozen (finishStop).
//
//go:nosplit
func uartTx(base uint16, c byte) { arch.PolledOut8(base+uart.LSR, 1<<uart.LSR_THRE, c, base+uart.THR) }

// com1Tx sends c on the console's port.
//
//go:nosplit
func com1Tx(c byte) { uartTx(com1Base, c) }

//go:nosplit
//go:noinline
func serialWriteString(s string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			com1Tx('\r')
		}
		com1Tx(s[i])
	}
}

//go:nosplit
func lapicEOI() { apic.ClearInterrupt() }

// powerOff ends the QEMU run with the given status: the exit record on the
// status channel (bugcheck/channel.go), then isa-debug-exit.
//
//go:nosplit
func powerOff(status uint8) {
	powerOffWith(bugcheck.ExitRecord{Status: status})
}

// powerOffBugcheck ends the run after bugcheck code, with its status.
//
//go:nosplit
func powerOffBugcheck(code bugcheck.Code) {
	powerOffWith(bugcheck.ExitRecord{Status: code.ExitStatus(), Bugcheck: true, Code: code})
}

//go:nosplit
func powerOffWith(rec bugcheck.ExitRecord) {
	var line [bugcheck.RecordMax]byte
	n := rec.Encode(&line)
	for i := 0; i < n && i < len(line); i++ {
		arch.Out8(bugcheck.ChannelPort, line[i])
	}
	// QEMU exits with (status<<1)|1; the launcher reads the record instead.
	arch.Out8(debugExitPort, rec.Status)
	// No debug-exit device: stop here.
	for {
		arch.DisableInterrupts()
		haltForever()
	}
}

// MarkBooted writes the status channel's boot marker: the boot entry calls
// it first, before the Go runtime, so the launcher knows the kernel ran.
//
//go:nosplit
func MarkBooted() {
	for i := 0; i < len(bugcheck.BootMarker); i++ {
		arch.Out8(bugcheck.ChannelPort, bugcheck.BootMarker[i])
	}
}

func haltForever()

// initInterrupts masks the legacy PICs, enables the LAPIC with the timer on
// vecTimer, routes COM1's IRQ through the IOAPIC and enables receive
// interrupts on the UART.
//
//go:nosplit
func initInterrupts() {
	arch.Out8(pic1Data, picMaskAll)
	arch.Out8(pic2Data, picMaskAll)
	*mmio32(lapicBase + lapicSVR) = vecSpurious
	apic.Enable()
	*mmio32(lapicBase + lapicTimerDivide) = lapicDivideBy1
	apic.SetTimer(vecTimer, lapic.TIMER_MODE_ONE_SHOT)
	calibrateLAPIC()
	com1.Init()
	arch.Out8(com1Base+uartIER, uartIERRxAvail)
	ioapc.EnableInterrupt(com1IRQ, vecSerial)
}

// PowerOff ends the run with status (see powerOff).
//
//go:nosplit
func PowerOff(status uint8) {
	serialFlush()
	powerOff(status)
}

// PowerOffBugcheck ends the run after bugcheck code (see powerOffBugcheck).
//
//go:nosplit
func PowerOffBugcheck(code bugcheck.Code) {
	serialFlush()
	powerOffBugcheck(code)
}
