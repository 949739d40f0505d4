package object

// Interleaved (interleave.Run), on the host and inside the kernel
// (make bench): Go's new of a 64-byte type, the baseline, against
// object.New+Delete and Lookaside[T] Allocate+Free of the same type, and
// the pool pair New and Delete are over (ExAllocatePoolZero+ExFreePool):
// object/pool is the object layer's own cost.

import (
	"testing"
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/pool"
	"ntgo/mm/pool/interleave"
)

// object64 is a 64-byte pool object.
type object64 struct{ words [8]uint64 }

var sink *object64

func BenchmarkObjects64(b *testing.B) {
	setup(b)
	var l Lookaside[object64]
	l.Init(pool.NonPagedPool, 0, tagObj)
	defer l.Delete()
	keep := New[object64](pool.NonPagedPool, tagObj) // the page stays
	defer Delete(keep)
	interleave.Run(b,
		interleave.Variant{Name: "new", Run: func(n int) {
			for range n {
				sink = new(object64)
			}
		}},
		interleave.Variant{Name: "object", Run: func(n int) {
			for range n {
				Delete(New[object64](pool.NonPagedPool, tagObj))
			}
		}},
		interleave.Variant{Name: "pool", Run: func(n int) {
			for range n {
				ex.FreePool(ex.AllocatePoolZero(pool.NonPagedPool, unsafe.Sizeof(object64{}), tagObj))
			}
		}},
		interleave.Variant{Name: "lookasideT", Run: func(n int) {
			for range n {
				l.Free(l.Allocate())
			}
		}},
	)
}
