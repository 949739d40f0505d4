// Package pooltest holds what the allocator's host tests (mm/pool, over
// arenas) and the kernel's tests of its real pools (mm, under make ktest)
// share: the state a pool must return to once a run has freed everything,
// and the random workload behind the overhead and fragmentation figures, so
// that the host's and the kernel's figures come from the same operations.
package pooltest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/mm/pool"
)

// Tag marks the workload's allocations.
var Tag = pool.MakeTag("Work")

// KindState is one pool's pages and bytes: NT's descriptor counters and a
// walk of its pages (RunningAllocs and RunningDeAllocs only ever grow and
// are left out).
type KindState struct {
	Pages, BigPages, Bytes, RegionPages int64
	Usage                               pool.Usage
}

// State is every pool's KindState with the caches flushed.
type State [pool.NumKinds]KindState

// Flushed flushes s's caches (lookaside lists, PendingFrees) and returns
// its state.
func Flushed(s *pool.System) State {
	s.Flush()
	var st State
	for k := range pool.NumKinds {
		d := s.Stats(k)
		st[k] = KindState{Pages: d.TotalPages, BigPages: d.TotalBigPages, Bytes: d.TotalBytes,
			RegionPages: d.RegionPages, Usage: s.Usage(k)}
	}
	return st
}

// CheckBack fails tb unless s, flushed, is exactly in state before.
func CheckBack(tb testing.TB, s *pool.System, before State) {
	tb.Helper()
	after := Flushed(s)
	for k := range pool.NumKinds {
		if after[k] != before[k] {
			tb.Errorf("%v pool not back where it started: before %+v, after %+v", k, before[k], after[k])
		}
	}
}

// Report describes the pools after RandomWorkload, in bytes relative to
// where they started.
type Report struct {
	Ops, Live int
	Requested int64 // asked for by the live allocations
	Footprint int64 // pages the pools took for them
	Cached    int64 // parked in caches before the flush
	// SmallPageBytes is the small-block pages taken, InFree the free
	// blocks inside them: space the pool holds but cannot hand out for
	// larger requests.
	SmallPageBytes, InFree int64
}

const percent = 100

// OverheadPercent is the share of the footprint not asked for: headers,
// rounding to blocks and pages, free space inside pages.
func (r Report) OverheadPercent() float64 {
	return percent * float64(r.Footprint-r.Requested) / float64(r.Footprint)
}

// FragmentationPercent is the share of small-block page bytes lying in
// free blocks.
func (r Report) FragmentationPercent() float64 {
	return percent * float64(r.InFree) / float64(r.SmallPageBytes)
}

func (r Report) String() string {
	return fmt.Sprintf("after %d ops: %d live blocks, %d bytes requested, %d bytes of pages held (overhead %.1f%%), "+
		"%d bytes free inside %d bytes of small-block pages (fragmentation %.1f%%), %d bytes were cached",
		r.Ops, r.Live, r.Requested, r.Footprint, r.OverheadPercent(),
		r.InFree, r.SmallPageBytes, r.FragmentationPercent(), r.Cached)
}

// The workload's shape: about liveTarget blocks live, and in percent of
// allocations, sizes of
//
//	70  1 .. smallMax
//	20  smallMax+1 .. pool.MaxSmallRequest (the largest small block)
//	 8  big, up to bigMax
//	 2  big, bigMax .. hugeMax
const (
	liveTarget   = 8000
	smallMax     = 256
	smallShare   = 70
	mediumShare  = smallShare + 20
	bigShare     = mediumShare + 8
	bigMax       = 16 << 10
	hugeMax      = 64 << 10
	seed1, seed2 = 42, 4242
)

var workloadTypes = [...]pool.PoolType{pool.NonPagedPool, pool.NonPagedPoolExecute, pool.PagedPool}

// size draws an allocation size.
func size(r *rand.Rand) uintptr {
	switch p := r.IntN(percent); {
	case p < smallShare:
		return uintptr(r.IntN(smallMax)) + 1
	case p < mediumShare:
		return uintptr(r.IntN(pool.MaxSmallRequest-smallMax)) + smallMax + 1
	case p < bigShare:
		return uintptr(r.IntN(bigMax-pool.MaxSmallRequest)) + pool.MaxSmallRequest + 1
	}
	return uintptr(r.IntN(hugeMax-bigMax)) + bigMax
}

// stamp writes a block's own address into its first word, and stamped
// checks it: two live blocks that overlap cannot both keep theirs.
func stamp(va uintptr)        { *(*uintptr)(pool.Ptr(va)) = va }
func stamped(va uintptr) bool { return *(*uintptr)(pool.Ptr(va)) == va }

// RandomWorkload runs ops random allocations and frees on s with a fixed
// seed (sizes mostly small, some big, all three pools), measures the live
// blocks with the caches flushed, then frees everything and checks that s
// is back where it started.
func RandomWorkload(tb testing.TB, s *pool.System, ops int) Report {
	tb.Helper()
	start := Flushed(s)
	r := rand.New(rand.NewPCG(seed1, seed2))
	type live struct{ va, n uintptr }
	var blocks []live
	for range ops {
		if len(blocks) == 0 || r.IntN(2*liveTarget) >= len(blocks) {
			n := size(r)
			t := workloadTypes[r.IntN(len(workloadTypes))]
			va := s.Allocate(t, n, Tag, pool.NormalPoolPriority, 0)
			if va == 0 {
				tb.Fatalf("Allocate(%#x, %d) failed with %d blocks live", t, n, len(blocks))
			}
			stamp(va)
			blocks = append(blocks, live{va, n})
			continue
		}
		i := r.IntN(len(blocks))
		if !stamped(blocks[i].va) {
			tb.Fatalf("block %#x (%d bytes) overwritten", blocks[i].va, blocks[i].n)
		}
		s.Free(blocks[i].va, Tag)
		blocks[i] = blocks[len(blocks)-1]
		blocks = blocks[:len(blocks)-1]
	}
	rep := Report{Ops: ops, Live: len(blocks)}
	for _, bl := range blocks {
		rep.Requested += int64(bl.n)
	}
	for k := range pool.NumKinds {
		rep.Cached += int64(s.Usage(k).Cached)
	}
	end := Flushed(s)
	for k := range pool.NumKinds {
		before, after := start[k].Usage, end[k].Usage
		rep.Footprint += (after.Pages + after.BigPages - before.Pages - before.BigPages) * physmem.PageSize
		rep.SmallPageBytes += (after.Pages - before.Pages) * physmem.PageSize
		rep.InFree += int64(after.Free) - int64(before.Free)
	}
	for _, bl := range blocks {
		if !stamped(bl.va) {
			tb.Fatalf("block %#x (%d bytes) overwritten", bl.va, bl.n)
		}
		s.Free(bl.va, Tag)
	}
	CheckBack(tb, s, start)
	return rep
}
