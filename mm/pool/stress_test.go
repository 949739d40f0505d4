package pool

// Stress tests: large, deterministic workloads meant to run on the host and,
// unchanged, inside the kernel.

import (
	"math/rand/v2"
	"sync"
	"testing"
)

func TestStress42Bytes(t *testing.T) {
	const n = 100_000
	tp := newTestPool(t, poolOpts{pages: 8192})
	vas := make([]uintptr, n)
	for i := range vas {
		vas[i] = tp.alloc(t, NonPagedPool, 42, tagTest)
		store64(vas[i], uint64(i))
	}
	if st, _ := tp.PoolUsed(tagTest); st.Outstanding() != n || st.Bytes() != n*64 {
		t.Fatalf("tag counters %+v", st)
	}
	for i, va := range vas {
		if load64(va) != uint64(i) {
			t.Fatalf("block %d overwritten", i)
		}
		tp.Free(va, tagTest)
	}
	tp.idle(t)
}

// Sizes rising irregularly to 100 KiB nonpaged and 500 KiB paged, each
// filled, checked and freed.
func TestStressRisingSizes(t *testing.T) {
	tp := newTestPool(t, poolOpts{pages: 1024})
	for _, c := range []struct {
		pt  PoolType
		max uintptr
	}{{NonPagedPool, 100 << 10}, {NonPagedPoolExecute, 100 << 10}, {PagedPool, 500 << 10}} {
		keep := tp.alloc(t, c.pt, 1, tagTest) // a neighbour that must survive
		fill(keep, 1)
		for n := uintptr(1); n <= c.max; n += n/5 + 7 + n%13 {
			va := tp.alloc(t, c.pt, n, tagTest)
			fill(va, n)
			if !check(va, n) || !check(keep, 1) {
				t.Fatalf("%#x %d bytes: contents", c.pt, n)
			}
			tp.Free(va, tagTest)
		}
		tp.Free(keep, tagTest)
	}
	tp.idle(t)
}

// PAGE_SIZE allocations until the pool refuses, then all freed: the pool
// is back where it started.
func TestStressPageSizeUntilRefused(t *testing.T) {
	tp := newTestPool(t, poolOpts{pages: 4096, maxPages: 2048})
	for _, pt := range []PoolType{NonPagedPool, PagedPool} {
		before := tp.Stats(KindOf(pt))
		vas := allocUntilRefused(tp, pt, pageSize, NormalPoolPriority)
		if len(vas) != 2048*normalPriorityCeilingPercent/percent {
			t.Fatalf("%#x: %d pages before refusal", pt, len(vas))
		}
		for _, va := range vas {
			tp.Free(va, tagTest)
		}
		after := tp.Stats(KindOf(pt))
		if after.TotalBigPages != before.TotalBigPages || after.TotalBytes != before.TotalBytes ||
			after.RegionPages != before.RegionPages || after.RunningAllocs-before.RunningAllocs != uint64(len(vas)) ||
			after.RunningDeAllocs-before.RunningDeAllocs != uint64(len(vas)) {
			t.Fatalf("%#x: before %+v after %+v", pt, before, after)
		}
	}
	tp.idle(t)
}

// Goroutines allocating and freeing at once share the lookaside lists,
// PendingFrees and descriptors; every block keeps its contents and all
// pages come back.
func TestStressConcurrent(t *testing.T) {
	const (
		workers = 4
		ops     = 20_000
		maxLive = 64
	)
	tp := newTestPool(t, poolOpts{pages: 8192})
	types := [...]PoolType{NonPagedPool, NonPagedPoolExecute, PagedPool, NonPagedPoolNxCacheAligned}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			tag := Tag(w + 1)
			type live struct{ va, n uintptr }
			var blocks []live
			for range ops {
				if len(blocks) < maxLive && r.IntN(2) == 0 {
					n := uintptr(r.IntN(600)) + 1
					if r.IntN(20) == 0 {
						n += uintptr(r.IntN(12000))
					}
					va := tp.Allocate(types[r.IntN(len(types))], n, tag, NormalPoolPriority, 0)
					if va == 0 {
						t.Error("allocation failed")
						return
					}
					fillSeed(va, n, uint64(va))
					blocks = append(blocks, live{va, n})
					continue
				}
				if len(blocks) == 0 {
					continue
				}
				i := r.IntN(len(blocks))
				if !checkSeed(blocks[i].va, blocks[i].n, uint64(blocks[i].va)) {
					t.Errorf("block %#x lost its contents", blocks[i].va)
					return
				}
				tp.Free(blocks[i].va, tag)
				blocks[i] = blocks[len(blocks)-1]
				blocks = blocks[:len(blocks)-1]
			}
			for _, b := range blocks {
				tp.Free(b.va, tag)
			}
		}()
	}
	wg.Wait()
	for w := range workers {
		if st, _ := tp.PoolUsed(Tag(w + 1)); st.Outstanding() != 0 || st.Bytes() != 0 {
			t.Errorf("tag %d: %+v", w+1, st)
		}
	}
	tp.idle(t)
}
