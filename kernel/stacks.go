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
// The table is written once here, in goroutine context, before any trap
// can read it as anything but the boot stacks, and read in trap context
// afterwards.

package kernel

import (
	"fmt"
	"io"

	"ntgo/kernel/kd"
	"ntgo/mm"
	"ntgo/nt/arch"
)

// kernelStack is one per-CPU trap stack.
type kernelStack struct {
	name string
	ist  int     // TSS IST slot, or 0 for the system-call stack
	size uintptr // bytes, as the boot stack
	mm.KernelStack
}

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
	pushUntilFault(kernelStacks[stackInterrupt].Base + stackOverflowRunway)
}

// stackOverflowRunway is how far above its limit OverflowInterruptStack starts
// pushing: a few pushes before the guard page.
const stackOverflowRunway = 64

// pushUntilFault disables interrupts, moves RSP to sp and pushes until a
// push faults (stacks_amd64.s). It does not return.
func pushUntilFault(sp uintptr)

// installKernelStacks moves every trap stack off its boot stack. No trap
// is running (this is a goroutine), so none of the stacks is in use; with
// interrupts off the switch is atomic for the one CPU.
func installKernelStacks() {
	var made [numKernelStacks]mm.KernelStack
	for i := range kernelStacks {
		s, st := mm.CreateKernelStack(kernelStacks[i].size)
		if st.IsError() {
			panic("kernel: " + kernelStacks[i].name + " stack: " + st.String())
		}
		made[i] = s
	}
	rflags := arch.DisableInterrupts()
	for i := range kernelStacks {
		s := &kernelStacks[i]
		s.KernelStack = made[i]
		if s.ist != 0 {
			tssSetIST(s.ist, uint64(s.Top))
		} else {
			kpcr0.SyscallStack = s.Top
		}
	}
	arch.RestoreInterrupts(rflags)
}

// writeKernelStacks lists the stacks for !pcr.
func writeKernelStacks(w io.Writer) {
	fmt.Fprintf(w, "    Stacks:         %-24s  %-17s  %-17s  %s\n", "", "guard", "base", "top")
	for _, s := range kernelStacks {
		fmt.Fprintf(w, "                    %-24s  %s  %s  %s\n", s.name,
			kd.FormatAddress(uint64(s.Guard)), kd.FormatAddress(uint64(s.Base)), kd.FormatAddress(uint64(s.Top)))
	}
}
