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
// One walker (Tables) over the live hierarchy, edited from three places
// that never touch the same table:
//   - the system-call layer edits the lower half, where the Go runtime's
//     memory is (runtime_trap.go), in trap context with interrupts off;
//   - goroutines edit kernel regions of the upper half (system PTEs,
//     contiguous memory, pool pages), serialized by kernelSpace, a mutex,
//     since those edits may allocate bookkeeping from the Go heap;
//   - the page-fault handler (fault_trap.go) only rewrites an existing,
//     non-zero leaf (demand-zero to valid, guard off). It never creates or
//     frees a table, and a table holding a non-zero leaf is never freed, so
//     it cannot race a goroutine's edit of a neighbouring leaf even when it
//     preempts one half way.
//
// tableLock, an interrupt-disabling spin lock, serializes the two
// trap-context editors (on SMP a fault and a system call of two CPUs), and
// a fault taken while it is held is the memory manager faulting on itself
// (see TableLockHeld). The PFN lock nests inside both locks.
//
// # Frame contents
//
// Frames are reached through hyperspace (hyperspace_trap.go): per-CPU
// virtual pages whose PTEs are rewritten to map one frame at a time, as
// NT's MiMapPageInHyperSpace does. Only the PFN database zeroes and copies
// frames, always under the PFN lock, which therefore also guards the slots.
package mm

import (
	"sync"
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

	// tableLock serializes trap-context page-table edits, kernelSpace
	// goroutine edits of kernel regions (see the package comment).
	tableLock   ke.SpinLock
	kernelSpace sync.Mutex

	// committedPages is the commit charge: pages committed by the Go
	// runtime's mappings and by Spaces, resident or not.
	committedPages atomic.Int64
)
