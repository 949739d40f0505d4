// TLB maintenance.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The CPU caches translations, and — through the self-map — the contents of
// page tables themselves. Whenever a present entry is changed or cleared,
// the stale translation must go before anything relies on the change (above
// all before the old frame is reused). Two tools do it, behind Flusher:
//
//   - FlushPage, INVLPG: drops the translation of one page. It also drops
//     every paging-structure-cache entry (SDM 4.10.4.1), so one INVLPG
//     suffices after a table is unhooked.
//   - FlushAll, a CR3 reload: drops every non-global translation. ntgo never
//     sets Global, so this is complete; were kernel leaves made global, it
//     would have to toggle CR4.PGE instead.
//
// Making a not-present entry present needs no flush: x86 does not cache
// not-present translations.
//
// Operations over ranges collect the pages in a FlushBatch and flush once at
// the end: page by page up to FlushAllThreshold pages, else one CR3 reload,
// which past that point is cheaper than the INVLPGs plus refilling the TLB.
// A batch is a fixed array, so it lives on the stack and is usable in trap
// context.
//
// In the kernel the Flusher is CPUFlusher; on the host it is the simulated
// MMU's TLB (package ptesim), optionally wrapped in a recorder so tests can
// assert which flushes happened.
//
// Other processors. Every processor caches translations of the kernel's
// shared address space, so CPUFlusher's flushes are shootdowns
// (ke.FlushTb): the local INVLPGs or CR3 reload, then the same on every
// other active processor by IPI, and it returns only once all have
// answered — so when a caller frees a frame or a VA after its flush, no
// processor can still reach the old page. A batch is one shootdown: one
// IPI per processor for up to FlushAllThreshold pages, a whole flush past
// that. Hyperspace is the exception: each processor maps its own slots
// there and flushes them itself, so its pages are flushed locally only.

package pte

import (
	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// hyperSpaceEnd ends hyperspace (PteSpaceEnd up to the shared user data
// page, 512 GiB): the processor-local translations.
const hyperSpaceEnd = PteSpaceEnd + 1<<39

// processorLocal reports whether va's translation is one only the current
// processor uses.
//
//go:nosplit
func processorLocal(va uintptr) bool { return va >= PteSpaceEnd && va < hyperSpaceEnd }

// Flusher drops cached translations.
type Flusher interface {
	// FlushPage drops the translation of the page containing va (INVLPG).
	FlushPage(va uintptr)
	// FlushAll drops all non-global translations (CR3 reload).
	FlushAll()
}

// CPUFlusher flushes the real TLB. On the host there is no TLB of ours to
// flush and the privileged instructions would fault, so it does nothing.
// Its methods are on the pointer, as SelfMap's are.
type CPUFlusher struct{}

//go:nosplit
func (*CPUFlusher) FlushPage(va uintptr) {
	if processorLocal(va) {
		if arch.Bare() {
			arch.Invlpg(va)
		}
		return
	}
	one := [1]uintptr{va}
	ke.FlushTb(one[:], false)
}

//go:nosplit
func (*CPUFlusher) FlushAll() { ke.FlushTb(nil, true) }

// FlushAllThreshold is the most pages a batch flushes one by one; a batch
// with more reloads CR3.
const FlushAllThreshold = ke.FlushBatchMax

// FlushBatch collects pages whose translations must be dropped.
type FlushBatch struct {
	n   int
	vas [FlushAllThreshold]uintptr
}

// Add records that the translation of the page containing va is stale.
//
//go:nosplit
func (b *FlushBatch) Add(va uintptr) {
	if i := uint(b.n); i < uint(len(b.vas)) { // unsigned: no bounds check on the fault path
		b.vas[i] = va
	}
	b.n++
}

// Pending is how many pages have been added since the last Flush.
//
//go:nosplit
func (b *FlushBatch) Pending() int { return b.n }

// Flush drops the collected translations through f and empties the batch.
//
//go:nosplit
func (b *FlushBatch) Flush(f Flusher) {
	if _, ok := f.(*CPUFlusher); ok && b.n > 0 {
		if b.n > len(b.vas) {
			ke.FlushTb(nil, true)
		} else {
			ke.FlushTb(b.vas[:b.n], false) // one shootdown for the batch
		}
		b.n = 0
		return
	}
	if b.n > len(b.vas) {
		f.FlushAll()
	} else {
		for _, va := range b.vas[:b.n] {
			f.FlushPage(va)
		}
	}
	b.n = 0
}
