package kernel

import (
	"fmt"
	"runtime"
	"unsafe"

	"ntgo/kernel/console"
	"ntgo/kernel/vf"
	"ntgo/mm"
	"ntgo/mm/pfn"
	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
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
	bugcheck.SetPanicHooks(ke.LowerForPanic, ke.RaiseAfterCatch)
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
	idle.Idle = true
	idle.next = noThread
	idle.FSBase = kpcrs[0].TrapTLS
	idle.Frame.FX = fpuTemplate
	idle.Frame.RIP = uint64(idleLoopAddr())
	idle.Frame.CS = kernelCS
	idle.Frame.SS = kernelSS
	idle.Frame.RFLAGS = arch.RflagsReserved
	idle.Frame.RSP = stackTop(unsafe.Pointer(&idleStack), idleStackSize)

	boot := &threads[bootThread]
	boot.State = threadRunning
	boot.TID = bootThreadTID
	boot.next = noThread
	boot.FSBase = kpcrs[0].TrapTLS
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

// Phase 1 of start-up: once the Go runtime runs package initializers, in
// goroutine context, the kernel brings the system up in this order. Every
// other init function in the kernel, mm and the drivers only registers
// console commands, so this is the whole start-up, whatever the order the
// toolchain runs package inits in (kernel's imports, mm included, are
// initialized before it; drivers, boot and main after).
//
//  1. runtimeStarted: faults are now a goroutine's, spin locks pin;
//  2. mm.InitSystem: system PTEs, pools, dynamic kernel VA (mm/init.go);
//  3. the crash dump's device and PFN copy (needs the PFN database);
//  4. the debugger's live target, the memory manager's views and the
//     kernel's loaded-module entry;
//  5. fault dispatch to goroutines (finds g.paniconfault, and
//     runtime.asyncPreempt with the table of code a page-in may suspend:
//     inpage.go);
//  6. the wall clock from the RTC;
//  7. the bugcheck screen as the goroutine bugcheck handler;
//  8. the trap stacks moved to system PTEs (needs step 2);
//  9. the processors: the ACPI topology, every application processor
//     started with its trap stacks on system PTEs (needs step 8's
//     mm.CreateKernelStack and the clock; smp.go), and GOMAXPROCS set
//     to their count; INSTALL_MORE_MEMORY if they leave too little;
//  10. the console's ^C source and its system-thread guard around every
//     command (IRQL and unhandled panics checked as NT checks a system
//     thread's routine);
//  11. the runtime's crash output on the kernel's crash device, so that a
//     fatal panic or throw ends in a bugcheck (crashoutput_trap.go);
//  12. the NUMA nodes from the SRAT handed to the memory manager (numa.go);
//  13. Driver Verifier's boot-time settings (the verifier= key, kernel/vf),
//     before any driver starts, as NT applies them at boot.
func init() {
	if !arch.Bare() {
		return // a host test binary: no machine to start
	}
	runtimeStarted = true
	mm.InitSystem()
	initCrashDumps()
	initDebugger()
	initFaultDispatch()
	initWallClock()
	initBugcheckScreen()
	installKernelStacks()
	initProcessors()
	runtime.SetDefaultGOMAXPROCS()
	mm.EnsurePagingProcs() // the default is the processors: one is too few to page
	checkMemoryLeft()
	console.SetInterruptSource(ConsoleInterrupts)
	console.SetGuard(runSystemRoutine)
	initCrashOutput()
	initNodes()
	initVerifier()
}

// initVerifier applies the verifier= boot key; a bad key is reported and
// verifies nothing.
func initVerifier() {
	if err := vf.Boot(); err != nil {
		fmt.Printf("ntgo: %s=: %v\n", vf.BootKey, err)
	}
}
