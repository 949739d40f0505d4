package kernel

import (
	"unsafe"

	"ntgo/kernel/arch"
)

// BootInfo is what the boot entry hands the kernel: the physical memory map,
// the command line, and where the kernel image lies.
type BootInfo struct {
	Ranges     [maxMemRanges]MemRange
	NRanges    int
	ImageStart uintptr
	ImageEnd   uintptr
}

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

// lowMemoryEnd: frames below 1 MiB belong to firmware and the boot page
// tables; the kernel never hands them out.
const lowMemoryEnd = 1 << 20

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
	for i := 0; i < info.NRanges; i++ {
		r := &info.Ranges[i]
		if r.Type != MemUsable {
			continue
		}
		start, end := r.Base, r.Base+r.Length
		start = max(start, lowMemoryEnd)
		img0, img1 := uint64(info.ImageStart), uint64(info.ImageEnd)
		if start < img1 && img0 < end { // split around the image
			addFreeFrames((start+pageSize-1)>>pageShift, img0>>pageShift)
			start = img1
		}
		if start < end {
			addFreeFrames((start+pageSize-1)>>pageShift, end>>pageShift)
		}
	}
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

// idleWork runs on the idle thread between halts.
//
//go:nosplit
func idleWork() {}
