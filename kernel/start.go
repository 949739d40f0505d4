package kernel

import (
	"unsafe"

	"ntgo/kernel/arch"
	"ntgo/kernel/bugcheck"
	"ntgo/kernel/ke"
	"ntgo/mm"
	"ntgo/mm/pfn"
)

// BootInfo is what the boot entry hands the kernel: the physical memory map
// and the kernel image's loaded segments.
type BootInfo struct {
	Ranges  [maxMemRanges]MemRange
	NRanges int
	Image   [MaxImageSegments]mm.ImageSegment
	NImage  int
}

// MaxImageSegments bounds the kernel ELF's PT_LOAD segments (Go's linker
// writes three: text, read-only data, data and bss).
const MaxImageSegments = 4

// MemRange is one entry of the physical memory map.
type MemRange struct {
	Base, Length uint64
	Type         uint32
}

// Memory-map entry types (Multiboot/E820).
const (
	MemUsable   = 1
	MemReserved = 2
	MemACPI     = 3
	MemNVS      = 4
	MemBad      = 5

	maxMemRanges = 64
)

var bootInfo BootInfo

// Start prepares the CPU and the system-call layer so the Go runtime can
// start: it is called by the boot entry, on the boot stack, before the
// runtime's own initialization. Static memory only.
//
//go:nosplit
func Start(info *BootInfo) {
	bootInfo = *info
	initKPCR()
	initDescriptorTables()
	initSyscalls()
	initFPUTemplate()
	bugcheck.SetTrapStop(stopInTrap)
	ke.SetGoroutineContext(inGoroutine)
	for i := 0; i < info.NRanges; i++ {
		r := &info.Ranges[i]
		t := pfn.RangeReserved
		if r.Type == MemUsable {
			t = pfn.RangeFree
		}
		mm.AddBootRange(r.Base, r.Length, t)
	}
	mm.Boot(info.Image[:info.NImage])
	calibrateClock()
	_, _, ecx, _ := arch.CPUID(cpuidFeatures, 0)
	hasRDRAND = ecx&cpuidRDRAND != 0
	initInterrupts()

	idle := &threads[idleThread]
	idle.State = threadBlocked // never queued: dispatched when nothing is ready
	idle.next = noThread
	idle.FSBase = kpcr0.TrapTLS
	idle.Frame.FX = fpuTemplate
	idle.Frame.RIP = uint64(idleLoopAddr())
	idle.Frame.CS = kernelCS
	idle.Frame.SS = kernelSS
	idle.Frame.RFLAGS = rflagsReserved
	idle.Frame.RSP = stackTop(unsafe.Pointer(&idleStack), idleStackSize)

	boot := &threads[bootThread]
	boot.State = threadRunning
	boot.TID = bootThreadTID
	boot.next = noThread
	boot.FSBase = kpcr0.TrapTLS
}

const cpuidRDRAND = 1 << 30

// fpuTemplate is a clean FXSAVE image: x87 and SSE at their reset control
// values, as a new thread's floating-point state.
var fpuTemplate [fxsaveSize]byte

//go:nosplit
func initFPUTemplate() {
	fpuTemplate[fxFCWOffset] = byte(x87FCWDefault & 0xFF)
	fpuTemplate[fxFCWOffset+1] = byte(x87FCWDefault >> 8)
	fpuTemplate[fxMXCSROffset] = byte(mxcsrDefault & 0xFF)
	fpuTemplate[fxMXCSROffset+1] = byte(mxcsrDefault >> 8)
}

// zeroBatch is how many free frames the idle thread zeroes between checks
// for other work (NT's zero page thread, at idle priority).
const zeroBatch = 8

// idleWork runs on the idle thread, interrupts off, before each halt: the
// zero-page thread's work. Between batches it lets pending interrupts in
// (EnableInterrupts returns through STI's one-instruction shadow), so a
// thread that becomes ready preempts the zeroing at once.
//
//go:nosplit
func idleWork() {
	for mm.ZeroPages(zeroBatch) == zeroBatch {
		arch.EnableInterrupts()
		arch.DisableInterrupts()
	}
}

func init() { runtimeStarted = true }

// inGoroutine reports whether a goroutine is running, for ke's spin locks
// (which pin it): the runtime runs, no trap is being handled, and the
// running thread has its own TLS (the idle thread runs on the trap's).
//
//go:nosplit
func inGoroutine() bool {
	return runtimeStarted && kpcr0.TrapDepth == 0 && kpcr0.ThreadFSBase != kpcr0.TrapTLS
}
