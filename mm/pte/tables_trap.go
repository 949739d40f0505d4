// How the walker reaches page tables, and where table frames come from.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The walker never computes a physical address. It asks a Tables for "the
// level-l entry that maps va", which in the kernel is a load from the
// self-map address EntryAddress(l, va) (SelfMap, below) and on the host a
// load through the simulated MMU from that same address (package ptesim),
// so host tests exercise the self-map arithmetic on every access. The
// contract is the CPU's: the entry is reachable only while all levels above
// it are present, which the walker guarantees by walking top-down.
//
// Table frames come from a FrameSource: the PFN database in the kernel, a
// small free list over simulated memory on the host.

package pte

import (
	"unsafe"

	"ntgo/mm/physmem"
	"ntgo/nt/ke"
)

// Tables loads and stores page-table entries by level and mapped address.
// Implementations used by the fault path (SelfMap) must be nosplit and
// allocation-free.
type Tables interface {
	// Load returns the level-l entry mapping va.
	Load(l Level, va uintptr) PTE
	// Store writes the level-l entry mapping va.
	Store(l Level, va uintptr, e PTE)
}

// FrameSource supplies and takes back the frames that hold tables.
type FrameSource interface {
	// AllocTable returns a zeroed frame for a new table, or false if none
	// is available.
	AllocTable() (physmem.PFN, bool)
	// FreeTable takes back a table frame; its entries are all zero.
	FreeTable(physmem.PFN)
}

// SelfMap reaches the live page tables through the self-map. Only the
// kernel, running on the tables that CR3 points to, may use it: on the host
// the self-map range is not mapped. Its methods are on the pointer so that
// a PageTables over it calls them, nosplit, without a wrapper (see
// leaf_trap.go).
//
// Each processor runs on a PML4 of its own (mm: the self-map entry tells
// the processors apart, ke.CurrentProcessorNumber), and every table below
// the PML4 is shared. The self-map reaches only the current processor's
// PML4, so Store writes a PML4 entry into every processor's too, through
// the mappings AddRoot recorded: the copies stay equal but for their
// self-map entries. The PML4 entries the walker writes are never the
// self-map's (it refuses PTE space).
type SelfMap struct {
	roots  [ke.MaximumProcessors]uintptr // each PML4 by its kernel address
	nroots int
}

// entryPointer turns a self-map address into a pointer. The address is not
// Go memory; unsafe.Add from nil keeps the integer-to-pointer step explicit.
//
//go:nosplit
func entryPointer(addr uintptr) *PTE { return (*PTE)(unsafe.Add(unsafe.Pointer(nil), addr)) }

//go:nosplit
func (*SelfMap) Load(l Level, va uintptr) PTE { return *entryPointer(EntryAddress(l, va)) }

//go:nosplit
func (s *SelfMap) Store(l Level, va uintptr, e PTE) {
	*entryPointer(EntryAddress(l, va)) = e
	if l != PML4 {
		return
	}
	off := uintptr(l.Index(va)) * entrySize
	for _, root := range s.roots[:s.nroots] {
		*entryPointer(root + off) = e
	}
}

// AddRoot records a processor's PML4, mapped at va, for Store to keep
// equal; the caller holds every lock a PML4 store is made under, and the
// PML4 is already a copy of the current one. The current processor's own
// may be recorded too (Store then writes it twice).
//
//go:nosplit
func (s *SelfMap) AddRoot(va uintptr) {
	s.roots[s.nroots] = va
	s.nroots++
}
