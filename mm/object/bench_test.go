package object

import (
	"testing"

	"ntgo/mm/pool"
)

// object64 is a 64-byte pool object.
type object64 struct{ words [8]uint64 }

var sink *object64

func BenchmarkNewDelete64(b *testing.B) {
	setup(b)
	for b.Loop() {
		Delete(New[object64](pool.NonPagedPool, tagObj))
	}
}

func BenchmarkLookasideT64(b *testing.B) {
	setup(b)
	var l Lookaside[object64]
	l.Init(pool.NonPagedPool, 0, tagObj)
	defer l.Delete()
	for b.Loop() {
		l.Free(l.Allocate())
	}
}

// BenchmarkGoNew64 is the Go heap's new for the same type, for comparison.
func BenchmarkGoNew64(b *testing.B) {
	for b.Loop() {
		sink = new(object64)
	}
}
