package pool

// The lookaside hit: allocation and free served by the current processor's
// list, each one function.
//
// AllocateFromLookaside and FreeToLookaside are what mm/ex calls first for
// every ExAllocatePool*/ExFreePool* routine. Each serves only the common
// case and otherwise declines, having changed nothing, so that the full
// path (Allocate, Free) runs as it would have without them and raises
// every bugcheck it raises today:
//
//   - allocation: a plain pool type (nonpaged NX or executable, or paged;
//     zeroed or not), a request of at most MaxCachedRequest bytes, the IRQL
//     allowed for the pool, the processor's busy word free, the list not
//     empty, the head's guarded link intact and its header that of a cached
//     block of this pool and size sealed without an owner;
//   - free: an address inside a pool region on a page the region's bitmap
//     has handed out, 16-byte aligned past the page's first header, a
//     header in state allocated without quota, sealed for this address,
//     of a size a list serves, of a descriptor of that region, ending
//     within its page where the next header's PreviousSize agrees; the tag
//     the block's if one is given; the IRQL allowed; the busy word free;
//     the list not at its depth; and the header's state word still what was
//     read (the compare-and-swap that makes one of two racing frees fail).
//
// So a wrong tag, a double free (of a cached block too: its state is
// cached, not allocated), a damaged header and an IRQL above the pool's
// limit all decline here and stop in the full path; a cached block whose
// link or header was overwritten after its free (a use after free) is left
// on the list for the full path's pop to find and stop on.
//
// Nothing here is an interface or closure call, or a privileged
// instruction: the IRQL comes from ke's software copy (or the test's
// Config.IRQL), the processor from ke, the mapped test from the region's
// bitmap. The tag counters the hit updates are the processor's own, under
// its busy word (percpu.go).

import (
	"sync/atomic"
	"unsafe"
)

// fastTypeBits are the PoolType bits the hit serves: the pool (paged, NX)
// and zeroing. Anything else (cache alignment, session, must-succeed, the
// calling-convention bits mm/ex strips) is the full path's.
const fastTypeBits = BasePoolTypeMask | PoolNxAllocation | PoolZeroAllocation

// stateShift is the PoolType byte's position in the header's first word.
const stateShift = byteBits * offPoolType

// zeroByWords is the largest body cleared with word stores instead of a call
// to the runtime's memclr.
const zeroByWords = 128

// AllocateFromLookaside is ExAllocatePoolWithTag's lookaside hit: n bytes
// of pool type t tagged tag from the current processor's list, or 0 when
// the request is not the common case (see above); the caller then calls
// Allocate, which serves it, fails it or stops.
func (s *System) AllocateFromLookaside(t PoolType, n uintptr, tag Tag) uintptr {
	if t&^fastTypeBits != 0 || n > MaxCachedRequest || !s.lookaside {
		return 0
	}
	k := KindOf(t)
	if irql := s.currentIrql(); irql > DispatchLevel || k == KindPaged && irql > APCLevel {
		return 0
	}
	u := units(n)
	c := s.cpu()
	if !c.claim() {
		return 0
	}
	l := c.list(k, u)
	e, next, ok := l.peek()
	b := e - HeaderSize
	if e == 0 || !ok || !s.cachedIntact(b, k, u) {
		c.release()
		return 0
	}
	l.take(next)
	bytes := u << BlockShift
	i := s.tags.firstProbe(tag)
	if i < 0 {
		i = s.tags.slot(tag)
	}
	ct := &c.tags[i][k]
	ct.Allocs++
	ct.Bytes += int64(bytes)
	c.release()
	store8(b+offPoolType, typeAllocated)
	store32(b+offPoolTag, uint32(tag))
	store64(b+offCheck, s.cookie.seal(b, 0))
	if t&PoolZeroAllocation != 0 {
		zeroBody(e, bytes-HeaderSize)
	}
	return e
}

// cachedIntact reports whether b holds the header of a cached block of u
// units of pool k sealed without an owner: descriptor.checkCached's rule
// for a known size, read as one word and the check field.
func (s *System) cachedIntact(b uintptr, k Kind, u uintptr) bool {
	w := load32(b)
	return w>>byteBits&(1<<(2*byteBits)-1) == uint32(u)<<byteBits|uint32(k) &&
		w>>stateShift&typeStateMask == typeCached && load64(b+offCheck) == s.cookie.seal(b, 0)
}

// zeroBody clears n bytes (a multiple of 16) at a: word stores for a small
// body, the runtime's memclr for a larger one.
func zeroBody(a, n uintptr) {
	if n > zeroByWords {
		clear(bytesAt(a, n))
		return
	}
	for p := a; p < a+n; p += 2 * unsafe.Sizeof(uint64(0)) {
		store64(p, 0)
		store64(p+unsafe.Sizeof(uint64(0)), 0)
	}
}

// FreeToLookaside is ExFreePoolWithTag's lookaside hit: it frees the block
// at va onto the current processor's list and reports true, or reports
// false having changed nothing when the free is not the common case (see
// above); the caller then calls Free, which frees it or stops. A tag of 0
// is ExFreePool's (no tag check).
func (s *System) FreeToLookaside(va uintptr, tag Tag) bool {
	var r *region
	switch {
	case s.nonPaged.holds(va):
		r = s.nonPaged
	case s.paged.holds(va):
		r = s.paged
	default:
		return false
	}
	if va&(BlockUnit-1) != 0 || va&pageMask < HeaderSize || !s.lookaside || !r.mappedBit(va) {
		return false
	}
	b := va - HeaderSize
	w := load32(b)
	k, u, typ := Kind(w>>byteBits), uintptr(w>>(2*byteBits)&byteMask), uint8(w>>stateShift)
	if typ&(typeStateMask|typeQuota) != typeAllocated || u < minBlockUnits || u > SmallLists ||
		k >= NumKinds || s.desc[k].reg != r || b&pageMask+u<<BlockShift > pageSize ||
		load64(b+offCheck) != s.cookie.seal(b, 0) {
		return false
	}
	if next := b + u<<BlockShift; next&pageMask != 0 && uintptr(load8(next+offPreviousSize)) != u {
		return false
	}
	htag := Tag(load32(b + offPoolTag))
	if tag != 0 && tag != htag {
		return false
	}
	if irql := s.currentIrql(); irql > DispatchLevel || k == KindPaged && irql > APCLevel {
		return false
	}
	c := s.cpu()
	if !c.claim() {
		return false
	}
	l := c.list(k, u)
	cached := w&^(typeStateMask<<stateShift) | typeCached<<stateShift
	if l.count >= uint32(l.depth) || !atomic.CompareAndSwapUint32((*uint32)(Ptr(b)), w, cached) {
		c.release()
		return false
	}
	l.push(va)
	i := s.tags.firstProbe(htag)
	if i < 0 {
		i = s.tags.slot(htag)
	}
	ct := &c.tags[i][k]
	ct.Frees++
	ct.Bytes -= int64(u << BlockShift)
	c.release()
	return true
}
