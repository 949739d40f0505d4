// Lookaside lists: depth-limited caches of equal-sized blocks.
//
// A Lookaside is NT's GENERAL_LOOKASIDE reduced to its mechanism: an SList
// of blocks of one size, a target depth that bounds how many it keeps, and
// the counters NT keeps (TotalAllocates, AllocateMisses, TotalFrees,
// FreeMisses). The driver-facing ExInitialize[N]PagedLookasideList /
// LOOKASIDE_LIST_EX wraps this type with its Allocate/Free callbacks; the
// pool's per-processor caches (PerCPU) keep the same counters and depth
// policy (lookasideCounters) over a list of their own, so all of them share
// one depth policy.
//
// Depth policy (NT's ExAdjustLookasideDepth, run about once a second by the
// balance-set manager): AdjustDepth looks at the allocations and misses
// since the previous call.
//
//   - fewer than lookasideBusyAllocations allocations: the list is idle,
//     lower the depth by lookasideIdleStep;
//   - a miss rate under lookasideLowMissPerMille: the list is deep enough,
//     lower the depth by one;
//   - otherwise raise it in proportion to the miss rate, by
//     missRate*MaximumDepth/2 + lookasideRaiseBase, at most lookasideMaxRaise.
//
// The depth stays within MinimumLookasideDepth..MaximumDepth. Lowering it
// drops nothing: surplus entries drain as later frees miss.
//
// Locking: the SList's mutex also guards the depth and the counters, so a
// push is never admitted past the depth by a racing one. Lookaside holds no
// Go pointers and may live in pool memory. The per-processor lists keep the
// same counters and policy (lookasideCounters) under their processor's busy
// word instead (percpu.go).

package pool

// Depth bounds and policy constants.
const (
	MinimumLookasideDepth     = 4
	MaximumLookasideDepth     = 256
	lookasideBusyAllocations  = 25
	lookasideIdleStep         = 10
	lookasideLowMissPerMille  = 5
	lookasideRaiseBase        = 5
	lookasideMaxRaise         = 30
	perMille                  = 1000
	lookasideRaiseMissDivisor = 2
)

// lookasideCounters are a lookaside list's depth and NT's counters, with
// the depth policy; Lookaside and the per-processor lists (percpu.go) keep
// them under their own protection.
type lookasideCounters struct {
	depth, maximumDepth                                    uint16
	totalAllocates, allocateMisses, totalFrees, freeMisses uint32
	lastTotalAllocates, lastAllocateMisses                 uint32
}

// Lookaside is a depth-limited LIFO cache of equal-sized blocks. Call Init
// before use.
type Lookaside struct {
	list SList
	lookasideCounters
}

// LookasideStats is a snapshot of a Lookaside's counters.
type LookasideStats struct {
	TotalAllocates, AllocateMisses, TotalFrees, FreeMisses uint32
	Depth, MaximumDepth                                    uint16
	Count                                                  uint32 // entries held now
}

// newCounters sets the maximum depth; the depth starts at the minimum, as
// NT's does, and grows under adjustDepth when the list misses.
func newCounters(maximumDepth uint16) lookasideCounters {
	return lookasideCounters{maximumDepth: maximumDepth, depth: min(MinimumLookasideDepth, maximumDepth)}
}

// Init empties l and sets its maximum depth. It must not race with other
// use of l.
func (l *Lookaside) Init(maximumDepth uint16) {
	*l = Lookaside{lookasideCounters: newCounters(maximumDepth)}
}

// Allocate pops a cached block, or returns e=0 on a miss. ok=false reports
// a cached block whose link was overwritten (badLink is the damaged value).
func (l *Lookaside) Allocate() (e, badLink uintptr, ok bool) {
	l.list.mu.Lock()
	l.totalAllocates++
	e, badLink, ok = l.list.popLocked()
	if ok && e == 0 {
		l.allocateMisses++
	}
	l.list.mu.Unlock()
	return e, badLink, ok
}

// Free caches e (at least SListEntrySize bytes) unless the list is at its
// depth, in which case it reports false and the caller frees e for real.
func (l *Lookaside) Free(e uintptr) bool {
	l.list.mu.Lock()
	l.totalFrees++
	if l.list.depth >= uint32(l.depth) {
		l.freeMisses++
		l.list.mu.Unlock()
		return false
	}
	l.list.pushLocked(e)
	l.list.mu.Unlock()
	return true
}

// Flush empties the list and returns its chain for the caller to free; walk
// it with SListNext.
func (l *Lookaside) Flush() (first uintptr, n uint32) { return l.list.PopAll() }

// AdjustDepth applies the depth policy to the activity since the last call.
func (l *Lookaside) AdjustDepth() {
	l.list.mu.Lock()
	l.adjustDepth()
	l.list.mu.Unlock()
}

// Stats is a snapshot of l's counters.
func (l *Lookaside) Stats() LookasideStats {
	l.list.mu.Lock()
	defer l.list.mu.Unlock()
	return l.stats(l.list.depth)
}

// adjustDepth is the depth policy.
func (c *lookasideCounters) adjustDepth() {
	allocs := int(c.totalAllocates - c.lastTotalAllocates)
	misses := int(c.allocateMisses - c.lastAllocateMisses)
	c.lastTotalAllocates, c.lastAllocateMisses = c.totalAllocates, c.allocateMisses
	d, maxd := int(c.depth), int(c.maximumDepth)
	switch {
	case allocs < lookasideBusyAllocations:
		d -= lookasideIdleStep
	case misses*perMille/allocs < lookasideLowMissPerMille:
		d--
	default:
		rate := misses * perMille / allocs
		d += min(rate*maxd/(perMille*lookasideRaiseMissDivisor)+lookasideRaiseBase, lookasideMaxRaise)
	}
	c.depth = uint16(max(min(d, maxd), min(MinimumLookasideDepth, maxd)))
}

// stats is the counters with count entries held.
func (c *lookasideCounters) stats(count uint32) LookasideStats {
	return LookasideStats{
		TotalAllocates: c.totalAllocates, AllocateMisses: c.allocateMisses,
		TotalFrees: c.totalFrees, FreeMisses: c.freeMisses,
		Depth: c.depth, MaximumDepth: c.maximumDepth, Count: count,
	}
}
