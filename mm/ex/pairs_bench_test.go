package ex_test

// The pool pairs next to the Go heap, interleaved (interleave.Run), on
// the host and inside the kernel (make bench). For each size:
//
//	make     make([]byte, n), the baseline the ratios divide by
//	withtag  ExAllocatePoolWithTag + ExFreePoolWithTag, a lookaside hit for
//	         n <= 496 (pool.MaxCachedRequest), the descriptors above
//	pool2    ExAllocatePool2 (zeroed) + ExFreePoolWithTag
//	npaged   ExAllocateFromNPagedLookasideList + ExFreeToNPagedLookasideList,
//	         the driver lookaside pair (64 bytes only)
//	miss     the same pair with the pool's lookaside lists off, every one a
//	         descriptor allocation and free (pool.System directly)

import (
	"fmt"
	"testing"
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/ex/extest"
	"ntgo/mm/pool"
	"ntgo/mm/pool/interleave"
)

var (
	pairSizes = []uintptr{16, 64, 256, 496, 4000}
	pairTag   = pool.MakeTag("Pair")
	pairSink  []byte
)

func BenchmarkPairs(b *testing.B) {
	for _, n := range pairSizes {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			extest.Setup(b)
			miss := missPool(b)
			keep := ex.AllocatePoolWithTag(pool.NonPagedPool, n, pairTag) // the page stays
			defer ex.FreePoolWithTag(keep, pairTag)
			vs := []interleave.Variant{
				{Name: "make", Run: func(k int) {
					for range k {
						pairSink = make([]byte, n)
					}
				}},
				{Name: "withtag", Run: func(k int) {
					for range k {
						ex.FreePoolWithTag(ex.AllocatePoolWithTag(pool.NonPagedPool, n, pairTag), pairTag)
					}
				}},
				{Name: "pool2", Run: func(k int) {
					for range k {
						ex.FreePoolWithTag(ex.AllocatePool2(ex.PoolFlagNonPaged, n, pairTag), pairTag)
					}
				}},
				{Name: "miss", Run: func(k int) {
					for range k {
						miss.Free(miss.Allocate(pool.NonPagedPool, n, pairTag, pool.NormalPoolPriority, 0), pairTag)
					}
				}},
			}
			if n == 64 {
				var l ex.NPagedLookasideList
				ex.InitializeNPagedLookasideList(&l, nil, nil, 0, n, pairTag, 0)
				defer ex.DeleteNPagedLookasideList(&l)
				vs = append(vs, interleave.Variant{Name: "npaged", Run: func(k int) {
					for range k {
						ex.FreeToNPagedLookasideList(&l, ex.AllocateFromNPagedLookasideList(&l))
					}
				}})
			}
			interleave.Run(b, vs...)
		})
	}
}

// missPool is a pool.System over fresh arenas with its lookaside lists
// off, holding one block so that its page stays.
func missPool(b *testing.B) *pool.System {
	np, pg := pool.NewArena(2*extest.Pages), pool.NewArena(2*extest.Pages)
	b.Cleanup(func() { np.Close(); pg.Close() })
	s, err := pool.New(pool.Config{NonPaged: np, Paged: pg,
		MaxNonPagedBytes: extest.Pages * pageBytes, MaxPagedBytes: extest.Pages * pageBytes, DisableLookaside: true})
	if err != nil {
		b.Fatal(err)
	}
	s.Allocate(pool.NonPagedPool, 16, pairTag, pool.NormalPoolPriority, 0)
	return s
}

const pageBytes = unsafe.Sizeof([4096]byte{})
