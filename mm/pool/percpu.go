// Per-processor pool state.
//
// NT keeps, in each processor's KPRCB, a lookaside list per small block size
// for each of the nonpaged, paged and nonpaged-NX pools
// (PPNPagedLookasideList, PPPagedLookasideList, PPNxPagedLookasideList),
// and since Windows 7 a pool tag table per processor. ntgo's PerCPU is both:
// for each Kind a list per block size of up to SmallLists units, and the
// tag counters of the allocations and frees this processor served from
// them. The System holds one per processor, indexed by processor number
// as NT reaches the KPRCB's lists from the KPCR: the first from New
// (Config.CPUs, or one of its own), the others from AddCPU, which the
// kernel calls for each processor before starting it (mm.AddProcessor).
// On the host there is one and the processor number is 0.
//
// Protection (SMP): the state is reached through the processor the caller
// runs on, and a goroutine may be preempted, or moved to another
// processor, anywhere in a call. Whoever touches a PerCPU first claims its
// busy word (0 to 1, one compare-and-swap) and releases it with a plain
// store (not an XCHG: one locked instruction less); everything under it (list head, depth, NT's lookaside counters,
// the tag counters) is plain memory. A caller that finds the word taken,
// because another goroutine on this processor was preempted inside its
// fast path or because a goroutine that moved here mid-call still holds
// its old processor's word, does not wait: the fast path falls back to the
// descriptors, and the bookkeeping paths (reclaim, depth policy,
// statistics) yield and retry. So a stale processor choice costs a
// fallback, never a corrupted list or a lost count, and the counters summed
// over processors are exact when nothing runs.
//
// That is a preemption-disable count, one bit wide, that the fast path
// checks instead of the scheduler honouring it. It was chosen over NT's
// interlocked SLIST_HEADER by measurement (BenchmarkProtection: a pop and a
// push with two counter updates each, interleaved; one run each, TCG
// kernel / host, on a loaded shared host): unprotected 64 / 5.7 ns, busy
// word (released with a plain store) 122 / 26 ns, nt/list's SLIST with
// atomic counters 491 / 90 ns, the mutex the lists had 355 / 87 ns. The SLIST pops and pushes with CMPXCHG16B in an assembly
// routine, a call per operation (under TCG a call and its return cost
// ~45 ns), and its counters must be atomic to stay exact, since a goroutine
// that moved mid-call still updates its first processor's: four more
// locked adds per pair. A preemption-disable count the scheduler honours
// would need the runtime's procPin and procUnpin (two calls) and the
// kernel's scheduler to check it. A claim without any locked instruction
// was built and measured too: an assembly routine that reads the
// processor number from GS and stores the claim, with the scheduler never
// switching a thread whose RIP is inside it and reclaim asking each
// processor to empty its own lists by IPI. In BenchmarkProtection's same
// runs in the kernel it cost 76 / 71 ns a pair at SMP=2 / 4 against the
// busy word's 56 / 40: under TCG the routine's call costs more than the
// LOCK CMPXCHG it saves, so it was not kept. The busy word is an inlined
// LOCK CMPXCHG and a plain store, and it also keeps a cached entry from
// being unmapped under a pop (nt/list's SLIST notes that hazard).

package pool

import (
	"runtime"
	"sync/atomic"
)

// SmallLists is POOL_SMALL_LISTS: blocks of up to 32 units (512 bytes with
// the header) have per-processor lookaside lists. List i holds blocks of
// i+1 units; list 0 stays empty since no block is smaller than two units.
const SmallLists = 32

// MaxCachedRequest is the largest request a per-processor list serves.
const MaxCachedRequest = SmallLists<<BlockShift - HeaderSize

// PerCPU is one processor's pool caches and tag counters.
type PerCPU struct {
	// busy is claimed with a compare-and-swap and released with a plain
	// store (release): on x86-64 (TSO) a store is not reordered with
	// earlier loads or stores, and the compiler keeps stores in program
	// order, so a plain MOV publishes the list as an XCHG would, at the
	// cost of one locked instruction less per operation.
	busy  uint32
	lists [NumKinds][SmallLists]cpuList
	// tags counts what this processor served, by tag-table slot (the last
	// one is TagOverflow's) and Kind.
	tags [TagTableSize + 1][NumKinds]TagCounts
}

// cpuList is one processor's cache of blocks of one size: a LIFO chained
// through the blocks' bodies with SList's guarded entries, and NT's
// lookaside counters. The busy word guards it.
type cpuList struct {
	head  uintptr
	count uint32
	lookasideCounters
}

// claim takes c's busy word if it is free.
func (c *PerCPU) claim() bool { return atomic.CompareAndSwapUint32(&c.busy, 0, 1) }

// release gives the busy word back.
func (c *PerCPU) release() { c.busy = 0 }

// wait takes c's busy word, yielding while a fast path holds it. After
// waitYields it takes nothing and reports false: the holder is not running
// (a goroutine stopped on another thread while this one cannot let it run,
// as in a crash dump's capture), and a reader may then read as it stands.
func (c *PerCPU) wait() bool {
	for range waitYields {
		if c.claim() {
			return true
		}
		runtime.Gosched()
	}
	return false
}

// waitYields bounds wait; a fast path holds the word for a few dozen
// instructions.
const waitYields = 1 << 16

// list is the list for blocks of u units of pool k.
func (c *PerCPU) list(k Kind, u uintptr) *cpuList { return &c.lists[k][u-1] }

// peek is the head entry and its successor, with ok false if the head's
// link was overwritten (next is then the damaged value). The busy word is
// held.
func (l *cpuList) peek() (e, next uintptr, ok bool) {
	if e = l.head; e == 0 {
		return 0, 0, true
	}
	next, ok = SListNext(e)
	return e, next, ok
}

// take pops the head e found by peek, whose successor is next, and counts
// the hit.
func (l *cpuList) take(next uintptr) {
	l.head = next
	l.count--
	l.totalAllocates++
}

// push caches the block body e unless the list is at its depth; it counts
// the free either way.
func (l *cpuList) push(e uintptr) bool {
	l.totalFrees++
	if l.count >= uint32(l.depth) {
		l.freeMisses++
		return false
	}
	slistLink(e, l.head)
	l.head = e
	l.count++
	return true
}

// LookasideStats reports the list for blocks of blockUnits units of pool k.
func (c *PerCPU) LookasideStats(k Kind, blockUnits int) LookasideStats {
	held := c.wait()
	l := c.list(k, uintptr(blockUnits))
	st := l.stats(l.count)
	if held {
		c.release()
	}
	return st
}

func (c *PerCPU) init() {
	for k := range c.lists {
		for i := range c.lists[k] {
			c.lists[k][i] = cpuList{lookasideCounters: newCounters(MaximumLookasideDepth)}
		}
	}
	c.tags = [TagTableSize + 1][NumKinds]TagCounts{}
}
