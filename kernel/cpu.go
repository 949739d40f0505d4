// Descriptor tables and the MSRs that route traps into trap_amd64.s. All of
// this runs at boot before the Go runtime starts, and again on each other
// processor as it starts (smp_trap.go), before it runs anything else (so:
// static memory only, nosplit).
//
// Stacks: interrupts and exceptions run on IST stacks, so an interrupt never
// lands on a goroutine's small stack; page faults have their own IST stack
// because they nest inside system calls and interrupts; double faults, NMIs
// and machine checks have a third. SYSCALL does not switch stacks, so
// syscallEntry switches to the KPCR's syscall stack itself.

package kernel

import (
	"unsafe"

	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

const (
	istInterrupt = 1
	istPageFault = 2
	istCritical  = 3

	interruptStackSize = 32 << 10
	faultStackSize     = 32 << 10
	criticalStackSize  = 16 << 10
	syscallStackSize   = 64 << 10
	idleStackSize      = 16 << 10
)

// Stacks are 16-byte aligned by being arrays of [2]uint64.
var (
	interruptStack [interruptStackSize / 16][2]uint64
	faultStack     [faultStackSize / 16][2]uint64
	criticalStack  [criticalStackSize / 16][2]uint64
	syscallStack   [syscallStackSize / 16][2]uint64
	idleStack      [idleStackSize / 16][2]uint64
)

//go:nosplit
func stackTop(s unsafe.Pointer, size uintptr) uint64 { return uint64(uintptr(s) + size) }

// GDT layout: null, 64-bit code, data, then the 16-byte TSS descriptor.
const (
	gdtCode64   = 0x00AF9A000000FFFF
	gdtData     = 0x00CF92000000FFFF
	tssSelector = 0x18
	tssTypeAvl  = 0x9 // 64-bit TSS, available
	descPresent = 1 << 7
)

// The 64-bit task-state segment (Intel SDM vol. 3, 8.7) is packed, with
// 8-byte fields at 4-byte offsets, so it is kept as bytes.
const (
	tssSize      = 104
	tssIST1      = 0x24
	tssIOMapBase = 0x66
)

// tssSetIST points IST slot n of processor cpu's TSS at top.
//
//go:nosplit
func tssSetIST(cpu uint32, n int, top uint64) {
	t := &tsss[cpu]
	for i := 0; i < 8; i++ {
		t[tssIST1+8*(n-1)+i] = byte(top >> (8 * i))
	}
}

type descTablePtr struct {
	Limit uint16
	Base  uint64
}

// Each processor has its own GDT (its TSS descriptor differs) and TSS (its
// IST stacks); the IDT is shared.
var (
	gdts  [ke.MaximumProcessors][5]uint64
	tsss  [ke.MaximumProcessors][tssSize]byte
	gdtrs [ke.MaximumProcessors][10]byte // packed {limit, base}
	idt   [256][2]uint64
	idtr  [10]byte
)

// vectorStub returns the entry stub of vector v (vectors_amd64.s).
func vectorStub(v int) uintptr

// IDT gate fields (Intel SDM vol. 3, 6.14.1).
const (
	gateInterrupt = 0xE // interrupts stay off in the handler
	gatePresent   = 1 << 7
)

//go:nosplit
func idtGate(handler uintptr, ist uint64) [2]uint64 {
	h := uint64(handler)
	lo := h&0xFFFF | uint64(kernelCS)<<16 | ist<<32 | uint64(gatePresent|gateInterrupt)<<40 | (h>>16&0xFFFF)<<48
	return [2]uint64{lo, h >> 32}
}

//go:nosplit
func packPtr(dst *[10]byte, base uintptr, limit uint16) {
	dst[0], dst[1] = byte(limit), byte(limit>>8)
	for i := 0; i < 8; i++ {
		dst[2+i] = byte(base >> (8 * i))
	}
}

// initDescriptorTables builds the shared IDT and loads the boot
// processor's tables, its IST stacks the boot arrays.
//
//go:nosplit
func initDescriptorTables() {
	tssSetIST(0, istInterrupt, stackTop(unsafe.Pointer(&interruptStack), interruptStackSize))
	tssSetIST(0, istPageFault, stackTop(unsafe.Pointer(&faultStack), faultStackSize))
	tssSetIST(0, istCritical, stackTop(unsafe.Pointer(&criticalStack), criticalStackSize))
	for v := range idt {
		ist := uint64(istInterrupt)
		switch v {
		case vecPageFault:
			ist = istPageFault
		case vecDoubleFault, vecNMI, vecMachineCheck:
			ist = istCritical
		}
		idt[v] = idtGate(vectorStub(v), ist)
	}
	packPtr(&idtr, uintptr(unsafe.Pointer(&idt)), uint16(unsafe.Sizeof(idt)-1))
	loadProcessorTables(0)
}

// loadProcessorTables loads processor cpu's GDT and TSS (its IST slots
// already set) and the shared IDT, on that processor.
//
//go:nosplit
func loadProcessorTables(cpu uint32) {
	t, g := &tsss[cpu], &gdts[cpu]
	t[tssIOMapBase] = tssSize // no I/O permission bitmap
	base := uint64(uintptr(unsafe.Pointer(t)))
	limit := uint64(tssSize - 1)
	g[1] = gdtCode64
	g[2] = gdtData
	g[3] = limit&0xFFFF | (base&0xFFFFFF)<<16 | uint64(descPresent|tssTypeAvl)<<40 | (base>>24&0xFF)<<56
	g[4] = base >> 32
	packPtr(&gdtrs[cpu], uintptr(unsafe.Pointer(g)), uint16(unsafe.Sizeof(*g)-1))
	loadGDT(uintptr(unsafe.Pointer(&gdtrs[cpu])))
	loadTR(tssSelector)
	loadIDT(uintptr(unsafe.Pointer(&idtr)))
}

func loadGDT(gdtr uintptr)
func loadIDT(idtr uintptr)
func loadTR(sel uint16)

// Entry addresses of assembly routines (their ABI0 symbols).
func syscallEntryAddr() uintptr
func idleLoopAddr() uintptr

func resumeFrame(f uintptr)

// MSRs for SYSCALL and the segment bases.
const (
	msrSTAR        = 0xC0000081
	msrLSTAR       = 0xC0000082
	msrFMASK       = 0xC0000084
	msrFSBase      = 0xC0000100
	msrGSBase      = 0xC0000101
	msrKernelGS    = 0xC0000102
	starKernelCS   = 32 // STAR[47:32]: SYSCALL's CS (SS = CS+8)
	fmaskOnSyscall = arch.RflagsIF | arch.RflagsDF | arch.RflagsAC | arch.RflagsTF
)

//go:nosplit
func initSyscalls() {
	arch.WriteMSR(msrSTAR, uint64(kernelCS)<<starKernelCS)
	arch.WriteMSR(msrLSTAR, uint64(syscallEntryAddr()))
	arch.WriteMSR(msrFMASK, fmaskOnSyscall)
}

// The trap g: what -8(FS) yields while in trap context. Its stack bounds and
// stack guard are zero, so the stack check in any function compiled with one
// never calls morestack; trap code must not touch g's other fields.
var (
	trapG   [64]uintptr
	trapTLS [2]uintptr
)

// The trap g and its TLS block are shared by every processor: trap code
// only reads them.
//
//go:nosplit
func initKPCR() {
	trapTLS[0] = uintptr(unsafe.Pointer(&trapG))
	p := &kpcrs[0]
	p.SyscallStack = uintptr(stackTop(unsafe.Pointer(&syscallStack), syscallStackSize))
	p.Current = bootThread
	p.Idle = idleThread
	p.APICID = lapicID()
	loadKPCR(0)
}

// loadKPCR fills the fixed fields of processor cpu's KPCR and points this
// processor's GS at it.
//
//go:nosplit
func loadKPCR(cpu uint32) {
	p := &kpcrs[cpu]
	p.Self = uintptr(unsafe.Pointer(p))
	p.Number = cpu
	p.TrapTLS = uintptr(unsafe.Pointer(&trapTLS[1]))
	p.ThreadFSBase = p.TrapTLS
	p.ArmedDeadline = -1
	arch.WriteMSR(msrGSBase, uint64(p.Self))
	arch.WriteMSR(msrKernelGS, uint64(p.Self))
}
