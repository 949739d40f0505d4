package pool

// Benchmarks (make bench runs the host's; the kernel's pairs are mm/ex's
// BenchmarkPairs). Each is interleaved (interleave.Run): the variants
// alternate in chunks within one run, and the ratios to the first are what
// to compare.

import (
	"fmt"
	"sync/atomic"
	"testing"

	"ntgo/mm/pool/interleave"
	"ntgo/nt/list"
)

var (
	benchSizes = []uintptr{16, 64, 256, 496, 4000, 8 << 10}
	benchSink  []byte
)

// BenchmarkPool is Allocate+Free pairs with the lookaside lists (a hit up
// to 496 bytes) and without them (the descriptors), next to make.
func BenchmarkPool(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			hit, miss := newTestPool(b, poolOpts{pages: 1024}), newTestPool(b, poolOpts{pages: 1024, noLookaside: true})
			for _, tp := range []*testPool{hit, miss} {
				keep := tp.alloc(b, NonPagedPool, n, tagTest) // the page stays
				defer tp.Free(keep, tagTest)
			}
			pair := func(tp *testPool) func(int) {
				return func(k int) {
					for range k {
						tp.Free(tp.Allocate(NonPagedPool, n, tagTest, NormalPoolPriority, 0), tagTest)
					}
				}
			}
			interleave.Run(b,
				interleave.Variant{Name: "make", Run: func(k int) {
					for range k {
						benchSink = make([]byte, n)
					}
				}},
				interleave.Variant{Name: "hit", Run: pair(hit)},
				interleave.Variant{Name: "miss", Run: pair(miss)},
			)
		})
	}
}

// BenchmarkProtection measures the candidate protections of a
// per-processor list (percpu.go's choice): a pop and a push of one cached
// entry, each with two counter updates, as a lookaside hit pair does.
//
//	none      no protection: the floor (wrong on SMP and under preemption)
//	busyword  the processor's busy word (CAS to claim, store to release),
//	          list and counters plain: what the pool uses
//	slist     nt/list's interlocked SLIST (CMPXCHG16B), counters atomic
//	mutex     the SList's mutex (the lists before), counters atomic
//
// make bench runs it inside the kernel too (the generated overlay links the
// kernel into the test binary); percpu.go quotes both.
func BenchmarkProtection(b *testing.B) {
	tp := newTestPool(b, poolOpts{pages: 16})
	e := tp.alloc(b, NonPagedPool, 64, tagTest)
	var c PerCPU
	c.init()
	l := c.list(KindNonPagedNx, units(64))
	l.push(e)
	var counters [2]uint64
	var shared [2]atomic.Uint64
	var head list.SListHeader
	list.InterlockedPushEntrySList(&head, (*list.SListEntry)(Ptr(e)))
	var m Lookaside
	m.Init(MaximumLookasideDepth)
	m.Free(e)
	interleave.Run(b,
		interleave.Variant{Name: "none", Run: func(k int) {
			for range k {
				_, next, _ := l.peek()
				l.take(next)
				counters[0]++
				counters[1] += 64
				l.push(e)
				counters[0]++
				counters[1] -= 64
			}
		}},
		interleave.Variant{Name: "busyword", Run: func(k int) {
			for range k {
				if c.claim() {
					_, next, _ := l.peek()
					l.take(next)
					counters[0]++
					counters[1] += 64
					c.release()
				}
				if c.claim() {
					l.push(e)
					counters[0]++
					counters[1] -= 64
					c.release()
				}
			}
		}},
		interleave.Variant{Name: "slist", Run: func(k int) {
			for range k {
				x := list.InterlockedPopEntrySList(&head)
				shared[0].Add(1)
				shared[1].Add(64)
				list.InterlockedPushEntrySList(&head, x)
				shared[0].Add(1)
				shared[1].Add(^uint64(63))
			}
		}},
		interleave.Variant{Name: "mutex", Run: func(k int) {
			for range k {
				x, _, _ := m.Allocate()
				shared[0].Add(1)
				shared[1].Add(64)
				m.Free(x)
				shared[0].Add(1)
				shared[1].Add(^uint64(63))
			}
		}},
	)
}
