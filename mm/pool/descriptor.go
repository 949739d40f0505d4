// Pool descriptors: the small-block allocator of one pool.
//
// A descriptor (NT's POOL_DESCRIPTOR) owns the small-block pages of one
// Kind: ListHeads (free blocks by size), PendingFrees (delayed frees), the
// registry of its pages, and NT's page counters: TotalPages (small-block
// pages), TotalBigPages (its RunningAllocs, RunningDeAllocs and TotalBytes
// are the tag counters summed, see System.Stats). Pages come from its
// region (shared by the two nonpaged descriptors).
//
// Allocation of u units (after the per-processor lookaside missed): take the
// first block of the smallest non-empty list of at least u units, or a new
// page, and carve it. A block that starts a page gives its head, so the
// rest of the page stays one free block behind it; any other block gives
// its tail, so the free remainder keeps its address and PreviousSize links
// stay put. Cache-aligned requests search for u+3 units and place the block
// so its body starts a cache line, returning the slack on either side as
// free blocks.
//
// Release of a block (under the lock): check its PreviousSize against the
// previous block, merge with the previous and next blocks if they are free
// (only within the page: a block never merges across a page boundary), and
// either list the result or, if the whole page is now free, give the page
// back to the region. A free block at a page start is listed at the tail so
// the pool prefers blocks that do not pin otherwise empty pages.
//
// Delayed free: a caller's free that the lookaside list did not take is
// pushed onto PendingFrees without the lock; the pusher that brings the
// depth to PendingFreeThreshold takes the lock once and releases them all.
// Until then the blocks stay in state cached.
//
// Locking: mu guards ListHeads, the page registry and every header change
// of a free block; it is a plain mutex, taken only from goroutine context
// (never trap context). The page counters are atomic so that readers need
// no lock.

package pool

import (
	"sync"
	"sync/atomic"
)

// PendingFreeThreshold is NT's EXP_MAXIMUM_POOL_FREES_PENDING: the
// PendingFrees depth at which the delayed frees are released.
const PendingFreeThreshold = 32

// cacheAlignUnits is a cache line in block units: cache-aligned bodies start
// on a 64-byte boundary.
const (
	cacheLineSize   = 64
	cacheAlignUnits = cacheLineSize >> BlockShift
)

type descriptor struct {
	mu      sync.Mutex
	sys     *System
	kind    Kind
	reg     *region
	exec    bool
	lists   freeLists
	pending SList
	pages   map[uintptr]struct{} // small-block pages held

	totalPages, totalBigPages atomic.Int64
}

func (d *descriptor) init(sys *System, k Kind, reg *region, exec bool) bool {
	d.sys, d.kind, d.reg, d.exec = sys, k, reg, exec
	d.pages = make(map[uintptr]struct{})
	page, ok := reg.src.AllocPages(1, false)
	if ok {
		d.lists.init(sys, reg.src, page)
	}
	return ok
}

// alloc carves a block of u units whose body is aligned to align units and
// returns its header, in state allocated; 0 when no page can be had.
func (d *descriptor) alloc(u, align uintptr, prio Priority) uintptr {
	d.mu.Lock()
	b, size, ok := d.lists.first(u + align - 1)
	var prev uint8
	if ok {
		d.checkFree(b, size, HeaderFreedCachedModified, 0)
		d.lists.remove(b, size)
		prev = load8(b + offPreviousSize)
	} else {
		b, ok = d.reg.take(1, d.exec, prio)
		if !ok {
			d.mu.Unlock()
			return 0
		}
		d.pages[b] = struct{}{}
		d.totalPages.Add(1)
		size = pageUnits
	}
	h := place(b, size, u, align)
	d.carve(b, size, h, u, prev)
	d.mu.Unlock()
	return h
}

// place picks where in the free block b of size units a block of u units
// goes: head of a page-start block, tail of any other; for alignment, the
// first or last position whose body is aligned.
func place(b, size, u, align uintptr) uintptr {
	if align == 1 {
		if b&pageMask == 0 || size == u {
			return b
		}
		return b + (size-u)<<BlockShift
	}
	a := align << BlockShift
	if b&pageMask == 0 {
		return (b+HeaderSize+a-1)&^(a-1) - HeaderSize
	}
	return (b+(size-u)<<BlockShift+HeaderSize)&^(a-1) - HeaderSize
}

// carve splits the free run b (size units, PreviousSize prev) into an
// allocated block of u units at h and free blocks for what lies before and
// after it, and fixes the PreviousSize of the block following the run.
func (d *descriptor) carve(b, size, h, u uintptr, prev uint8) {
	front := (h - b) >> BlockShift
	back := size - front - u
	if front > 0 {
		d.writeFree(b, prev, front, 0)
		prev = uint8(front)
	}
	d.sys.cookie.writeHeader(h, prev, uint8(d.kind), uint8(u), typeAllocated, 0, 0)
	last := u
	if back > 0 {
		d.writeFree(h+u<<BlockShift, uint8(u), back, 0)
		last = back
	}
	if end := b + size<<BlockShift; end&pageMask != 0 {
		setPrev(end, uint8(last))
	}
}

// writeFree makes b a free block of u units and lists it if it can hold
// links.
func (d *descriptor) writeFree(b uintptr, prev uint8, u uintptr, tag Tag) {
	d.sys.cookie.writeHeader(b, prev, uint8(d.kind), uint8(u), typeFree, tag, 0)
	if u >= minBlockUnits {
		d.lists.insert(b, u, b&pageMask == 0)
	}
}

// checkFree stops with BAD_POOL_HEADER sub if the free block b is not a free
// header of this descriptor of size units that fits its page (size 0: any).
func (d *descriptor) checkFree(b, size uintptr, sub, freeing uintptr) {
	h := readHeader(b)
	if h.state() != typeFree || !d.fits(b, h, size) {
		badPoolHeader(sub, b, ulong1(b), freeing)
	}
}

// checkCached is checkFree for a block parked in a lookaside list or
// PendingFrees.
func (d *descriptor) checkCached(b, size uintptr) {
	h := readHeader(b)
	if h.state() != typeCached || !d.fits(b, h, size) {
		badPoolHeader(HeaderFreedCachedModified, b, ulong1(b), 0)
	}
}

// fits reports whether h, read at b, is sealed without an owner, belongs to
// this descriptor, and has size units (any size if 0) within b's page.
func (d *descriptor) fits(b uintptr, h header, size uintptr) bool {
	return d.sys.cookie.open(b, h.check) == 0 && h.index == uint8(d.kind) &&
		(size == 0 || uintptr(h.size) == size) && h.size != 0 &&
		b&pageMask+uintptr(h.size)<<BlockShift <= pageSize
}

// release frees the cached block b: merge, then list it or return its page.
// The lock is held.
func (d *descriptor) release(b uintptr) {
	h := readHeader(b)
	page := b &^ pageMask
	start, total, prev := b, uintptr(h.size), h.prev
	if b == page {
		if h.prev != 0 {
			badPoolHeader(HeaderPreviousSizeTooLarge, b-uintptr(h.prev)<<BlockShift, 0, b)
		}
	} else {
		if h.prev == 0 || uintptr(h.prev)<<BlockShift > b-page {
			badPoolHeader(HeaderPreviousSizeTooLarge, b-uintptr(h.prev)<<BlockShift, 0, b)
		}
		p := b - uintptr(h.prev)<<BlockShift
		ph := readHeader(p)
		if ph.size != h.prev {
			badPoolHeader(HeaderNeighboursDisagree, b, 0, p)
		}
		if ph.state() == typeFree {
			d.checkFree(p, uintptr(h.prev), HeaderFreedPrevModified, b)
			if ph.size >= minBlockUnits {
				d.lists.remove(p, uintptr(ph.size))
			}
			start, total, prev = p, total+uintptr(ph.size), ph.prev
		}
	}
	if n := b + uintptr(h.size)<<BlockShift; n < page+pageSize {
		nh := readHeader(n)
		if nh.prev != h.size {
			badPoolHeader(HeaderNextPreviousSize, b, n, 0)
		}
		if nh.state() == typeFree {
			d.checkFree(n, 0, HeaderFreedNextModified, b)
			if nh.size >= minBlockUnits {
				d.lists.remove(n, uintptr(nh.size))
			}
			total += uintptr(nh.size)
		}
	}
	if total == pageUnits {
		delete(d.pages, page)
		d.totalPages.Add(-1)
		d.reg.give(page, 1)
		return
	}
	d.writeFree(start, prev, total, h.tag)
	if end := start + total<<BlockShift; end&pageMask != 0 {
		setPrev(end, uint8(total))
	}
}

// deferFree queues the cached block b on PendingFrees and releases the
// queue once it reaches PendingFreeThreshold.
func (d *descriptor) deferFree(b uintptr) {
	if d.pending.Push(b+HeaderSize) >= PendingFreeThreshold {
		d.mu.Lock()
		d.drainPending()
		d.mu.Unlock()
	}
}

// drainPending releases every block on PendingFrees. The lock is held.
func (d *descriptor) drainPending() {
	first, _ := d.pending.PopAll()
	d.releaseChain(first)
}

// releaseChain releases a chain of cached blocks linked through SList
// entries in their bodies. The lock is held.
func (d *descriptor) releaseChain(e uintptr) {
	for e != 0 {
		next, ok := SListNext(e)
		if !ok {
			d.sys.CorruptedExpool(next)
		}
		b := e - HeaderSize
		d.checkCached(b, 0)
		d.release(b)
		e = next
	}
}
