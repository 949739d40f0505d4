package mm_test

// Every processor at once, for a few seconds: goroutines on all of them
// allocate and free pool (non-paged and paged, lookaside sizes and larger)
// and page frames (MmAllocatePagesForMdl), each block stamped with its
// owner and the processor that allocated it and checked before it is
// freed, so a block handed out twice, or written by another owner, shows.
// At the end the tag's counters, summed over every processor's, are back
// to zero, the pools are back where they started (pooltest.CheckBack) and
// the PFN database checks out.

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
	stressTime    = 3 * time.Second
	stressHeld    = 64 // blocks each worker keeps live
	stressMaxSize = 1500
)

type heldBlock struct {
	p     unsafe.Pointer
	size  uintptr
	stamp uint64
}

// stamp marks a block's first and last words with its owner's stamp.
func stamp(p unsafe.Pointer, size uintptr, s uint64) {
	*(*uint64)(p) = s
	*(*uint64)(unsafe.Add(p, size-8)) = s
}

func stamped(h heldBlock) bool {
	return *(*uint64)(h.p) == h.stamp && *(*uint64)(unsafe.Add(h.p, h.size-8)) == h.stamp
}

func TestEveryProcessorStressesPoolAndFrames(t *testing.T) {
	requireBare(t)
	workers := runtime.GOMAXPROCS(0)
	if ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups) < 2 || workers < 2 {
		t.Skip("one processor runs goroutines: boot with SMP=2 or more")
	}
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
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
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
					s := uint64(w)<<32 | uint64(cpu)<<16 | uint64(round&0xFFFF)
					stamp(p, size, s)
					held[i] = heldBlock{p, size, s}
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
		}()
	}
	wg.Wait()
	if s := bad.Load(); s != nil {
		t.Fatal(*s)
	}
	all := uint64(1)<<ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups) - 1
	t.Logf("%d workers, %d pool allocations and frees, %d frames, processors seen %#b", workers, ops.Load(), frames.Load(), seen.Load())
	if seen.Load() != all {
		t.Errorf("allocations ran on processors %#b, want all of %#b", seen.Load(), all)
	}
	if st, _ := ex.Pools().PoolUsed(tagSmp); st.Outstanding() != 0 || st.Bytes() != 0 {
		t.Errorf("the tag's counters summed over the processors: %d outstanding, %d bytes", st.Outstanding(), st.Bytes())
	}
	pooltest.CheckBack(t, ex.Pools(), start)
	if err := mm.PFN.Check(); err != nil {
		t.Errorf("PFN database after: %v", err)
	}
}
