package pool

import (
	"testing"
)

func TestSmallAllocFree(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	for _, pt := range []PoolType{NonPagedPool, NonPagedPoolExecute, PagedPool} {
		var vas []uintptr
		for n := uintptr(0); n <= MaxSmallRequest; n += 37 {
			va := tp.alloc(t, pt, n, tagTest)
			if va&(BlockUnit-1) != 0 || va&pageMask == 0 {
				t.Fatalf("small block %#x not 16-aligned inside a page", va)
			}
			fill(va, n)
			vas = append(vas, va)
		}
		for i, va := range vas {
			if !check(va, uintptr(i)*37) {
				t.Fatalf("block %#x lost its contents", va)
			}
			tp.Free(va, tagTest)
		}
	}
	tp.idle(t)
}

// fill writes a pattern derived from va into the n bytes at va.
func fill(va, n uintptr) {
	b := bytesAt(va, n)
	for i := range b {
		b[i] = pattern(va, uintptr(i))
	}
}

func check(va, n uintptr) bool {
	b := bytesAt(va, n)
	for i := range b {
		if b[i] != pattern(va, uintptr(i)) {
			return false
		}
	}
	return true
}

func pattern(va, i uintptr) byte { return byte((va>>4)*31 + i*7 + i>>8) }
