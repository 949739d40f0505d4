// The per-CPU kernel stacks on system PTEs.
//
// Traps run on four per-CPU stacks (cpu.go): the interrupt, page-fault and
// critical IST stacks and the system-call stack. Until the memory manager
// exists they are arrays in the kernel image (the boot stacks, which carry
// the Go runtime's start-up). Start-up (start.go) then replaces each
// with a stack made by mm.CreateKernelStack: resident pages in the system
// PTE region with an unmapped guard page below, so a trap handler that runs
// its stack down faults on the guard, and the page-fault handler
// (stackguard_trap.go) stops with UNEXPECTED_KERNEL_MODE_TRAP 8, the double
// fault NT reports for a kernel stack overflow, instead of corrupting the
// memory below. The idle thread keeps its boot stack: it is never entered
// again from the top, and its loop uses a few words.
//
// Every processor has its own set (cpuStacks). The boot processor's are
// written once here, in goroutine context, before any trap can read them as
// anything but the boot stacks; another processor's are made before it
// starts (smp.go), and read in trap context afterwards.

package kernel

import (
	"fmt"
	"io"

	"ntgo/kernel/kd"
	"ntgo/mm"
	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// kernelStack describes one of each processor's trap stacks.
type kernelStack struct {
	name string
	ist  int     // TSS IST slot, or 0 for the system-call stack
	size uintptr // bytes, as the boot stack
}

// cpuStacks[n] are processor n's trap stacks on system PTEs (zero for the
// boot processor until installKernelStacks: it runs on the boot arrays).
var cpuStacks [ke.MaximumProcessors][numKernelStacks]mm.KernelStack

// The stacks, in the order !pcr lists them.
const (
	stackInterrupt = iota
	stackPageFault
	stackCritical
	stackSyscall
	numKernelStacks
)

var kernelStacks = [numKernelStacks]kernelStack{
	stackInterrupt: {name: "interrupt", ist: istInterrupt, size: interruptStackSize},
	stackPageFault: {name: "page fault", ist: istPageFault, size: faultStackSize},
	stackCritical:  {name: "critical (#DF, NMI, #MC)", ist: istCritical, size: criticalStackSize},
	stackSyscall:   {name: "system call", size: syscallStackSize},
}

// OverflowInterruptStack runs the interrupt stack into its guard page, as
// a runaway interrupt handler would: the fault on the guard stops the
// system with UNEXPECTED_KERNEL_MODE_TRAP 8. It does not return. It is the
// trigger drivers/notmyfault's stack-overflow calls.
func OverflowInterruptStack() {
	pushUntilFault(cpuStacks[ke.CurrentProcessorNumber()][stackInterrupt].Base + stackOverflowRunway)
}

// stackOverflowRunway is how far above its limit OverflowInterruptStack starts
// pushing: a few pushes before the guard page.
const stackOverflowRunway = 64

// pushUntilFault disables interrupts, moves RSP to sp and pushes until a
// push faults (stacks_amd64.s). It does not return.
func pushUntilFault(sp uintptr)

// createKernelStacks makes one processor's set of trap stacks.
func createKernelStacks() ([numKernelStacks]mm.KernelStack, error) {
	var made [numKernelStacks]mm.KernelStack
	for i := range kernelStacks {
		s, st := mm.CreateKernelStack(kernelStacks[i].size)
		if st.IsError() {
			deleteKernelStacks(made[:i])
			return made, fmt.Errorf("kernel: %s stack: %w", kernelStacks[i].name, st)
		}
		made[i] = s
	}
	return made, nil
}

// deleteKernelStacks gives back stacks createKernelStacks made.
func deleteKernelStacks(made []mm.KernelStack) {
	for _, m := range made {
		mm.DeleteKernelStack(m)
	}
}

// useKernelStacks points processor cpu's TSS and KPCR at its cpuStacks.
func useKernelStacks(cpu uint32) {
	for i := range kernelStacks {
		top := cpuStacks[cpu][i].Top
		if ist := kernelStacks[i].ist; ist != 0 {
			tssSetIST(cpu, ist, uint64(top))
		} else {
			kpcrs[cpu].SyscallStack = top
		}
	}
}

// installKernelStacks moves the boot processor's trap stacks off its boot
// arrays. No trap is running (this is a goroutine), so none of the stacks
// is in use; with interrupts off the switch is atomic for the processor.
func installKernelStacks() {
	made, err := createKernelStacks()
	if err != nil {
		panic(err)
	}
	rflags := arch.DisableInterrupts()
	cpuStacks[0] = made
	useKernelStacks(0)
	arch.RestoreInterrupts(rflags)
}

// writeKernelStacks lists processor cpu's stacks for !pcr.
func writeKernelStacks(w io.Writer, cpu uint32) {
	fmt.Fprintf(w, "    Stacks:         %-24s  %-17s  %-17s  %s\n", "", "guard", "base", "top")
	for i, d := range kernelStacks {
		s := cpuStacks[cpu][i]
		fmt.Fprintf(w, "                    %-24s  %s  %s  %s\n", d.name,
			kd.FormatAddress(uint64(s.Guard)), kd.FormatAddress(uint64(s.Base)), kd.FormatAddress(uint64(s.Top)))
	}
}
