// The processors: the topology from ACPI (nt/acpi) and the start of every
// application processor (AP) it lists.
//
// Start-up (start.go, after the trap stacks move to system PTEs) reads
// the MADT and SRAT through MapIoSpace. No ACPI, or tables that do not
// decode: one processor, one node, and a boot line saying why. Otherwise
// processors are numbered in MADT order with the boot processor first, and
// the boot processor starts the others one at a time:
//
//   - their trap stacks (interrupt, page fault, critical, system call) and
//     an idle stack come from mm.CreateKernelStack, as the boot
//     processor's do after start-up: system PTEs with a guard page below,
//     so an overflow is the same UNEXPECTED_KERNEL_MODE_TRAP 8, and no
//     static per-processor arrays sized for processors that do not exist;
//   - a real-mode trampoline at trampolineBase (below 1 MiB, where the PFN
//     database never hands out a frame: mm.Boot reserves all of low
//     memory) with its own identity map of the first GiB, which holds the
//     trampoline and the kernel image, takes the processor from the SIPI
//     to long mode and jumps to apEntry (smp_amd64.s), which loads the
//     kernel's CR3;
//   - INIT, then two SIPIs (Intel SDM vol. 3, 9.4.4), through the local
//     APIC; the AP answers on apArrived from apStart (smp_trap.go).
//
// What runs where: every processor runs threads. Each starts in its own
// idle thread (the idle loop: zeroing free pages, then HLT); the shared
// ready queue, under the kernel lock (smp_trap.go), feeds them all, a
// reschedule IPI wakes an idle one when a thread becomes ready, and each
// has its own time slice and LAPIC timer. sched_getaffinity reports every
// started processor, and start-up then resets GOMAXPROCS to that count
// (runtime.SetDefaultGOMAXPROCS: the runtime asked once, before they ran).
// I/O interrupts (the console's) still go to the boot processor.

package kernel

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"github.com/usbarmory/tamago/amd64/lapic"

	"ntgo/mm"
	"ntgo/mm/pte"
	"ntgo/nt/acpi"
	"ntgo/nt/arch"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// topology is the firmware's description; nil without ACPI, topologyNote
// then saying why.
var (
	topology     *acpi.Topology
	topologyNote string
)

// startedProcessors is how many processors run.
func startedProcessors() uint32 { return ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups) }

// ProcessorSummary says how many processors run and where their count
// comes from, for ver.
func ProcessorSummary() string {
	n := startedProcessors()
	s := fmt.Sprintf("%d processor", n)
	if n != 1 {
		s += "s"
	}
	if topology == nil {
		return s + " (" + topologyNote + ")"
	}
	return fmt.Sprintf("%s of %d in the MADT, %d NUMA node(s)", s, len(topology.Processors), topology.Nodes)
}

// readPhysical is acpi.Memory over MapIoSpace.
func readPhysical(pa uint64, n int) ([]byte, error) {
	va := mm.MapIoSpace(pa, uintptr(n), pte.Cached)
	if va == 0 {
		return nil, errors.New("no system PTEs to map it")
	}
	b := make([]byte, n)
	copy(b, unsafe.Slice((*byte)(unsafePointerAt(va)), n))
	mm.UnmapIoSpace(va, uintptr(n))
	return b, nil
}

// initProcessors reads the topology and starts every processor it lists.
func initProcessors() {
	ke.SetActiveProcessors(1)
	t, err := acpi.Read(readPhysical)
	if err == nil && !t.BootFirst(kpcrs[0].APICID) {
		err = fmt.Errorf("the MADT does not list the boot processor (APIC ID %d)", kpcrs[0].APICID)
	}
	if err != nil {
		topologyNote = fmt.Sprintf("%v: one processor, one node", err)
		fmt.Fprintf(os.Stdout, "processors: %s\n", topologyNote)
		return
	}
	topology = t
	kpcrs[0].Node = t.Processors[0].Node
	n := min(len(t.Processors), ke.MaximumProcessors)
	if n < len(t.Processors) {
		fmt.Fprintf(os.Stdout, "processors: %d listed, %d started (ke.MaximumProcessors)\n", len(t.Processors), n)
	}
	if n == 1 {
		return
	}
	if err := writeTrampoline(); err != nil {
		fmt.Fprintf(os.Stdout, "processors: %v: one processor\n", err)
		return
	}
	// Before a second processor runs: shootdowns, and spins that answer
	// them (smp_trap.go).
	onlineMask.Store(1)
	ke.SetIpiSender(sendRequestIPI)
	ke.SetStall(stallProcessors, resumeProcessors)
	for i := 1; i < n; i++ {
		if !mm.EnoughMemory(processorPages) {
			fmt.Fprintf(os.Stdout, "processors: too little memory to start processor %d of %d\n", i, n)
			mm.InstallMoreMemory()
		}
		if err := mm.AddProcessor(i); err != nil {
			fmt.Fprintf(os.Stdout, "processors: processor %d: pool caches: %v\n", i, err)
			return
		}
		if err := startProcessor(uint32(i), t.Processors[i]); errors.Is(err, ntstatus.InsufficientResources) {
			fmt.Fprintf(os.Stdout, "processors: processor %d: %v\n", i, err)
			mm.InstallMoreMemory()
		} else if err != nil {
			fmt.Fprintf(os.Stdout, "processors: processor %d (APIC ID %d): %v; %d run\n", i, t.Processors[i].APICID, err, i)
			return
		}
		ke.SetActiveProcessors(i + 1)
	}
}

// checkMemoryLeft stops the boot with INSTALL_MORE_MEMORY if, with every
// processor running goroutines, the frames available no longer cover the
// pager's reserve (see processorPages).
func checkMemoryLeft() {
	if !mm.EnoughMemory(0) {
		fmt.Fprintf(os.Stdout, "processors: too little memory left with %d processors running\n", startedProcessors())
		mm.InstallMoreMemory()
	}
}

// processorPages is what a processor costs in frames once it runs: its
// trap and idle stacks and the Go runtime's threads and heap growth that
// come with another P (available pages after boot at 64 MiB fell by 62 from
// one processor to two, by 238 from one to four). A processor starts only
// while the frames available leave the pager its reserve and these
// (mm.EnoughMemory), and the boot goes on only if the reserve is left once
// all run goroutines (checkMemoryLeft); otherwise the machine is too small for its processors, and it
// stops with INSTALL_MORE_MEMORY, as NT's boot does on a machine too small
// for it, rather than later with a Go-heap fault that names no cause.
const processorPages = 80

// How long an AP gets to answer: the SDM's 10 ms after INIT and 200 µs
// between SIPIs, then generously long under TCG on a busy host.
const (
	initDelay    = 10 * time.Millisecond
	sipiDelay    = 200 * time.Microsecond
	arrivalLimit = 2 * time.Second
	arrivalPoll  = 100 * time.Microsecond
)

// startProcessor starts processor cpu, APIC p.APICID, and waits for it.
func startProcessor(cpu uint32, p acpi.Processor) error {
	// Its own PML4 (mm/processorroots.go), kept even if it never answers.
	root, err := mm.ProcessorRoot(int(cpu))
	if err != nil {
		return err
	}
	apCR3 = root
	stacks, err := createKernelStacks()
	if err != nil {
		return err
	}
	idle, st := mm.CreateKernelStack(idleStackSize)
	if st.IsError() {
		deleteKernelStacks(stacks[:])
		return fmt.Errorf("idle stack: %w", st)
	}
	idleThread := newIdleThread()
	if idleThread == noThread {
		deleteKernelStacks(stacks[:])
		mm.DeleteKernelStack(idle)
		return errors.New("no free thread-table entry for its idle thread")
	}
	cpuStacks[cpu] = stacks
	useKernelStacks(cpu)
	kp := &kpcrs[cpu]
	kp.APICID, kp.Node, kp.Idle, kp.Current = p.APICID, p.Node, idleThread, idleThread
	apBootCPU = cpu
	apArrived.Store(0)
	tramp := trampoline()
	putSlot(tramp, slotStack, uint64(idle.Top))

	id := int(p.APICID)
	sendICR(uint32(id), lapic.ICR_DLV_INIT|1<<lapic.ICR_INIT)
	time.Sleep(initDelay)
	for range 2 {
		sendICR(uint32(id), lapic.ICR_DLV_SIPI|1<<lapic.ICR_INIT|trampolineBase>>12)
		time.Sleep(sipiDelay)
		if apArrived.Load() == cpu {
			return nil
		}
	}
	for end := time.Now().Add(arrivalLimit); time.Now().Before(end); time.Sleep(arrivalPoll) {
		if apArrived.Load() == cpu {
			return nil
		}
	}
	return fmt.Errorf("no answer to INIT-SIPI-SIPI in %v", arrivalLimit)
}

// The trampoline's pages: code and data, then its identity map (PML4,
// PDPT, one PD of 2 MiB pages: the first GiB).
const (
	trampolineBase  = 0x70000
	trampolinePML4  = trampolineBase + 0x1000
	trampolinePDPT  = trampolineBase + 0x2000
	trampolinePD    = trampolineBase + 0x3000
	trampolineBytes = 0x4000
	identityPages   = 512
	largePage       = 1 << 21
	ptePresentWrite = 0x3
	ptePageSize     = 0x80
	cr4PAE          = 1 << 5
	eferLMA         = 1 << 10
	msrEFER         = 0xC0000080
)

// Offsets in the trampoline page: the code's three parts, its GDT and GDTR,
// and the slots the kernel fills.
const (
	offProtected = 0x20
	offLong      = 0x60
	offGDT       = 0x80
	offGDTR      = 0xA0
	slotEFER     = 0xB0 // uint32
	slotCR0      = 0xB4 // uint32
	slotStack    = 0xB8 // uint64: the idle stack's top
	slotEntry    = 0xC0 // uint64: apEntry
)

// The trampoline GDT: null, 32-bit code (0x08), data (0x10), 64-bit code
// (0x18).
var trampolineGDT = [4]uint64{0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF, 0x00AF9A000000FFFF}

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// trampolineCode is the AP's path from the SIPI (real mode, CS =
// trampolineBase>>4, IP = 0) to apEntry, one instruction a line.
func trampolineCode() (real, protected, long []byte) {
	b := uint32(trampolineBase)
	real = cat(
		[]byte{0xFA},             // cli
		[]byte{0x8C, 0xC8},       // mov ax, cs
		[]byte{0x8E, 0xD8},       // mov ds, ax
		[]byte{0x0F, 0x01, 0x16}, // lgdt [offGDTR]
		[]byte{offGDTR, 0},
		[]byte{0x0F, 0x20, 0xC0},                                  // mov eax, cr0
		[]byte{0x66, 0x83, 0xC8, 0x01},                            // or eax, 1 (PE)
		[]byte{0x0F, 0x22, 0xC0},                                  // mov cr0, eax
		[]byte{0x66, 0xEA}, le32(b+offProtected), []byte{0x08, 0}, // jmp dword 0x08:protected
	)
	protected = cat(
		[]byte{0x66, 0xB8, 0x10, 0x00}, // mov ax, 0x10
		[]byte{0x8E, 0xD8},             // mov ds, ax
		[]byte{0x8E, 0xC0},             // mov es, ax
		[]byte{0x8E, 0xD0},             // mov ss, ax
		[]byte{0xB8}, le32(cr4PAE),     // mov eax, CR4.PAE
		[]byte{0x0F, 0x22, 0xE0},           // mov cr4, eax
		[]byte{0xB8}, le32(trampolinePML4), // mov eax, PML4
		[]byte{0x0F, 0x22, 0xD8},    // mov cr3, eax
		[]byte{0xB9}, le32(msrEFER), // mov ecx, IA32_EFER
		[]byte{0xA1}, le32(b+slotEFER), // mov eax, [EFER slot]
		[]byte{0x31, 0xD2},            // xor edx, edx
		[]byte{0x0F, 0x30},            // wrmsr
		[]byte{0xA1}, le32(b+slotCR0), // mov eax, [CR0 slot]
		[]byte{0x0F, 0x22, 0xC0},                       // mov cr0, eax: paging, long mode active
		[]byte{0xEA}, le32(b+offLong), []byte{0x18, 0}, // jmp 0x18:long
	)
	long = cat(
		[]byte{0x48, 0x8B, 0x24, 0x25}, le32(b+slotStack), // mov rsp, [stack slot]
		[]byte{0x48, 0x8B, 0x04, 0x25}, le32(b+slotEntry), // mov rax, [entry slot]
		[]byte{0xFF, 0xE0}, // jmp rax
	)
	return real, protected, long
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// trampoline returns the trampoline's pages, mapped once by
// writeTrampoline.
func trampoline() []byte { return trampolineMap }

var trampolineMap []byte

// writeTrampoline maps the trampoline's pages and writes its code, GDT,
// identity map and the boot processor's control-register values.
func writeTrampoline() error {
	va := mm.MapIoSpace(trampolineBase, trampolineBytes, pte.Cached)
	if va == 0 {
		return errors.New("no system PTEs to map the AP trampoline")
	}
	t := unsafe.Slice((*byte)(unsafePointerAt(va)), trampolineBytes)
	clear(t)
	real, protected, long := trampolineCode()
	if len(real) > offProtected || len(protected) > offLong-offProtected || len(long) > offGDT-offLong {
		return errors.New("AP trampoline code overlaps its data")
	}
	copy(t, real)
	copy(t[offProtected:], protected)
	copy(t[offLong:], long)
	for i, d := range trampolineGDT {
		putSlot(t, offGDT+8*i, d)
	}
	t[offGDTR] = byte(len(trampolineGDT)*8 - 1)
	copy(t[offGDTR+2:], le32(trampolineBase+offGDT))
	copy(t[slotEFER:], le32(uint32(arch.ReadMSR(msrEFER)&^eferLMA)))
	copy(t[slotCR0:], le32(uint32(arch.ReadCR0())))
	putSlot(t, slotEntry, uint64(apEntryAddr()))
	putSlot(t, trampolinePML4-trampolineBase, trampolinePDPT|ptePresentWrite)
	putSlot(t, trampolinePDPT-trampolineBase, trampolinePD|ptePresentWrite)
	for i := range identityPages {
		putSlot(t, trampolinePD-trampolineBase+8*i, uint64(i)*largePage|ptePresentWrite|ptePageSize)
	}
	apCR4 = arch.ReadCR4()
	trampolineMap = t
	return nil
}

func putSlot(t []byte, off int, v uint64) {
	for i := range 8 {
		t[off+i] = byte(v >> (8 * i))
	}
}
