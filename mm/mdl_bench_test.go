package mm_test

// Benchmarks of MDLs and kernel stacks on the machine, run inside the
// kernel by `make bench`:
//
//   - BenchmarkProbeAndLockUnlock: MmProbeAndLockPages and MmUnlockPages of
//     a 64 KiB Go buffer (16 pages); ns/page is per page locked.
//   - BenchmarkMapUnmapLockedPages: MmMapLockedPagesSpecifyCache and
//     MmUnmapLockedPages of the same locked MDL: system PTEs, 16 PTEs
//     written, their release and flush.
//   - BenchmarkCreateDeleteKernelStack: a 16 KiB kernel stack with its guard
//     page, made and given back.
//   - BenchmarkAllocateFreeMdl: IoAllocateMdl+IoFreeMdl of a one-page MDL
//     (the fixed-size block from the pool's per-processor lookaside, NT's
//     PPLookasideList[LookasideMdlList]) next to Go's make of the same size
//     and the driver lookaside pair of that size, interleaved.
//
// They report figures and never fail on timing.

import (
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/pool"
	"ntgo/mm/pool/interleave"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

const benchMdlBytes = 64 << 10

func benchMdl(b *testing.B) (*mm.Mdl, []byte) {
	requireBare(b)
	buf := make([]byte, benchMdlBytes)
	m := mm.AllocateMdl(unsafe.Pointer(&buf[0]), benchMdlBytes)
	if m == nil {
		b.Fatal("AllocateMdl failed")
	}
	b.Cleanup(func() { mm.FreeMdl(m) })
	return m, buf
}

func BenchmarkProbeAndLockUnlock(b *testing.B) {
	m, buf := benchMdl(b)
	for b.Loop() {
		if e := probe(m, mm.IoWriteAccess); e != nil {
			b.Fatal(e)
		}
		mm.UnlockPages(m)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(m.Pages())), "ns/page")
	_ = buf[0] // the buffer lives as long as the MDL describes it
}

func BenchmarkMapUnmapLockedPages(b *testing.B) {
	m, buf := benchMdl(b)
	if e := probe(m, mm.IoWriteAccess); e != nil {
		b.Fatal(e)
	}
	for b.Loop() {
		va := mm.MapLockedPagesSpecifyCache(m, pte.Cached, false, mm.NormalPagePriority)
		if va == 0 {
			b.Fatal("mapping failed")
		}
		mm.UnmapLockedPages(va, m)
	}
	mm.UnlockPages(m)
	_ = buf[0]
}

func BenchmarkCreateDeleteKernelStack(b *testing.B) {
	requireBare(b)
	for b.Loop() {
		s, st := mm.CreateKernelStack(16 << 10)
		if st != ntstatus.Success {
			b.Fatal(st)
		}
		mm.DeleteKernelStack(s)
	}
}

var mdlSink []byte

func BenchmarkAllocateFreeMdl(b *testing.B) {
	requireBare(b)
	buf := make([]byte, 1<<12)
	size := mm.FixedMdlBytes
	var l ex.NPagedLookasideList
	ex.InitializeNPagedLookasideList(&l, nil, nil, 0, size, pool.MakeTag("MdlB"), 0)
	defer ex.DeleteNPagedLookasideList(&l)
	interleave.Run(b,
		interleave.Variant{Name: "make", Run: func(n int) {
			for range n {
				mdlSink = make([]byte, size)
			}
		}},
		interleave.Variant{Name: "mdl", Run: func(n int) {
			for range n {
				mm.FreeMdl(mm.AllocateMdl(unsafe.Pointer(&buf[0]), 1<<12))
			}
		}},
		interleave.Variant{Name: "npaged", Run: func(n int) {
			for range n {
				ex.FreeToNPagedLookasideList(&l, ex.AllocateFromNPagedLookasideList(&l))
			}
		}},
	)
}
