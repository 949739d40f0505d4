// Leaf access for the page-fault path.
//
// Trap-context file: everything here is //go:nosplit, allocates nothing from
// the Go heap and stores no Go pointers, because the page-fault handler
// (mm/va's ResolveFault) calls it. It only reads the path to a leaf and
// rewrites an existing leaf, so it never allocates or frees a table. Its
// calls through Tables and Flusher land, in the kernel, in SelfMap and
// CPUFlusher, which obey the same rules.

package pte

import (
	"ntgo/kernel/bugcheck"
	"ntgo/kernel/ntstatus"
)

// Leaf returns va's leaf (PT-level) entry. The status says why there is
// none: STATUS_INVALID_ADDRESS if va is not canonical or lies in PTE space,
// STATUS_MEMORY_NOT_ALLOCATED if a table on the path is missing (the leaf is
// then implicitly zero), STATUS_CONFLICTING_ADDRESSES if a large page maps
// va (its PDE or PDPTE is returned).
//
//go:nosplit
func (p *PageTables) Leaf(va uintptr) (PTE, ntstatus.Status) {
	if !Mappable(va) {
		return 0, ntstatus.InvalidAddress
	}
	for l := PML4; l > PT; l-- {
		e := p.tables.Load(l, va)
		if !e.Valid() {
			return 0, ntstatus.MemoryNotAllocated
		}
		if l != PML4 && e.Large() {
			return e, ntstatus.ConflictingAddresses
		}
	}
	return p.tables.Load(PT, va), ntstatus.Success
}

// Replace overwrites va's non-zero leaf with the non-zero e. The tables and
// their counts are untouched. A present old leaf's flush goes into b (now if
// b is nil). Replacing a zero leaf, or with zero, is Swap's job; asking
// Replace is a bug in the caller: MEMORY_MANAGEMENT 0x411.
//
//go:nosplit
func (p *PageTables) Replace(va uintptr, e PTE, b *FlushBatch) {
	old, st := p.Leaf(va)
	if st != ntstatus.Success || old == 0 || e == 0 {
		bugcheck.KeBugCheckEx(bugcheck.MemoryManagement, CorruptPte, PteAddress(va), uintptr(old), uintptr(e))
	}
	p.tables.Store(PT, va, e)
	p.flushStale(va, old, e, b)
}

// flushStale drops va's translation if old was present and is gone or
// changed: into b, or now if b is nil.
//
//go:nosplit
func (p *PageTables) flushStale(va uintptr, old, e PTE, b *FlushBatch) {
	switch {
	case !old.Valid() || old == e:
	case b == nil:
		p.flush.FlushPage(va)
	default:
		b.Add(va)
	}
}

// FlushPage drops va's translation now: for a fault on a present page whose
// PTE allows the access, the TLB entry that refused it is stale.
//
//go:nosplit
func (p *PageTables) FlushPage(va uintptr) { p.flush.FlushPage(va) }
