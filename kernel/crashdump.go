// Crash dumps.
//
// With crashdump=com2 on the command line, a bugcheck raised in goroutine
// context (screen.go) captures a crash dump (kernel/kd/dump) before it
// prints the screen, and writes it to COM2 after: the launcher's -dump FILE
// connects COM2 to FILE, and cmd/ntgo-dump reads it on the host. The
// screen also shows !vm as the dump holds it, so that what the viewer
// prints can be checked against what the kernel saw.
//
// The capture starts in the stall window (stallwindow_trap.go), before the
// bugcheck path allocates anything: with the other processors held, the
// PFN database, the !vm counters and the thread table are copied into
// static storage (boot reserves the database's copy, mm.ReserveCrashDump),
// so that copying changes nothing it copies. The rest (pool, page tables,
// modules, code) is captured once they run again, and allocates; the Crash
// itself is static. mm hands back its parts as plain data
// (mm.CrashParts); the kd layer's dump package writes the format. Every
// piece is read without the memory manager's locks, which the failing code
// may hold, and memory only through liveMemory, which refuses pages that
// are not present. COM2 is written polled, with
// interrupts off: nothing else runs between the screen and the power-off.
//
// A bugcheck in trap context (stop_trap.go) writes no dump: its stop may
// not allocate, and a dump's capture does.

package kernel

import (
	"fmt"
	"os"
	"strings"

	"ntgo/kernel/kd/dump"
	"ntgo/kernel/ldr"
	"ntgo/mm"
	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
)

var (
	// crashDumps is set at boot when dumps are enabled.
	crashDumps bool
	// crash is the dump being captured: static, so capturing allocates
	// nothing before the PFN database is copied.
	crash dump.Crash
)

// initCrashDumps enables dumps when the command line asks for them (not in
// a test binary, whose bugchecks tests catch).
func initCrashDumps() {
	if testBinary() {
		return
	}
	switch device := os.Getenv(dump.KernelVar); {
	case device == "":
	case device != dump.KernelCOM2:
		fmt.Printf("%s=%s: no such dump device (%s is the one); no crash dumps\n", dump.KernelVar, device, dump.KernelCOM2)
	case !uartPresent(com2Base):
		fmt.Printf("%s=%s: no UART at %#x; no crash dumps\n", dump.KernelVar, device, com2Base)
	default:
		com2.Init()
		mm.ReserveCrashDump()
		crashDumps = true
	}
}

// stoppedThread marks the thread that bugchecked in the dump's !thread.
const stoppedThread = "(stopped here: k shows its stack)"

// captureCrash captures the dump of the bugcheck r, or returns nil when
// dumps are off. The caller adds the thread context.
func captureCrash(r *bugcheck.Record) *dump.Crash {
	if !crashDumps {
		return nil
	}
	parts := mm.CaptureCrash(liveMemory{}.Read)
	crash.Record = *r
	crash.PFN, crash.Counters, crash.Reservations = parts.PFN, &parts.Counters, parts.Reservations
	crash.PoolTags, crash.Pool = parts.PoolTags, parts.Pool
	crash.Secure = parts.Secure
	crash.Tables = dump.CaptureTables(uint64(arch.ReadCR3()), liveMemory{})
	if mods, ok := ldr.TryModules(); ok {
		crash.Modules = mods
	}
	crash.Threads = threadRows(&crashThreads, crashCurrent, crashThreadsAt, stoppedThread)
	crash.Code = dump.CaptureCode(r.PC, liveMemory{})
	return &crash
}

// writeCrashDump prints !vm of c and writes c to COM2.
func writeCrashDump(c *dump.Crash) {
	var b strings.Builder
	if r, ok := c.VMReport(); ok {
		b.WriteString("\nMEMORY AT THE STOP (!vm of the crash dump):\n")
		r.Write(&b)
	}
	b.WriteString("Writing crash dump to COM2... ")
	serialWriteString(b.String())
	var port dumpPort
	dump.Write(&port, c) // fails only if port does, which it cannot
	serialWriteString(fmt.Sprintf("done, %d bytes\n", port.written))
}

// dumpPort is COM2 as an io.Writer that counts what it sends (tamago's
// UART.Write returns the last index written, not the count).
type dumpPort struct{ written int }

func (p *dumpPort) Write(b []byte) (int, error) {
	for _, c := range b {
		uartTx(com2Base, c)
	}
	p.written += len(b)
	return len(b), nil
}

// uartPresent reports whether a 16550 answers at base.
func uartPresent(base uint16) bool {
	arch.Out8(base+uartSCR, uartSCRProbe)
	return arch.In8(base+uartSCR) == uartSCRProbe
}
