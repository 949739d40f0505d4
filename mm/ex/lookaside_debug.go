// What !lookaside shows: every lookaside list in the system with NT's
// counters.
//
// Lookasides gathers snapshots of the per-processor pool lists (from
// pool.PerCPU) and of the drivers' lists (from the registry); the debugger
// view (kernel/kd/mmext) prints them the way the extension does, one list a
// line with its hit rate. Each list's counters are read under its own
// lock, so a line is consistent but the table is not one instant.

package ex

import "ntgo/mm/pool"

// LookasideOwner says who made a list.
type LookasideOwner string

// Owners: the pool's per-processor caches, and the three driver APIs.
const (
	OwnerSystem LookasideOwner = "System"
	OwnerNPaged LookasideOwner = "NPaged"
	OwnerPaged  LookasideOwner = "Paged"
	OwnerEx     LookasideOwner = "Ex"
)

// LookasideInfo is one list's snapshot.
type LookasideInfo struct {
	Owner    LookasideOwner
	CPU      int     // processor of a System list; -1 for a driver's
	Address  uintptr // the driver's list structure; 0 for a System list
	PoolType pool.PoolType
	Tag      pool.Tag // 0 for a System list
	Size     uintptr  // entry size; a System list's includes the pool header
	pool.LookasideStats
}

// HitRate is the percentage of allocations the cache served.
func (i LookasideInfo) HitRate() uint32 {
	const percent = 100
	if i.TotalAllocates == 0 {
		return 0
	}
	return uint32(uint64(i.TotalAllocates-i.AllocateMisses) * percent / uint64(i.TotalAllocates))
}

// firstUsedUnits is the smallest block with a per-processor list in use:
// no block is a single unit (see pool.SmallLists).
const firstUsedUnits = 2

// Lookasides is every lookaside list: the System per-processor ones by
// processor, pool and size, then the drivers' in registration order.
func Lookasides() []LookasideInfo {
	p := sys().pools
	var out []LookasideInfo
	for cpu := range p.CPUs() {
		for k := range pool.NumKinds {
			for u := firstUsedUnits; u <= pool.SmallLists; u++ {
				out = append(out, LookasideInfo{Owner: OwnerSystem, CPU: cpu, PoolType: k.PoolType(),
					Size: uintptr(u) * pool.BlockUnit, LookasideStats: p.CPU(cpu).LookasideStats(k, u)})
			}
		}
	}
	owners := [...]LookasideOwner{apiNPaged: OwnerNPaged, apiPaged: OwnerPaged, apiEx: OwnerEx}
	eachLookaside(func(r registration) {
		out = append(out, LookasideInfo{Owner: owners[r.api], CPU: -1, Address: uintptrOf(r.list),
			PoolType: r.list.allocType, Tag: r.list.tag, Size: r.list.size, LookasideStats: r.list.cache.Stats()})
	})
	return out
}
