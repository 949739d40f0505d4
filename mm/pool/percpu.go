// Per-processor pool state.
//
// NT keeps, in each processor's KPRCB, a lookaside list per small block size
// for each of the nonpaged, paged and nonpaged-NX pools
// (PPNPagedLookasideList, PPPagedLookasideList, PPNxPagedLookasideList).
// Allocations of up to SmallLists units try the current processor's list
// first and frees go back to it, so the common case takes no descriptor lock
// and touches memory the processor recently used.
//
// PerCPU is that array. The kernel embeds one in each KPCR and hands the
// pool the set plus a function giving the current processor's number; on
// the host there is one PerCPU and the number is always 0. New initializes
// the lists, so a zero PerCPU is what the kernel embeds.

package pool

// SmallLists is POOL_SMALL_LISTS: blocks of up to 32 units (512 bytes with
// the header) have per-processor lookaside lists. List i holds blocks of
// i+1 units; list 0 stays empty since no block is smaller than two units.
const SmallLists = 32

// PerCPU is one processor's pool caches.
type PerCPU struct {
	lookaside [NumKinds][SmallLists]Lookaside
}

// list is the lookaside list for blocks of u units of pool k.
func (c *PerCPU) list(k Kind, u uintptr) *Lookaside { return &c.lookaside[k][u-1] }

// LookasideStats reports the list for blocks of blockUnits units of pool k.
func (c *PerCPU) LookasideStats(k Kind, blockUnits int) LookasideStats {
	return c.lookaside[k][blockUnits-1].Stats()
}

func (c *PerCPU) init() {
	for k := range c.lookaside {
		for i := range c.lookaside[k] {
			c.lookaside[k][i].Init(MaximumLookasideDepth)
		}
	}
}
