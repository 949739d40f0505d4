package pool

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// A System starts with one processor's caches, as the kernel's does; AddCPU
// gives each further processor its own, in order. Before its caches exist a
// processor shares another's; after, its frees are cached on its own lists.
func TestAddCPU(t *testing.T) {
	var cpu atomic.Int32
	a, b := NewArena(256), NewArena(256)
	defer a.Close()
	defer b.Close()
	s, err := New(Config{NonPaged: a, Paged: b, MaxNonPagedBytes: 256 * pageSize, MaxPagedBytes: 256 * pageSize,
		CPUNumber: func() int { return int(cpu.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	if s.CPUs() != 1 {
		t.Fatalf("%d processors' caches at start, want 1", s.CPUs())
	}
	if s.AddCPU(2) == nil || s.AddCPU(0) == nil {
		t.Fatal("AddCPU accepted a processor out of order")
	}
	u := int(units(64))
	cpu.Store(1) // no caches of its own yet: it shares processor 0's
	s.Free(s.Allocate(NonPagedPool, 64, tagTest, NormalPoolPriority, 0), tagTest)
	if st := s.CPU(0).LookasideStats(KindNonPagedNx, u); st.Count != 1 {
		t.Fatalf("processor 1 before AddCPU: processor 0's list %+v, want the block", st)
	}
	for n := 1; n < 4; n++ {
		if err := s.AddCPU(n); err != nil {
			t.Fatalf("AddCPU(%d): %v", n, err)
		}
	}
	if s.CPUs() != 4 {
		t.Fatalf("%d processors' caches, want 4", s.CPUs())
	}
	for n := range 4 {
		cpu.Store(int32(n))
		s.Free(s.Allocate(NonPagedPool, 200, tagTest, NormalPoolPriority, 0), tagTest)
	}
	for n := range 4 {
		if st := s.CPU(n).LookasideStats(KindNonPagedNx, int(units(200))); st.Count != 1 || st.TotalFrees != 1 {
			t.Errorf("processor %d's list after one free there: %+v, want one block cached", n, st)
		}
	}
	s.Flush()
}

// Processors are added while goroutines whose processor number changes
// within their calls allocate and free: the counters summed at quiescence
// are exact and every processor's lists were used.
func TestAddCPUUnderLoad(t *testing.T) {
	const processors, workers, rounds = 4, 8, 4000
	a, b := NewArena(2048), NewArena(2048)
	defer a.Close()
	defer b.Close()
	s, err := New(Config{NonPaged: a, Paged: b, MaxNonPagedBytes: 2048 * pageSize, MaxPagedBytes: 2048 * pageSize,
		CPUNumber: func() int { return rand.IntN(processors) }})
	if err != nil {
		t.Fatal(err)
	}
	tag := MakeTag("AddC")
	var allocs atomic.Uint64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var held []uintptr
			for i := range rounds {
				pt := []PoolType{NonPagedPool, PagedPool}[(w+i)%2]
				va := s.Allocate(pt, uintptr(16+(w*37+i)%480), tag, NormalPoolPriority, 0)
				if va == 0 {
					t.Error("allocation failed")
					return
				}
				allocs.Add(1)
				if held = append(held, va); len(held) > 3 {
					s.Free(held[0], tag)
					held = held[1:]
				}
			}
			for _, va := range held {
				s.Free(va, tag)
			}
		})
	}
	for n := 1; n < processors; n++ {
		if err := s.AddCPU(n); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	st, _ := s.PoolUsed(tag)
	if st.Outstanding() != 0 || st.Bytes() != 0 {
		t.Errorf("summed counters: %d outstanding, %d bytes, want 0", st.Outstanding(), st.Bytes())
	}
	var sum uint64
	for k := range NumKinds {
		sum += st.Kinds[k].Allocs
	}
	if sum != allocs.Load() {
		t.Errorf("summed allocations %d, want %d", sum, allocs.Load())
	}
	for n := range processors {
		var used uint32
		for k := range NumKinds {
			for u := minBlockUnits; u <= SmallLists; u++ {
				used += s.CPU(n).LookasideStats(k, u).TotalFrees
			}
		}
		if used == 0 {
			t.Errorf("processor %d's lists were never used", n)
		}
	}
	s.Flush()
}
