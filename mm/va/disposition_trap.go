// What the kernel does with a Fault.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The #PF handler calls it on the per-CPU stack.
//
// ResolveFault decides; the kernel acts, so that the trap-context core never
// calls KeBugCheckEx (which allocates) or raises. For a result other than
// Resolved and Spurious the kernel's #PF handler:
//
//  1. if the fault hit inside a Try (a probe or __try) and Exception says
//     so, raises that status at the address (GUARD_PAGE_VIOLATION for a
//     guard page, ACCESS_VIOLATION for a denied access);
//  2. otherwise, if Bugcheck says so, calls KeBugCheckEx with its code and
//     parameters — nothing else to compute;
//  3. otherwise (a guard page outside any Try) returns and retries: the
//     guard is already gone.
//
// The bugchecks and their parameters, after NT's:
//
//	NotPresent        PAGE_FAULT_IN_NONPAGED_AREA (0x50): va, 0 read / 1 write /
//	                  0x10 execute (NT prints it as "10"), faulting RIP, 0
//	WriteToReadonly   ATTEMPTED_WRITE_TO_READONLY_MEMORY (0xBE): va, PTE, 0, 0
//	ExecuteNoExecute  ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY (0xFC): va, PTE, 0, 0
//	NoMemory          KERNEL_DATA_INPAGE_ERROR (0x7A): PTE address,
//	                  STATUS_NO_MEMORY, va, 0 — only for a fault that
//	                  cannot wait for a free page (interrupts off, raised
//	                  IRQL); the kernel lets one that can wait, as NT does
//	CorruptPte        MEMORY_MANAGEMENT (0x1A): 0x411, PTE address, PTE, 0

package va

import (
	"ntgo/mm/pte"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// Access codes of PAGE_FAULT_IN_NONPAGED_AREA's second parameter.
const (
	faultRead    = 0
	faultWrite   = 1
	faultExecute = 0x10
)

// Bugcheck is the bugcheck for f, given the faulting instruction's address,
// or false if f is not fatal by itself (Resolved, Spurious, GuardPage).
//
//go:nosplit
func (f Fault) Bugcheck(rip uintptr) (bugcheck.Code, [4]uintptr, bool) {
	switch f.Result {
	case NotPresent:
		access := uintptr(faultRead)
		switch f.Access {
		case pte.AccessWrite:
			access = faultWrite
		case pte.AccessExecute:
			access = faultExecute
		}
		return bugcheck.PageFaultInNonpagedArea, [4]uintptr{f.VA, access, rip, 0}, true
	case WriteToReadonly:
		return bugcheck.AttemptedWriteToReadonlyMemory, [4]uintptr{f.VA, uintptr(f.PTE), 0, 0}, true
	case ExecuteNoExecute:
		return bugcheck.AttemptedExecuteOfNoexecuteMemory, [4]uintptr{f.VA, uintptr(f.PTE), 0, 0}, true
	case NoMemory:
		return bugcheck.KernelDataInpageError, [4]uintptr{pte.PteAddress(f.VA), uintptr(ntstatus.NoMemory), f.VA, 0}, true
	case CorruptPte:
		return bugcheck.MemoryManagement, [4]uintptr{pte.CorruptPte, pte.PteAddress(f.VA), uintptr(f.PTE), 0}, true
	}
	return 0, [4]uintptr{}, false
}

// Exception is the status to raise when f happened inside a Try, or false
// if f is no exception (resolved, or fatal regardless of handlers).
//
//go:nosplit
func (f Fault) Exception() (ntstatus.Status, bool) {
	switch f.Result {
	case GuardPage:
		return ntstatus.GuardPageViolation, true
	case NotPresent, WriteToReadonly, ExecuteNoExecute:
		return ntstatus.AccessViolation, true
	}
	return 0, false
}
