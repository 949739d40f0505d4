package mm_test

// BenchmarkAllocFree: the kernel's executive pools through the driver API
// (ExAllocatePool2, zeroed like make, and ExFreePoolWithTag) beside
// make([]byte, n) and what the collector spends on it, per size:
//
//	<n>/pool       alloc+free pairs one at a time: for blocks with a
//	               per-processor lookaside list (up to pool.SmallLists
//	               units, 512 bytes with the header) every allocation
//	               hits it; larger ones go to the descriptor's free lists
//	               or, above a page less a header, to whole pages
//	<n>/pool-deep  deeperThanLookaside blocks allocated, then all freed:
//	               most allocations miss the lookaside list (sizes that
//	               have one)
//	<n>/make       make([]byte, n) kept in a global until the next one
//
// Every case reports gc-ns/op, the collector's CPU time per operation
// (runtime/metrics' GC total: assists, workers, pauses; it is counted when a
// cycle ends, so it means something for runs spanning many cycles), and the
// pool cases of sizes with a lookaside list the share of allocations it
// served. The pool cases keep one block of the size allocated throughout,
// so a small block's page is not given back and taken again with every
// pair; a big allocation takes fresh pages each time (frames from the PFN
// database, mapped, returned on free), which is part of its cost. Figures,
// never failures on timing; the make cases also run on the host.

import (
	"fmt"
	"runtime/metrics"
	"testing"
	"time"
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/pool"
)

var (
	benchSmallSizes = []uintptr{16, 64, 256, 1024, 4000}
	benchBigSizes   = []uintptr{8 << 10, 1 << 20}
	tagBench        = pool.MakeTag("MmBn")
	makeSink        []byte
)

// deeperThanLookaside blocks outnumber what a lookaside list may hold four
// times over, so at least three allocations in four miss it.
const deeperThanLookaside = 4 * pool.MaximumLookasideDepth

const gcMetric = "/cpu/classes/gc/total:cpu-seconds"

// gcCPU is the collector's CPU time so far.
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: gcMetric}}
	metrics.Read(s)
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

// reportGC reports the collector's CPU time per operation since gcCPU was
// start.
func reportGC(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(gcCPU()-start)/float64(b.N), "gc-ns/op")
}

const percent = 100

// lookasideUnits is the block size, in units, that n bytes of non-paged
// pool take, and whether the per-processor lookaside lists hold blocks of
// that size.
func lookasideUnits(n uintptr) (int, bool) {
	u := int(pool.ChargeSize(pool.NonPagedPoolNx, n) >> pool.BlockShift)
	return u, u <= pool.SmallLists
}

// lookasideCounts sums the allocations and misses of every processor's
// lookaside list for blocks of units units of non-paged pool.
func lookasideCounts(units int) (allocates, misses uint32) {
	s := ex.Pools()
	for c := range s.CPUs() {
		st := s.CPU(c).LookasideStats(pool.KindNonPagedNx, units)
		allocates += st.TotalAllocates
		misses += st.AllocateMisses
	}
	return allocates, misses
}

func BenchmarkAllocFree(b *testing.B) {
	for _, n := range benchSmallSizes {
		b.Run(fmt.Sprintf("%d/pool", n), func(b *testing.B) { benchPool(b, n, 1) })
		if _, listed := lookasideUnits(n); listed {
			b.Run(fmt.Sprintf("%d/pool-deep", n), func(b *testing.B) { benchPool(b, n, deeperThanLookaside) })
		}
		b.Run(fmt.Sprintf("%d/make", n), func(b *testing.B) { benchMake(b, n) })
	}
	for _, n := range benchBigSizes {
		b.Run(fmt.Sprintf("%d/pool", n), func(b *testing.B) { benchPool(b, n, 1) })
		b.Run(fmt.Sprintf("%d/make", n), func(b *testing.B) { benchMake(b, n) })
	}
}

func allocBench(b *testing.B, n uintptr) unsafe.Pointer {
	p := ex.AllocatePool2(ex.PoolFlagNonPaged, n, tagBench)
	if p == nil {
		b.Fatalf("ExAllocatePool2 of %d bytes failed", n)
	}
	return p
}

// benchPool allocates and frees n-byte blocks depth at a time.
func benchPool(b *testing.B, n uintptr, depth int) {
	requireBare(b)
	keep := allocBench(b, n)
	defer ex.FreePoolWithTag(keep, tagBench)
	blocks := make([]unsafe.Pointer, depth)
	units, listed := lookasideUnits(n)
	var allocates, misses uint32
	if listed {
		allocates, misses = lookasideCounts(units)
	}
	gc := gcCPU()
	b.SetBytes(int64(n))
	b.ResetTimer()
	for done := 0; done < b.N; {
		batch := blocks[:min(depth, b.N-done)]
		for i := range batch {
			batch[i] = allocBench(b, n)
		}
		for _, p := range batch {
			ex.FreePoolWithTag(p, tagBench)
		}
		done += len(batch)
	}
	b.StopTimer()
	reportGC(b, gc)
	if listed {
		a, m := lookasideCounts(units)
		hits := (a - allocates) - (m - misses)
		b.ReportMetric(percent*float64(hits)/float64(a-allocates), "lookaside-hit-%")
	}
}

func benchMake(b *testing.B, n uintptr) {
	gc := gcCPU()
	b.SetBytes(int64(n))
	for b.Loop() {
		makeSink = make([]byte, n)
	}
	reportGC(b, gc)
}
