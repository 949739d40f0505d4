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
// With more than one processor, a translation another processor may hold
// must go there too before the change is relied on: CPUFlusher calls the
// kernel's remote flush (SetRemoteFlush) after its own, which returns once
// every other processor has flushed (a shootdown; the kernel skips the
// addresses only their own processor maps, such as hyperspace).
//
// In the kernel the Flusher is CPUFlusher; on the host it is the simulated
// MMU's TLB (package ptesim), optionally wrapped in a recorder so tests can
// assert which flushes happened.

package pte

import "ntgo/nt/arch"

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

// remoteFlush drops va's translation (all of them when all) on every other
// processor and returns when they have; nil on one processor.
var remoteFlush func(va uintptr, all bool)

// SetRemoteFlush installs the kernel's shootdown. It must be //go:nosplit
// and allocation-free, and callable with interrupts off.
//
//go:nosplit
func SetRemoteFlush(f func(va uintptr, all bool)) { remoteFlush = f }

//go:nosplit
func (*CPUFlusher) FlushPage(va uintptr) {
	if arch.Bare() {
		arch.Invlpg(va)
		if remoteFlush != nil {
			remoteFlush(va, false)
		}
	}
}

//go:nosplit
func (*CPUFlusher) FlushAll() {
	if arch.Bare() {
		arch.FlushTLB()
		if remoteFlush != nil {
			remoteFlush(0, true)
		}
	}
}

// FlushAllThreshold is the most pages a batch flushes one by one; a batch
// with more reloads CR3.
const FlushAllThreshold = 32

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
	if b.n > len(b.vas) {
		f.FlushAll()
	} else {
		for _, va := range b.vas[:b.n] {
			f.FlushPage(va)
		}
	}
	b.n = 0
}
