package pool

// Benchmarks, meant to run on the host and inside the kernel (make bench).
// Each pool case has a BenchmarkGoMake twin of the same size so one run
// compares the pool with the Go heap.

import (
	"fmt"
	"testing"
)

var (
	benchSmallSizes = []uintptr{16, 64, 256, 1024, 4000}
	benchBigSizes   = []uintptr{8 << 10, 1 << 20}
	benchSink       []byte
)

// BenchmarkPool measures alloc+free pairs: small sizes with the
// per-processor lookaside lists (a hit for sizes up to 496 bytes) and with
// them disabled, and big allocations.
func BenchmarkPool(b *testing.B) {
	for _, mode := range []struct {
		name        string
		noLookaside bool
	}{{"lookaside", false}, {"nolookaside", true}} {
		for _, n := range benchSmallSizes {
			b.Run(fmt.Sprintf("%s/%d", mode.name, n), func(b *testing.B) {
				benchPairs(b, poolOpts{pages: 1024, noLookaside: mode.noLookaside}, n)
			})
		}
	}
	for _, n := range benchBigSizes {
		b.Run(fmt.Sprintf("big/%d", n), func(b *testing.B) {
			benchPairs(b, poolOpts{pages: 1024}, n)
		})
	}
}

func benchPairs(b *testing.B, o poolOpts, n uintptr) {
	tp := newTestPool(b, o)
	keep := tp.alloc(b, NonPagedPool, n, tagTest) // the page stays in use
	b.SetBytes(int64(n))
	for b.Loop() {
		tp.Free(tp.Allocate(NonPagedPool, n, tagTest, NormalPoolPriority, 0), tagTest)
	}
	tp.Free(keep, tagTest)
}

// BenchmarkGoMake is make([]byte, n) for every size BenchmarkPool uses.
func BenchmarkGoMake(b *testing.B) {
	for _, n := range append(append([]uintptr{}, benchSmallSizes...), benchBigSizes...) {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				benchSink = make([]byte, n)
			}
		})
	}
}
