package pfn

import (
	"testing"

	"ntgo/mm/physmem"
)

// benchFixture is a database of n free frames (frame 0 reserved).
func benchFixture(b *testing.B, n physmem.PFN) *fixture {
	return newFixture(b, []Range{
		{Base: 0, Length: page, Type: RangeReserved},
		{Base: page, Length: uint64(n) * page, Type: RangeFree},
	})
}

// BenchmarkAllocFreeZeroed is the demand-zero fault's share of the work: a
// frame from the zeroed list, and its release to the free list.
func BenchmarkAllocFreeZeroed(b *testing.B) {
	const frames = 4096
	f := benchFixture(b, frames)
	const pte = 0xFFFFF68000000000
	f.db.ZeroSome(frames)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%frames == frames-1 {
			b.StopTimer()
			f.db.relinkFreeAsZeroed()
			b.StartTimer()
		}
		p, ok := f.db.AllocateZeroed(pte, 0)
		if !ok {
			b.Fatal("zeroed list empty")
		}
		f.db.Free(p, pte)
	}
}

// relinkFreeAsZeroed moves every free frame to the zeroed list without
// zeroing it: only for benchmarks whose frames were never written, so that
// refilling the zeroed list costs next to nothing outside the timer.
func (db *Database) relinkFreeAsZeroed() {
	for {
		p, ok := db.removeHead(nodeList(0, StateFree))
		if !ok {
			return
		}
		db.insert(p, StateZeroed)
	}
}

// BenchmarkZeroFrame is ZeroSome's cost per frame, over a working set small
// enough (1 MiB) to stay in cache so it compares with BenchmarkClear4K.
func BenchmarkZeroFrame(b *testing.B) {
	const frames = 256
	f := benchFixture(b, frames)
	b.SetBytes(page)
	b.ResetTimer()
	for i := range b.N {
		if i%frames == frames-1 {
			b.StopTimer()
			f.db.relinkZeroedAsFree()
			b.StartTimer()
		}
		if f.db.ZeroSome(1) != 1 {
			b.Fatal("free list empty")
		}
	}
}

// relinkZeroedAsFree moves every zeroed frame back to the free list.
func (db *Database) relinkZeroedAsFree() {
	for {
		p, ok := db.removeHead(nodeList(0, StateZeroed))
		if !ok {
			return
		}
		db.insert(p, StateFree)
	}
}

// clearBuf is BenchmarkClear4K's page, global so the clear is not elided.
var clearBuf [page]byte

// BenchmarkClear4K is the floor for BenchmarkZeroFrame: clearing 4 KiB
// with nothing around it.
func BenchmarkClear4K(b *testing.B) {
	b.SetBytes(page)
	for range b.N {
		clear(clearBuf[:])
	}
}
