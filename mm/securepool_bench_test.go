package mm_test

// BenchmarkSecurePool: a secure-pool block's life against an ordinary
// pool pair, interleaved in one run (interleave.Run), in the kernel:
//
//	pool    ExAllocatePool2(NON_PAGED) + ExFreePoolWithTag, the baseline
//	secure  ExAllocatePool3 with the secure-pool parameter (the Buffer
//	        copied in through the alias) + ExSecurePoolValidate +
//	        ExFreePool2 with the handle (the body zeroed, the header
//	        rewritten, through the alias)
//	alias   one write of n bytes through the alias (Pages.Write): what
//	        each of the secure life's batches costs
//	validate ExSecurePoolValidate alone (lock, lookups, header check)
//
// Each keeps one block of the size allocated so that its page stays.

import (
	"fmt"
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/pool"
	"ntgo/mm/pool/interleave"
	"ntgo/mm/securepool"
)

var benchSecureTag = pool.MakeTag("SecB")

func BenchmarkSecurePool(b *testing.B) {
	requireBare(b)
	for _, n := range []uintptr{64, 496} {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			var h uintptr
			if st := ex.CreatePool(ex.PoolCreateFlgSecurePool, uintptr(benchSecureTag), nil, &h); st != 0 {
				b.Fatal(st)
			}
			defer ex.DestroyPool(h)
			buf := make([]byte, n)
			alloc := secureParams(h, unsafe.Pointer(&buf[0]), 0xC0, ex.SecurePoolFlagsFreeable)
			free := secureParams(h, nil, 0xC0, 0)
			held := ex.AllocatePool3(ex.PoolFlagNonPaged, n, benchSecureTag, alloc)
			pages := mm.SecurePoolPages()
			runs := []securepool.Run{{Off: uintptr(held) & 0xFFF, Data: buf}}
			keep := ex.AllocatePool2(ex.PoolFlagNonPaged, n, benchSecureTag)
			defer ex.FreePoolWithTag(keep, benchSecureTag)
			interleave.Run(b,
				interleave.Variant{Name: "pool", Run: func(k int) {
					for range k {
						ex.FreePoolWithTag(ex.AllocatePool2(ex.PoolFlagNonPaged, n, benchSecureTag), benchSecureTag)
					}
				}},
				interleave.Variant{Name: "secure", Run: func(k int) {
					for range k {
						p := ex.AllocatePool3(ex.PoolFlagNonPaged, n, benchSecureTag, alloc)
						if !ex.SecurePoolValidate(h, benchSecureTag, p, 0xC0) {
							b.Fatal("validate failed")
						}
						ex.FreePool2(p, benchSecureTag, free)
					}
				}},
				interleave.Variant{Name: "validate", Run: func(k int) {
					for range k {
						ex.SecurePoolValidate(h, benchSecureTag, held, 0xC0)
					}
				}},
				interleave.Variant{Name: "alias", Run: func(k int) {
					for range k {
						pages.Write(uintptr(held)&^0xFFF, runs)
					}
				}})
		})
	}
}
