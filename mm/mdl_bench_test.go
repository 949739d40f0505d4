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
//
// They report figures and never fail on timing.

import (
	"testing"
	"unsafe"

	"ntgo/mm"
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
