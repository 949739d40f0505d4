package mm_test

// Benchmarks of physical memory on the machine, run inside the kernel by
// `make bench` (the demand-zero and clear cases also run on the host, for
// comparison with Linux):
//
//   - BenchmarkFrameAllocateFree: a frame from the real database's zeroed
//     list and its release, the PFN share of a demand-zero fault; it also
//     reports what the database costs (bytes per entry, percent of RAM).
//   - BenchmarkDemandZeroFault: a committed mapping of faultBatch pages,
//     each page touched once, unmapped; ns/fault is the touching alone.
//     The zeroed list is stocked before each batch, outside the timer, as
//     the idle zero-page thread does between bursts, so a fault takes a
//     ready zeroed frame; what zeroing adds is BenchmarkZeroPage's figure.
//   - BenchmarkZeroPage: the zero-page thread's step (a free frame zeroed
//     through hyperspace onto the zeroed list) against clear() of the same
//     amount of Go memory, over working sets of the same size.
//
// They report figures and never fail on timing.

import (
	"syscall"
	"testing"
	"time"

	"ntgo/mm"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/nt/arch"
)

// Frames per refill of a list a benchmark drains (16 MiB), and pages per
// demand-zero batch and per zeroing working set (1 MiB).
const (
	frameBatch   = 4096
	faultBatch   = 256
	zeroWorkSet  = 256
	faultProtect = syscall.PROT_READ | syscall.PROT_WRITE
)

// stockZeroedList zeroes up to n free frames and fails b unless the zeroed
// list then holds at least n.
func stockZeroedList(b *testing.B, n int) {
	mm.ZeroPages(n)
	if got := mm.PFN.Stats().ByState[pfn.StateZeroed]; got < uint64(n) {
		b.Fatalf("zeroed list holds %d frames, need %d", got, n)
	}
}

func BenchmarkFrameAllocateFree(b *testing.B) {
	requireBare(b)
	stockZeroedList(b, frameBatch)
	for i := 1; b.Loop(); i++ {
		p, ok := mm.PFN.AllocateZeroed(0, 0)
		if !ok {
			b.Fatal("no frame")
		}
		mm.PFN.Free(p, 0)
		if i%frameBatch == 0 {
			b.StopTimer()
			stockZeroedList(b, frameBatch)
			b.StartTimer()
		}
	}
	s := mm.PFN.Stats()
	b.ReportMetric(float64(pfn.EntrySize), "B/pfn-entry")
	b.ReportMetric(s.DatabasePercentOfRAM(), "%RAM-pfn-db")
}

func BenchmarkDemandZeroFault(b *testing.B) {
	var touching time.Duration
	ops := 0
	for b.Loop() {
		if arch.Bare() {
			b.StopTimer()
			stockZeroedList(b, faultBatch)
			b.StartTimer()
		}
		m, err := syscall.Mmap(-1, 0, faultBatch*physmem.PageSize, faultProtect, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for off := 0; off < len(m); off += physmem.PageSize {
			m[off] = 1
		}
		touching += time.Since(start)
		if err := syscall.Munmap(m); err != nil {
			b.Fatal(err)
		}
		ops++
	}
	b.ReportMetric(float64(touching.Nanoseconds())/float64(ops*faultBatch), "ns/fault")
}

func BenchmarkZeroPage(b *testing.B) {
	b.Run("hyperspace", func(b *testing.B) {
		requireBare(b)
		frames := make([]physmem.PFN, zeroWorkSet)
		b.SetBytes(physmem.PageSize)
		for i := 0; b.Loop(); i++ {
			if i%zeroWorkSet == 0 {
				b.StopTimer()
				refillFreeList(b, frames)
				b.StartTimer()
			}
			if mm.ZeroPages(1) != 1 {
				b.Fatal("free list empty")
			}
		}
	})
	b.Run("clear", func(b *testing.B) {
		mem := make([]byte, zeroWorkSet*physmem.PageSize)
		b.SetBytes(physmem.PageSize)
		for i := 0; b.Loop(); i++ {
			off := i % zeroWorkSet * physmem.PageSize
			clear(mem[off : off+physmem.PageSize])
		}
	})
}

// refillFreeList puts len(frames) frames at the tail of the free list
// (taken from the zeroed list first, so the free list grows by that many).
func refillFreeList(b *testing.B, frames []physmem.PFN) {
	for i := range frames {
		f, ok := mm.PFN.AllocateZeroed(0, 0)
		if !ok {
			b.Fatal("no frame")
		}
		frames[i] = f
	}
	for _, f := range frames {
		mm.PFN.Free(f, 0)
	}
}
