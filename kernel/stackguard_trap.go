// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Kernel stack overflow: a page fault on the guard page below one of the
// per-CPU trap stacks (stacks.go). The fault itself arrives on the
// page-fault IST stack, fresh from its top, so this check runs even when it
// is the page-fault stack that overflowed (the frames it overwrites there
// belong to the handler that overflowed, which never resumes).

package kernel

import "ntgo/nt/bugcheck"

// checkStackOverflow stops with UNEXPECTED_KERNEL_MODE_TRAP 8 (what NT
// reports, as a double fault) if cr2 is in a kernel stack's guard page:
// parameter 3 is the address touched, parameter 4 the stack's limit.
//
//go:nosplit
//go:noinline
func checkStackOverflow(f *TrapFrame, cr2 uintptr) {
	set := &cpuStacks[currentKPCR().Number]
	for i := range set {
		s := &set[i]
		if s.Guard != 0 && cr2 >= s.Guard && cr2 < s.Base {
			serialWriteString("\nKERNEL STACK OVERFLOW: ")
			serialWriteString(kernelStacks[i].name)
			serialWriteString(" stack, limit ")
			printHex(uint64(s.Base))
			stop(f, bugcheck.UnexpectedKernelModeTrap, vecDoubleFault, 0, cr2, s.Base)
		}
	}
}
