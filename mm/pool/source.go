// Page sources and pool limits.
//
// The allocator never maps memory itself. Whole pages come from a
// PageSource supplied by the caller: in the kernel the nonpaged and paged
// pool regions of the address space backed by PFN-database frames, on the
// host an Arena (an mmap'ed block). The two nonpaged descriptors share one
// source and ask it for executable or no-execute pages.
//
// How many pages a pool may hold is the allocator's business, not the
// source's: each source comes with a maximum in bytes (the kernel derives it
// from RAM) and a region counts the pages taken against it. The count
// covers small-block pages and big allocations alike, so exhaustion shows up
// as a clean failure before the source runs dry.
//
// Pressure and priority: a LowPoolPriority request may not take pages once
// the region is lowPriorityCeilingPercent full, a NormalPoolPriority request
// once it is normalPriorityCeilingPercent full; only HighPoolPriority may use
// the reserve above that. Requests served from blocks already held by the
// pool take no pages and are never refused for pressure.
//
// Locking: the region's count is a single atomic word updated by CAS, so
// descriptors sharing a region need no common lock.

package pool

import (
	"sync/atomic"

	"ntgo/mm/physmem"
)

const (
	pageSize  = physmem.PageSize
	pageShift = physmem.PageShift
	pageMask  = physmem.PageMask
)

// PageSource hands out runs of whole, page-aligned pages.
type PageSource interface {
	// AllocPages returns n contiguous pages, executable or not, or ok=false.
	AllocPages(n int, executable bool) (va uintptr, ok bool)
	// FreePages returns a run obtained from AllocPages, whole.
	FreePages(va uintptr, n int)
	// Mapped reports whether the page containing va is currently handed
	// out by this source. The allocator asks before it reads memory at an
	// address a caller gave it.
	Mapped(va uintptr) bool
	// Region is the virtual range the source hands pages out of.
	Region() (base, size uintptr)
}

// PageBitmap is what a PageSource whose Mapped tests a bit per page also
// offers: that bitmap (bit i of word i/64 set while page i of the region is
// handed out, read atomically), so the fast free path tests the bit itself
// instead of calling Mapped through the interface. Arena and the kernel's
// pool pages have it; without it the fast free path declines.
type PageBitmap interface {
	InUseBits() []atomic.Uint64
}

// NodePageSource is what a PageSource that can take its pages' frames
// from a NUMA node also offers (the kernel's pool pages; host arenas
// cannot): AllocPages with the frames from node first, or only from it if
// required.
type NodePageSource interface {
	AllocPagesOnNode(n int, executable bool, node uint32, required bool) (va uintptr, ok bool)
}

// Usage ceilings, in percent of a region's maximum, per priority.
const (
	lowPriorityCeilingPercent    = 80
	highPriorityReservePercent   = 5
	normalPriorityCeilingPercent = 100 - highPriorityReservePercent
	highPriorityCeilingPercent   = 100
	percent                      = 100
)

// region counts the pages taken from one source against its maximum.
type region struct {
	src        PageSource
	base, size uintptr         // src.Region(), fixed for the source's life
	inUse      []atomic.Uint64 // src's PageBitmap, or nil
	maxPages   int64
	used       atomic.Int64
}

func newRegion(src PageSource, maxBytes uintptr) *region {
	base, size := src.Region()
	r := &region{src: src, base: base, size: size, maxPages: int64(maxBytes >> pageShift)}
	if b, ok := src.(PageBitmap); ok {
		r.inUse = b.InUseBits()
	}
	return r
}

// mappedBit is src.Mapped(va) read from the bitmap; false without one.
// va is in the region.
func (r *region) mappedBit(va uintptr) bool {
	i := (va - r.base) >> pageShift
	w := i / bitsPerWord
	return w < uintptr(len(r.inUse)) && r.inUse[w].Load()&(1<<(i%bitsPerWord)) != 0
}

func (r *region) holds(va uintptr) bool { return va >= r.base && va-r.base < r.size }

// ceiling is the page count priority p may fill the region up to.
func (r *region) ceiling(p Priority) int64 {
	pc := int64(normalPriorityCeilingPercent)
	switch p.Base() {
	case LowPoolPriority:
		pc = lowPriorityCeilingPercent
	case HighPoolPriority:
		pc = highPriorityCeilingPercent
	}
	return r.maxPages * pc / percent
}

// take reserves n pages for priority p and then takes them from the source.
func (r *region) take(n int, exec bool, p Priority) (uintptr, bool) {
	if !r.reserve(n, p) {
		return 0, false
	}
	va, ok := r.src.AllocPages(n, exec)
	if !ok {
		r.used.Add(-int64(n))
	}
	return va, ok
}

// takeOnNode is take with the pages' frames from node (only from it if
// required); false as well if the source cannot place pages on a node.
func (r *region) takeOnNode(n int, exec bool, p Priority, node uint32, required bool) (uintptr, bool) {
	src, ok := r.src.(NodePageSource)
	if !ok || !r.reserve(n, p) {
		return 0, false
	}
	va, ok := src.AllocPagesOnNode(n, exec, node, required)
	if !ok {
		r.used.Add(-int64(n))
	}
	return va, ok
}

// reserve counts n more pages against the region for priority p, or
// reports false if they would pass its ceiling.
func (r *region) reserve(n int, p Priority) bool {
	limit := r.ceiling(p)
	for {
		u := r.used.Load()
		if u+int64(n) > limit {
			return false
		}
		if r.used.CompareAndSwap(u, u+int64(n)) {
			return true
		}
	}
}

// give returns n pages at va to the source.
func (r *region) give(va uintptr, n int) {
	r.src.FreePages(va, n)
	r.used.Add(-int64(n))
}
