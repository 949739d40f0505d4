// Start-up, in NT's MmInitSystem phases, called by the kernel in this
// order (kernel/start.go):
//
//   - Phase 0, Boot (boot.go): from kernel.Start, before the Go runtime
//     starts, on the boot stack and in static memory: the PFN database over
//     the boot memory map and the kernel's own page tables.
//   - Phase 1, InitSystem (here): from the kernel's start-up in goroutine
//     context, once the Go heap exists (the structures below keep their
//     lists there), before any driver or test runs:
//     1. the system PTE region (SystemPtes), which MapIoSpace, MDL
//     mappings and the kernel's trap stacks allocate from;
//     2. the executive pools (ex.Init over the pool regions' page
//     sources, sized from the PFN database's RAM) and their lookaside
//     tuning, with Driver Verifier attached (mm/verifier: its special
//     pool over SpecialPages);
//     3. the dynamic kernel VA (AllocateVirtualMemory's Space).
//
// The three do not use one another; the order is stated so that callers
// may rely on it: whatever the kernel builds after InitSystem (its trap
// stacks, the crash dump's reservation) finds all three. Package init functions in mm only register console
// commands. Bare metal only: on the host these structures are built by
// the tests over simulated memory instead.

package mm

// InitSystem is phase 1 of the memory manager's start-up (see above).
func InitSystem() {
	initSystemPtes()
	initPools()
	initDynamicVA()
}
