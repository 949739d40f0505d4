// (The misuse cases undo a recursive acquisition by hand: its stop has
// already dropped the holder's pin.)
//
// KSPIN_LOCK and the queued locks with real goroutines contending: mutual
// exclusion (a counter updated non-atomically under the lock loses no
// increment), NT's misuse stops (recursive acquire 0x0F, release of a lock
// not held 0x10, a spin past the bound 0x133), IRQL raised and restored.

package ke

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
)

// contend runs workers goroutines that each take and drop a lock rounds
// times around a non-atomic increment, and returns the count.
func contend(workers, rounds int, take, drop func()) int {
	var wg sync.WaitGroup
	count := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				take()
				c := count
				for range 50 { // widen the window another holder would race into
					arch.Pause()
				}
				count = c + 1
				drop()
			}
		}()
	}
	wg.Wait()
	return count
}

func TestLocksExcludeUnderContention(t *testing.T) {
	// Two workers, on two processors where there are: a holder the host
	// deschedules leaves the others spinning out its time slice, and this
	// host has two cores. (GOMAXPROCS, not NumCPU: the runtime counts CPUs
	// before the kernel starts the other processors.)
	workers := min(runtime.GOMAXPROCS(0), 2)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(workers))
	const rounds = 2000
	var k KSpinLock
	h := make([]LockQueueHandle, workers*rounds) // one handle per acquisition
	var next, hi int
	var mu sync.Mutex
	var s SpinLock
	for _, c := range []struct {
		name       string
		take, drop func()
	}{
		// The AtDpcLevel forms at DISPATCH_LEVEL, as their contract says:
		// at PASSIVE_LEVEL the holder could move to another processor
		// between acquire and release.
		{"KSpinLock at DISPATCH_LEVEL", func() { RaiseIrql(DispatchLevel); AcquireSpinLockAtDpcLevel(&k) },
			func() { ReleaseSpinLockFromDpcLevel(&k); LowerIrql(PassiveLevel) }},
		{"in-stack queued", func() {
			mu.Lock()
			i := next
			next++
			mu.Unlock()
			RaiseIrql(DispatchLevel)
			AcquireInStackQueuedSpinLockAtDpcLevel(&k, &h[i])
			hi = i
		}, func() { ReleaseInStackQueuedSpinLockFromDpcLevel(&h[hi]); LowerIrql(PassiveLevel) }},
		{"SpinLock (queued, the PFN lock's)", s.Acquire, s.Release},
	} {
		if got := contend(workers, rounds, c.take, c.drop); got != workers*rounds {
			t.Errorf("%s: %d increments survived of %d", c.name, got, workers*rounds)
		}
		if !TestSpinLock(&k) || s.Held() {
			t.Errorf("%s: a lock is still held afterwards", c.name)
		}
	}
}

func TestAcquireSpinLockRaisesToDispatch(t *testing.T) {
	var k KSpinLock
	old := AcquireSpinLock(&k)
	if l := CurrentIrql(); old != PassiveLevel || l != DispatchLevel {
		t.Errorf("AcquireSpinLock: old %v, now %v; want PASSIVE_LEVEL, DISPATCH_LEVEL", old, l)
	}
	ReleaseSpinLock(&k, old)
	var h LockQueueHandle
	AcquireInStackQueuedSpinLock(&k, &h)
	if l := CurrentIrql(); h.OldIrql != PassiveLevel || l != DispatchLevel {
		t.Errorf("in-stack queued: old %v, now %v", h.OldIrql, l)
	}
	ReleaseInStackQueuedSpinLock(&h)
	if l := CurrentIrql(); l != PassiveLevel || !TestSpinLock(&k) {
		t.Errorf("after release: %v, lock free %v", l, TestSpinLock(&k))
	}
}

func TestSpinLockMisuseStops(t *testing.T) {
	var k KSpinLock
	var s SpinLock
	var h1, h2 LockQueueHandle
	for _, c := range []struct {
		name    string
		do      func()
		undo    func()
		code    bugcheck.Code
		lockArg uintptr
	}{
		{"KSpinLock acquired twice", func() { AcquireSpinLockAtDpcLevel(&k); AcquireSpinLockAtDpcLevel(&k) },
			func() { k.word.Store(0) }, bugcheck.SpinLockAlreadyOwned, addressOf(&k.word)},
		{"KSpinLock released free", func() { ReleaseSpinLockFromDpcLevel(&k) }, func() {},
			bugcheck.SpinLockNotOwned, addressOf(&k.word)},
		{"in-stack queued twice", func() {
			AcquireInStackQueuedSpinLockAtDpcLevel(&k, &h1)
			AcquireInStackQueuedSpinLockAtDpcLevel(&k, &h2)
		}, func() { queueRelease(&k.word, h1.node) }, bugcheck.SpinLockAlreadyOwned, addressOf(&k.word)},
		{"SpinLock twice", func() { s.Acquire(); s.Acquire() }, func() { queueRelease(&s.word, s.node) }, bugcheck.SpinLockAlreadyOwned, addressOf(&s.word)},
	} {
		rec := bugcheck.Catch(c.do)
		c.undo()
		if rec == nil || rec.Code != c.code || rec.Params[0] != c.lockArg {
			t.Errorf("%s: %v, want %v with the lock %#x", c.name, rec, c.code, c.lockArg)
		}
		if !TestSpinLock(&k) || s.Held() {
			t.Fatalf("%s: lock left held", c.name)
		}
		// Catch gives the interrupt state back: a thread left with them
		// off is never preempted (a later test would find its thread
		// where a switch should have moved it).
		if arch.Bare() {
			r := arch.DisableInterrupts()
			arch.RestoreInterrupts(r)
			if r&arch.RflagsIF == 0 {
				t.Fatalf("%s: interrupts left off", c.name)
			}
		}
	}
}

func TestSpinPastTheBoundStops(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("the holder spins while it waits: the waiter needs another processor")
	}
	if arch.Bare() {
		// spinTimeout is every lock's: shortened, it would stop the other
		// processors' ordinary waits too (the PFN lock's, under TCG).
		t.Skip("the bound is global: on a multiprocessor kernel it stops other locks' waits")
	}
	defer func(old uint64) { spinTimeout = old }(spinTimeout)
	spinTimeout = 1 << 20 // a millisecond or less
	var k KSpinLock
	var held, done atomic.Bool
	go func() { // the holder may not block while it holds the lock: it spins
		AcquireSpinLockAtDpcLevel(&k)
		held.Store(true)
		// For a bounded time: pinned, the holder cannot stop for the GC,
		// and the caught stop's report may start one.
		for end := arch.RDTSC() + holdBound; !done.Load() && arch.RDTSC() < end; {
			arch.Pause()
		}
		ReleaseSpinLockFromDpcLevel(&k)
		held.Store(false)
	}()
	for !held.Load() {
		runtime.Gosched()
	}
	rec := bugcheck.Catch(func() { AcquireSpinLockAtDpcLevel(&k) })
	done.Store(true)
	for held.Load() {
		runtime.Gosched()
	}
	if rec == nil || rec.Code != bugcheck.DpcWatchdogViolation || [3]uintptr(rec.Params[:3]) != [3]uintptr{1, 1 << 20, addressOf(&k.word)} ||
		rec.Params[3] < plainOwner || rec.Params[3] > plainOwner|MaximumProcessors {
		t.Fatalf("spin on a held lock: %v, want DPC_WATCHDOG_VIOLATION (1, 0x100000, lock, a plain owner's word)", rec)
	}
}

// holdBound is how long TestSpinPastTheBoundStops's holder holds at most,
// in TSC ticks: far past the waiter's 1<<20.
const holdBound = 1 << 28
