package mm_test

// The SMP figures for the note, as same-run ratios (interleave.Run):
// a spin-lock acquire+release pair uncontended against the same pair while
// another processor hammers the lock, plain and queued; and one TLB
// shootdown of a page to the other processors against a local INVLPG, with
// the others idle (spared the IPI) and running (interrupted).

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/pool"
	"ntgo/mm/pool/interleave"
	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

func BenchmarkSpinLockContention(b *testing.B) {
	if ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups) < 2 || runtime.GOMAXPROCS(0) < 2 {
		b.Skip("contention needs two processors running goroutines")
	}
	// Another goroutine takes the contended locks for the whole run, so
	// that every chunk of the contended variants meets it; the uncontended
	// variants use locks of their own.
	var plain, queued, mine, mineQ ke.KSpinLock
	var quit atomic.Bool
	var hammered atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var h ke.LockQueueHandle
		for !quit.Load() {
			hammered.Add(1)
			old := ke.RaiseIrql(ke.DispatchLevel) // the AtDpcLevel forms' contract
			ke.AcquireSpinLockAtDpcLevel(&plain)
			ke.ReleaseSpinLockFromDpcLevel(&plain)
			ke.AcquireInStackQueuedSpinLockAtDpcLevel(&queued, &h)
			ke.ReleaseInStackQueuedSpinLockFromDpcLevel(&h)
			ke.LowerIrql(old)
		}
	}()
	// How often the other goroutine got to run: on a loaded host it may
	// have been descheduled for most of the run, and the contended
	// variants then meet little contention.
	defer func() {
		quit.Store(true)
		wg.Wait()
		b.ReportMetric(float64(hammered.Load())/float64(b.N), "hammer-rounds/op")
	}()
	plainPairs := func(k *ke.KSpinLock) func(int) {
		return func(n int) {
			old := ke.RaiseIrql(ke.DispatchLevel)
			for range n {
				ke.AcquireSpinLockAtDpcLevel(k)
				ke.ReleaseSpinLockFromDpcLevel(k)
			}
			ke.LowerIrql(old)
		}
	}
	queuedPairs := func(k *ke.KSpinLock) func(int) {
		return func(n int) {
			var h ke.LockQueueHandle
			old := ke.RaiseIrql(ke.DispatchLevel)
			for range n {
				ke.AcquireInStackQueuedSpinLockAtDpcLevel(k, &h)
				ke.ReleaseInStackQueuedSpinLockFromDpcLevel(&h)
			}
			ke.LowerIrql(old)
		}
	}
	interleave.Run(b,
		interleave.Variant{Name: "uncontended", Run: plainPairs(&mine)},
		interleave.Variant{Name: "contended", Run: plainPairs(&plain)},
		interleave.Variant{Name: "queued-uncontended", Run: queuedPairs(&mineQ)},
		interleave.Variant{Name: "queued-contended", Run: queuedPairs(&queued)},
	)
}

// BenchmarkShootdown runs on processor 0 while every other processor runs
// a goroutine pinned to it (keepBusy), so each shootdown interrupts them
// all; BenchmarkShootdownIdle leaves them idle (spared the IPI, flushed as
// they wake).
func BenchmarkShootdown(b *testing.B)     { benchmarkShootdown(b, true) }
func BenchmarkShootdownIdle(b *testing.B) { benchmarkShootdown(b, false) }

func benchmarkShootdown(b *testing.B, busy bool) {
	requireBare(b)
	n := int(ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups))
	if n == 1 {
		b.Skip("one processor takes IPIs: boot with SMP=2 or more")
	}
	prev := ke.SetSystemAffinityThreadEx(1)
	defer ke.RevertToUserAffinityThreadEx(prev)
	if busy {
		defer keepBusy(n)()
	}
	va := uintptr(0xfffff88000000000) // any kernel address: only its TLB entry goes
	one := []uintptr{va}
	interleave.Run(b,
		interleave.Variant{Name: "invlpg", Run: func(n int) {
			for range n {
				arch.Invlpg(va)
			}
		}},
		interleave.Variant{Name: "shootdown", Run: func(n int) {
			for range n {
				ke.FlushTb(one, false)
			}
		}},
	)
	b.ReportMetric(float64(n-1), "other-processors")
}

// BenchmarkPoolPairsAllProcessors: 64-byte ExAllocatePool2+ExFreePoolWithTag
// pairs (lookaside hits) on one processor against the same number on every
// processor at once, wall time per pair per processor; and the same for
// controls: Go's make([]byte, 64) (the runtime's per-P cache, the
// allocator issue 17 compares the pool with), loads and stores to a
// goroutine's own stack (touch), a loop of arithmetic (spin), a loop of
// calls to a leaf function (calls: under TCG each return is an indirect
// jump QEMU looks up) and LOCK CMPXCHG and XCHG on a word of the
// processor's own (cas: under TCG a helper call each): the machine's own
// scaling, by kind of instruction. One goroutine is pinned to each
// processor for the whole run (the benchmark's own goroutine to
// processor 0), so a chunk costs one wake-up per other processor and no
// thread moves. The *-per-processor metrics are one/all, each processor's
// throughput with all running relative to one running alone: 1 for linear
// scaling, and issue 17's SMP criterion wants 0.9 or more for the pairs.
// Under TCG on a loaded host the vCPUs do not all run at once all the
// time: the controls say how far they did, and the pairs are to be read
// against them, within one run.
var tagPairs = pool.MakeTag("MmPp")

var (
	spinSink       uint64
	sharedMakeSink atomic.Pointer[[]byte] // written by every processor
	// casWords is a cache line per processor for the cas control.
	casWords [8][64 / 4]uint32
)

// leafCall is the calls control's callee: a call and a return, no frame.
//
//go:noinline
func leafCall(x uint64) uint64 { return x*3 + 1 }

func BenchmarkPoolPairsAllProcessors(b *testing.B) {
	requireBare(b)
	procs := int(ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups))
	if procs < 2 || runtime.GOMAXPROCS(0) < procs {
		b.Skip("fewer than two processors run goroutines: boot with SMP=2 or more")
	}
	pairs := func(n int) {
		for range n {
			ex.FreePoolWithTag(ex.AllocatePool2(ex.PoolFlagNonPaged|ex.PoolFlagUninitialized, 64, tagPairs), tagPairs)
		}
	}
	goMake := func(n int) {
		var p []byte
		for range n {
			p = make([]byte, 64)
		}
		sharedMakeSink.Store(&p)
	}
	const spinRounds = 200 // about one pair's time under TCG
	touch := func(n int) { // loads and stores to the goroutine's own stack
		var buf [16]uint64
		for i := range n * spinRounds / 2 {
			buf[(i+3)%len(buf)] += buf[i%len(buf)]
		}
		atomic.AddUint64(&spinSink, buf[n%len(buf)])
	}
	spin := func(n int) {
		x := uint64(n)
		for range n * spinRounds {
			x = x*6364136223846793005 + 1442695040888963407
		}
		atomic.AddUint64(&spinSink, x)
	}
	const callRounds = 4 // a quarter of a pair's time under TCG, alone
	calls := func(n int) {
		x := uint64(n)
		for range n * callRounds {
			x = leafCall(x)
		}
		atomic.AddUint64(&spinSink, x)
	}
	const casRounds = 8 // half to three quarters of a pair's time under TCG, alone
	cas := func(n int) {
		w := &casWords[ke.CurrentProcessorNumber()%len(casWords)][0]
		for range n * casRounds {
			atomic.CompareAndSwapUint32(w, 0, 1)
			atomic.StoreUint32(w, 0)
		}
	}
	// The idle-time zeroing of free frames first: while the other
	// processors' idle threads still zero, they keep their vCPUs busy, and
	// on a host with fewer cores than processors the all-processor
	// variants wait for them (the first run after boot measured 0.01 per
	// processor instead of 0.2-0.3 in about half the boots).
	for mm.ZeroPages(64) == 64 {
	}
	prev := ke.SetSystemAffinityThreadEx(1)
	defer ke.RevertToUserAffinityThreadEx(prev)
	type job struct {
		run func(int)
		n   int
	}
	jobs := make([]chan job, procs)
	var wg sync.WaitGroup
	for cpu := 1; cpu < procs; cpu++ {
		jobs[cpu] = make(chan job)
		go func() {
			prev := ke.SetSystemAffinityThreadEx(1 << cpu)
			defer ke.RevertToUserAffinityThreadEx(prev)
			for j := range jobs[cpu] {
				j.run(j.n)
				wg.Done()
			}
		}()
	}
	defer func() {
		for cpu := 1; cpu < procs; cpu++ {
			close(jobs[cpu])
		}
	}()
	all := func(run func(int)) func(int) {
		return func(n int) {
			wg.Add(procs - 1)
			for cpu := 1; cpu < procs; cpu++ {
				jobs[cpu] <- job{run, n}
			}
			run(n)
			wg.Wait()
		}
	}
	kinds := []struct {
		name string
		run  func(int)
	}{{"pairs", pairs}, {"make", goMake}, {"touch", touch}, {"spin", spin}, {"calls", calls}, {"cas", cas}}
	var variants []interleave.Variant
	for _, k := range kinds {
		variants = append(variants,
			interleave.Variant{Name: k.name + "-one", Run: k.run},
			interleave.Variant{Name: k.name + "-all", Run: all(k.run)})
	}
	ns := interleave.Run(b, variants...)
	for i, k := range kinds {
		b.ReportMetric(ns[2*i]/ns[2*i+1], k.name+"-per-processor")
	}
	b.ReportMetric(float64(procs), "processors")
}
