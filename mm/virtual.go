// Reserve, commit, decommit, release and protect for kernel code: the
// dynamic kernel VA region as an mm/va.Space, with NtAllocateVirtualMemory's
// rules (see mm/va/space.go for each operation and its statuses).
//
// A committed page is demand-zero: its first touch faults and the fault
// handler (fault_trap.go) maps a zeroed frame. Reserved-only pages hold the
// reserved PTE encoding, so a touch is PAGE_FAULT_IN_NONPAGED_AREA, as in NT;
// a GUARD page's first touch raises STATUS_GUARD_PAGE_VIOLATION inside a Try
// (and is retried outside one) and is an ordinary page after it.
//
// The Space is built by InitSystem (init.go), once the Go heap exists
// (its reservation list lives there); its edits hold kernelSpace like the
// other kernel regions'. The fault handler only turns a demand-zero leaf
// valid, so it never races a reservation or a commit; a thread touching a
// page while another decommits or releases it is the caller's bug, as it
// is in NT, and may find the page gone.

package mm

import (
	"ntgo/mm/layout"
	"ntgo/mm/va"
	"ntgo/nt/ntstatus"
)

// dynamicVASize is how much of the dynamic kernel VA region the Space
// manages: far more than the kernel's users reserve, and free of cost until
// they do (one reservation list entry per reservation, tables on commit).
const dynamicVASize = 64 << 30

// dynamicVA is the Space over the dynamic kernel VA region.
var dynamicVA *va.Space

// initDynamicVA builds the Space over the dynamic kernel VA region.
func initDynamicVA() {
	s, st := va.NewSpace(&Tables, &pageSource, layout.DynamicVAStart, dynamicVASize)
	if st != ntstatus.Success {
		panic("mm: dynamic kernel VA: " + st.String())
	}
	dynamicVA = s
}

// AllocateVirtualMemory is ZwAllocateVirtualMemory on the kernel's dynamic
// VA: it reserves and/or commits size bytes at base (0: anywhere) and
// returns the range it acted on.
func AllocateVirtualMemory(base, size uintptr, typ va.AllocationType, protect va.PageProtection) (uintptr, uintptr, ntstatus.Status) {
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	return dynamicVA.Allocate(base, size, typ, protect)
}

// FreeVirtualMemory is ZwFreeVirtualMemory: MEM_DECOMMIT or MEM_RELEASE.
func FreeVirtualMemory(base, size uintptr, typ va.AllocationType) (uintptr, uintptr, ntstatus.Status) {
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	return dynamicVA.Free(base, size, typ)
}

// ProtectVirtualMemory is ZwProtectVirtualMemory: it returns the first
// page's old protection.
func ProtectVirtualMemory(base, size uintptr, protect va.PageProtection) (va.PageProtection, ntstatus.Status) {
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	return dynamicVA.Protect(base, size, protect)
}
