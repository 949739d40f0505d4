package mm_test

import (
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pool/interleave"
)

// BenchmarkPagedPoolFaults: the fault paths of paged pool, interleaved
// (`make ktest PKG=./mm ARGS='-run ^$ -bench PagedPoolFaults'`); a pair
// is one page:
//
//	demand-zero   the first touch of a committed page: a zeroed frame mapped
//	              (the block's allocation and free included, one per chunk)
//	trim          taking a valid page out of the working set (its PTE made a
//	              transition PTE and flushed, the frame to Modified)
//	soft          the soft fault that maps a trimmed page's frame again (the
//	              pages trim just took)
func BenchmarkPagedPoolFaults(b *testing.B) {
	requireBare(b)
	const pages = interleave.Chunk
	size := uintptr(pages) * physmem.PageSize
	resident := ex.AllocatePoolWithTag(pool.PagedPool, size, pagingTag)
	if resident == nil {
		b.Fatal("paged pool refused")
	}
	defer ex.FreePoolWithTag(resident, pagingTag)
	touch := func(base unsafe.Pointer, n int) {
		for i := range n {
			*(*byte)(unsafe.Add(base, i*physmem.PageSize)) = 1
		}
	}
	touch(resident, pages)
	interleave.Run(b,
		interleave.Variant{Name: "demand-zero", Run: func(n int) {
			p := ex.AllocatePoolWithTag(pool.PagedPool, uintptr(n)*physmem.PageSize, pagingTag)
			touch(p, n)
			ex.FreePoolWithTag(p, pagingTag)
		}},
		interleave.Variant{Name: "trim", Run: func(n int) {
			mm.SystemPager().TrimRange(uintptr(resident), uintptr(n)*physmem.PageSize)
		}},
		interleave.Variant{Name: "soft", Run: func(n int) { touch(resident, n) }},
	)
}
