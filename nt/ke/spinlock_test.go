// The spin lock's guarantees to its holder: interrupts are off while it is
// held on bare metal and come back as they were, and a goroutine holding it
// is pinned (the scheduler does not run another goroutine on its thread).

package ke

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"ntgo/nt/arch"
)

// interruptsEnabled reads RFLAGS.IF without changing it.
func interruptsEnabled() bool {
	rflags := arch.DisableInterrupts()
	arch.RestoreInterrupts(rflags)
	return rflags&arch.RflagsIF != 0
}

func TestSpinLockHeld(t *testing.T) {
	var l SpinLock
	if l.Held() {
		t.Fatal("the zero lock is held")
	}
	l.Acquire()
	if !l.Held() {
		t.Error("Held is false under the lock")
	}
	l.Release()
	if l.Held() {
		t.Error("Held is true after Release")
	}
}

func TestSpinLockInterruptState(t *testing.T) {
	if !arch.Bare() {
		t.Skip("interrupts are masked only on bare metal")
	}
	for _, enabled := range []bool{true, false} {
		outer := arch.DisableInterrupts()
		if enabled {
			arch.EnableInterrupts()
		}
		var l SpinLock
		l.Acquire()
		under := interruptsEnabled()
		l.Release()
		after := interruptsEnabled()
		arch.RestoreInterrupts(outer)
		if under {
			t.Errorf("interrupts enabled under the lock (taken with IF=%v)", enabled)
		}
		if after != enabled {
			t.Errorf("after Release IF=%v, want %v as before Acquire", after, enabled)
		}
	}
}

// alwaysGoroutine is the test's goroutine-context probe on the host, where
// the kernel installs none.
//
//go:nosplit
func alwaysGoroutine() bool { return true }

// While a goroutine holds the lock, another runnable goroutine does not get
// its thread, even past the Go scheduler's preemption interval (10ms); after
// Release it does.
func TestSpinLockPinsHolder(t *testing.T) {
	if goroutineContext == nil {
		SetGoroutineContext(alwaysGoroutine)
		defer SetGoroutineContext(nil)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var ran atomic.Bool
	started := make(chan struct{})
	go func() {
		close(started)
		for {
			ran.Store(true)
			runtime.Gosched()
		}
	}()
	<-started
	hold := cyclesPer(100 * time.Millisecond)
	var l SpinLock
	l.Acquire()
	ran.Store(false)
	spin := 0 // mostly Go code between the RDTSCs: where async preemption can land
	for deadline := arch.RDTSC() + hold; arch.RDTSC() < deadline; {
		for range 10000 {
			spin++
		}
	}
	ranUnder := ran.Load()
	l.Release()
	if ranUnder {
		t.Error("another goroutine ran on the CPU while the lock was held")
	}
	for wait := time.Now().Add(5 * time.Second); !ran.Load(); {
		if time.Now().After(wait) {
			t.Fatal("the other goroutine never ran after Release")
		}
		runtime.Gosched()
	}
}

// cyclesPer measures how many time-stamp counter ticks d takes, so that a
// loop under the lock can wait without calling into the runtime.
func cyclesPer(d time.Duration) uint64 {
	start := arch.RDTSC()
	time.Sleep(d)
	return arch.RDTSC() - start
}
