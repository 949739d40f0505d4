// The lookaside hit: allocation and free served by the current processor's
// list, each within one function.
//
// Allocate and Free, which every ExAllocatePool*/ExFreePool* routine of
// mm/ex reaches with one call, begin with the hit. Each serves only the
// common case and otherwise declines, having changed nothing, and passes
// the request to the full path (allocateFull, freeFull), which runs as it
// would have without the hit and raises every bugcheck it raises:
//
//   - allocation: no quota owner, a valid priority, a plain pool type (nonpaged NX or executable, or paged;
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
// Before the hit, one atomic flag says whether Driver Verifier wants to see
// the call (verifier.go); it is off unless some driver is verified.
//
// Nothing here is an interface or closure call, or a privileged
// instruction: the processor number is read once (ke, an inlined load of
// the self-map entry; it was a call, and under TCG every call costs
// ~45 ns) and the IRQL is that processor's software copy (a goroutine
// moved in between reads its old processor's: if that one is raised, the
// request goes to the full path, which reads again; at raised IRQL no
// thread is switched, so a raised reading is never stale). Tests that set
// Config.CPUNumber or Config.IRQL get theirs (hookedProcessor). The mapped
// test is the region's bitmap. The tag counters the hit updates are the
// processor's own, under its busy word (percpu.go).

package pool

import (
	"sync/atomic"
	"unsafe"

	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// fastTypeBits are the PoolType bits the hit serves: the pool (paged, NX),
// zeroing, and the raise bit, which matters only on failure. Anything else
// (cache alignment, session, must-succeed, quota-fail) is the full path's.
const fastTypeBits = BasePoolTypeMask | PoolNxAllocation | PoolZeroAllocation | PoolRaiseIfAllocationFailure

// stateShift is the PoolType byte's position in the header's first word.
const stateShift = byteBits * offPoolType

// zeroByWords is the largest body cleared with word stores instead of a call
// to the runtime's memclr.
const zeroByWords = 128

// Allocate is ExAllocatePoolWithTagPriority: n bytes of pool type t, tagged,
// at priority prio. A nonzero owner is a quota owner (mm/ex's handle) sealed
// in the block so that Free returns its charge through Config.ReturnQuota;
// the caller has already charged ChargeSize(t, n). The memory is zeroed only
// if t has PoolZeroAllocation. Allocate returns 0 when the pool cannot
// satisfy the request or t or prio is not one it serves (session pool, the
// quota-fail bit, unknown bits), unless t has POOL_RAISE_IF_ALLOCATION_FAILURE:
// then it raises STATUS_INSUFFICIENT_RESOURCES (ntstatus.Raise) instead, as
// ExAllocatePoolWithTag does. A t with FromPoolFlags is ExAllocatePool2's
// POOL_FLAGS, decoded first (poolflags.go).
func (s *System) Allocate(t PoolType, n uintptr, tag Tag, prio Priority, owner uintptr) uintptr {
	if t&FromPoolFlags != 0 {
		f := uint64(t &^ FromPoolFlags)
		var ok bool
		if t, ok = CommonFlagsType(f); !ok {
			return s.allocateFlags(f, n, tag)
		}
	}
	if s.verifying.Load() {
		if va, ok := s.verifyAllocate(t, n, tag, prio, owner, arch.FramePointer()); ok {
			return va
		}
	}
	if t&^fastTypeBits != 0 || n > MaxCachedRequest || !s.lookaside || owner != 0 ||
		prio != NormalPoolPriority && !prio.Valid() {
		return s.allocateFull(t, n, tag, prio, owner)
	}
	k := KindOf(t)
	cpu := ke.CurrentProcessorNumber()
	irql := uint8(ke.ProcessorIrql(cpu))
	if s.hooked {
		cpu, irql = s.hookedProcessor()
	}
	if irql > DispatchLevel || k == KindPaged && irql > APCLevel {
		return s.allocateFull(t, n, tag, prio, owner)
	}
	u := units(n)
	c := s.cpuAt(cpu)
	if !c.claim() {
		return s.allocateFull(t, n, tag, prio, owner)
	}
	l := c.list(k, u)
	e, next, ok := l.peek()
	b := e - HeaderSize
	if e == 0 || !ok || !s.cachedIntact(b, k, u) {
		c.release()
		return s.allocateFull(t, n, tag, prio, owner)
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

// Free is ExFreePoolWithTag: it frees the allocation at va, checking its tag
// unless tag is 0 (ExFreePool).
func (s *System) Free(va uintptr, tag Tag) {
	if s.verifying.Load() && s.verifyFree(va, tag) {
		return
	}
	cpu := ke.CurrentProcessorNumber()
	irql := uint8(ke.ProcessorIrql(cpu))
	if s.hooked {
		cpu, irql = s.hookedProcessor()
	}
	var r *region
	switch {
	case s.nonPaged.holds(va):
		r = s.nonPaged
	case s.paged.holds(va):
		r = s.paged
	default:
		if !s.specialFree(va, tag) {
			s.freeFull(va, tag)
		}
		return
	}
	if va&(BlockUnit-1) != 0 || va&pageMask < HeaderSize || !s.lookaside || !r.mappedBit(va) {
		s.freeFull(va, tag)
		return
	}
	b := va - HeaderSize
	// The header word read by its parts: on the host a pair is ~5 ns
	// faster this way than with one 32-bit load (or two 16-bit halves with
	// Allocate storing the upper one), most likely a store-forwarding
	// stall behind Allocate's PoolType byte. A torn word only fails the
	// compare-and-swap below, which compares the whole word.
	w := uint32(load16(b)) | uint32(load8(b+offBlockSize))<<(2*byteBits) | uint32(load8(b+offPoolType))<<stateShift
	k, u, typ := Kind(w>>byteBits), uintptr(w>>(2*byteBits)&byteMask), uint8(w>>stateShift)
	if typ&(typeStateMask|typeQuota) != typeAllocated || u < minBlockUnits || u > SmallLists ||
		k >= NumKinds || s.desc[k].reg != r || b&pageMask+u<<BlockShift > pageSize ||
		load64(b+offCheck) != s.cookie.seal(b, 0) {
		s.freeFull(va, tag)
		return
	}
	if next := b + u<<BlockShift; next&pageMask != 0 && uintptr(load8(next+offPreviousSize)) != u {
		s.freeFull(va, tag)
		return
	}
	htag := Tag(load32(b + offPoolTag))
	if tag != 0 && tag != htag {
		s.freeFull(va, tag)
		return
	}
	if irql > DispatchLevel || k == KindPaged && irql > APCLevel {
		s.freeFull(va, tag)
		return
	}
	c := s.cpuAt(cpu)
	if !c.claim() {
		s.freeFull(va, tag)
		return
	}
	l := c.list(k, u)
	cached := w&^(typeStateMask<<stateShift) | typeCached<<stateShift
	if l.count >= uint32(l.depth) || !atomic.CompareAndSwapUint32((*uint32)(Ptr(b)), w, cached) {
		c.release()
		s.freeFull(va, tag)
		return
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
}
