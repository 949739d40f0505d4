// Package mm is the kernel's memory manager: it puts the host-testable cores
// (mm/pfn, mm/pte, mm/va, mm/layout) on the machine's real frames and page
// tables, serves the Go runtime's anonymous memory, resolves page faults and
// offers the driver-facing Mm routines.
//
// # Boot (boot.go)
//
// Before the Go runtime starts, on the boot identity map, Boot
//  1. sizes the PFN database for the firmware memory map and places it in
//     the first free RAM run big enough, then builds it there (frames below
//     1 MiB, the kernel image and the database itself start in use);
//  2. builds new four-level tables from database frames, reaching them by
//     physical address (bootTables): the kernel image at its link address
//     with each ELF segment's protection, the database at NT's
//     PFN-database region, the local and I/O APIC at their physical
//     addresses (uncached; tamago's drivers take 32-bit register
//     addresses), and the hyperspace slots;
//  3. installs the self-map entry, loads CR3, and switches the walker to
//     the self-map and the database to its new address and to hyperspace
//     for frame contents. From here no physical memory is reachable by
//     address except through a mapping made for it.
//
// # Who edits page tables
//
// One walker (Tables) over the live hierarchy. Edits come from goroutines
// (SystemPtes, contiguous memory, console commands' reads do not edit), from
// the system-call layer (the runtime's mmap/munmap/madvise, runtime_trap.go)
// and from the page-fault handler (fault_trap.go). All of them hold
// tableLock, an interrupt-disabling spin lock, for the whole edit: on one
// CPU that makes every edit atomic with respect to faults and to the
// scheduler. The PFN lock nests inside it (frames for pages and tables).
// Nothing that could block or allocate from the Go heap runs under it.
//
// # Frame contents
//
// Frames are reached through hyperspace (hyperspace_trap.go): per-CPU
// virtual pages whose PTEs are rewritten to map one frame at a time, as
// NT's MiMapPageInHyperSpace does. Only the PFN database zeroes and copies
// frames, always under the PFN lock, which therefore also guards the slots.
package mm

import (
	"sync/atomic"

	"ntgo/kernel/ke"
	"ntgo/mm/pfn"
	"ntgo/mm/pte"
)

var (
	// PFN is the PFN database.
	PFN pfn.Database
	// Tables is the walker over the live page tables.
	Tables pte.PageTables

	// tableLock serializes page-table edits (see the package comment).
	tableLock ke.SpinLock

	// committedPages is the commit charge: pages committed by the Go
	// runtime's mappings and by Spaces, resident or not.
	committedPages atomic.Int64
)
