package mm_test

// Every processor that runs goroutines at once, for a few seconds:
// workers allocate and free pool (nonpaged and paged, lookaside sizes and
// larger) and page frames (MmAllocatePagesForMdl), each block stamped with
// its owner and checked before it is freed, so a block handed out twice,
// or written by another owner, shows. At the end the tag's counters,
// summed over every processor's, are exact, the pools are back where they
// started (pooltest.CheckBack) and the PFN database checks out. Every
// processor runs goroutines, so each must have served allocations from its
// own caches; on one processor the workers share it and are preempted
// inside each other's calls. Meanwhile another goroutine flushes every
// processor's caches, runs the depth policy and sums the tag counters.

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/pool"
	"ntgo/mm/pool/pooltest"
	"ntgo/nt/ke"
)

var tagSmp = pool.MakeTag("MmMp")

const (
	stressTime    = 2 * time.Second
	stressHeld    = 64 // blocks each worker keeps live
	stressMaxSize = 1500
)

type heldBlock struct {
	p     unsafe.Pointer
	size  uintptr
	stamp uint64
}

// stampBlock marks a block's first and last words with its owner's stamp.
func stampBlock(h heldBlock) {
	*(*uint64)(h.p) = h.stamp
	*(*uint64)(unsafe.Add(h.p, h.size-8)) = h.stamp
}

func stamped(h heldBlock) bool {
	return *(*uint64)(h.p) == h.stamp && *(*uint64)(unsafe.Add(h.p, h.size-8)) == h.stamp
}

func TestEveryProcessorStressesPoolAndFrames(t *testing.T) {
	requireBare(t)
	active := int(ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups))
	if got := ex.Pools().CPUs(); got != active {
		t.Fatalf("the pool has %d processors' caches, %d processors are active", got, active)
	}
	workers := max(runtime.GOMAXPROCS(0), 2)
	if err := mm.PFN.Check(); err != nil {
		t.Fatalf("PFN database before: %v", err)
	}
	start := pooltest.Flushed(ex.Pools())
	deadline := time.Now().Add(stressTime)
	var seen atomic.Uint64 // processors an allocation ran on
	var ops, frames atomic.Int64
	var bad atomic.Pointer[string]
	fail := func(s string) { bad.CompareAndSwap(nil, &s) }
	var wg sync.WaitGroup
	var flushes atomic.Int64
	wg.Go(func() { // the bookkeeping that reaches every processor's caches, meanwhile
		for time.Now().Before(deadline) && bad.Load() == nil {
			ex.Pools().Flush()
			ex.Pools().AdjustLookasideDepths()
			ex.Pools().PoolUsed(tagSmp)
			flushes.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
	})
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 17))
			var held [stressHeld]heldBlock
			release := func(h heldBlock) {
				if !stamped(h) {
					fail("a block was written by another owner (handed out twice?)")
				}
				ex.FreePoolWithTag(h.p, tagSmp)
			}
			for round := 0; time.Now().Before(deadline) && bad.Load() == nil; round++ {
				for i := range held {
					if held[i].p != nil {
						release(held[i])
					}
					size := uintptr(16 + r.IntN(stressMaxSize))
					flags := ex.PoolFlagNonPaged
					if r.IntN(2) == 0 {
						flags = ex.PoolFlagPaged
					}
					p := ex.AllocatePool2(flags|ex.PoolFlagUninitialized, size, tagSmp)
					if p == nil {
						fail("the pool refused an allocation")
						return
					}
					cpu := ke.CurrentProcessorNumber()
					seen.Or(1 << uint(cpu))
					held[i] = heldBlock{p, size, uint64(w)<<32 | uint64(cpu)<<16 | uint64(round&0xFFFF)}
					stampBlock(held[i])
					ops.Add(1)
				}
				if m := mm.AllocatePagesForMdl(0, ^uint64(0), 0, 4<<12); m != nil {
					frames.Add(int64(len(m.Pages())))
					mm.FreePagesFromMdl(m)
					mm.FreeMdl(m)
				}
			}
			for _, h := range held {
				if h.p != nil {
					release(h)
				}
			}
		})
	}
	wg.Wait()
	if s := bad.Load(); s != nil {
		t.Fatal(*s)
	}
	t.Logf("%d workers, %d processors active, %d pool allocations and frees, %d frames, processors seen %#b, %d flushes",
		workers, active, ops.Load(), frames.Load(), seen.Load(), flushes.Load())
	if active > 1 {
		if all := uint64(1)<<active - 1; seen.Load() != all {
			t.Errorf("allocations ran on processors %#b, want all of %#b", seen.Load(), all)
		}
	}
	if st, _ := ex.Pools().PoolUsed(tagSmp); st.Outstanding() != 0 || st.Bytes() != 0 {
		t.Errorf("the tag's counters summed over the processors: %d outstanding, %d bytes", st.Outstanding(), st.Bytes())
	}
	pooltest.CheckBack(t, ex.Pools(), start)
	if err := mm.PFN.Check(); err != nil {
		t.Errorf("PFN database after: %v", err)
	}
}
