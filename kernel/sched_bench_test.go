package kernel_test

// Benchmarks of the kernel's scheduler and timer as the Go runtime sees
// them, run inside the kernel by `make bench` (and on the host with `go test
// -bench`, for comparison with Linux):
//
//   - BenchmarkSleep1ms: time.Sleep(1ms) end to end (the runtime's timer,
//     a futex or epoll timeout, the LAPIC one-shot that ends it, the wake-up);
//     it reports the mean time slept and the overshoot beyond 1 ms.
//   - BenchmarkThreadSwitch: two goroutines each locked to its own kernel
//     thread ping-pong over unbuffered channels. A locked goroutine only runs
//     on its thread, so every hop hands the P to the other thread: a futex
//     wake, a futex wait and a kernel thread switch.
//   - BenchmarkFutexRoundTrip: the same two threads ping-pong on one futex
//     word with raw FUTEX_WAIT/FUTEX_WAKE system calls; a round trip is two
//     wakes, two waits and two switches with no Go scheduler in between.
//
// They report figures and never fail on timing. The tests below run the same
// ping-pongs briefly so `make ktest` checks that they work and really use two
// threads.

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

const sleepDuration = time.Millisecond

func BenchmarkSleep1ms(b *testing.B) {
	var slept time.Duration
	for range b.N {
		start := time.Now()
		time.Sleep(sleepDuration)
		slept += time.Since(start)
	}
	mean := slept / time.Duration(b.N)
	b.ReportMetric(float64(mean.Nanoseconds()), "ns/sleep")
	b.ReportMetric(float64((mean - sleepDuration).Nanoseconds()), "overshoot-ns")
}

// pair is the two sides of a ping-pong.
type pair [2]func()

// lockedPair runs the two sides on two goroutines, each locked to its own OS
// thread, and returns once both have returned. ready is called once both are
// locked and before either starts (benchmarks reset their timer there). It
// fails tb if the two did not run on different threads.
func lockedPair(tb testing.TB, ready func(), sides pair) {
	var locked, done sync.WaitGroup
	start := make(chan struct{})
	var tids [2]int
	for i, f := range sides {
		locked.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tids[i] = syscall.Gettid()
			locked.Done()
			<-start
			f()
		}()
	}
	locked.Wait()
	ready()
	close(start)
	done.Wait()
	if tids[0] == tids[1] {
		tb.Fatalf("both locked goroutines ran on thread %d", tids[0])
	}
}

// chanPingPong returns the two sides of n channel round trips.
func chanPingPong(n int) pair {
	ping, pong := make(chan struct{}), make(chan struct{})
	return pair{
		func() {
			for range n {
				ping <- struct{}{}
				<-pong
			}
		},
		func() {
			for range n {
				<-ping
				pong <- struct{}{}
			}
		},
	}
}

// hopsPerRoundTrip: a round trip is A→B then B→A.
const hopsPerRoundTrip = 2

func BenchmarkThreadSwitch(b *testing.B) {
	lockedPair(b, b.ResetTimer, chanPingPong(b.N))
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*hopsPerRoundTrip), "ns/switch")
}

// Linux futex operations (linux/futex.h).
const (
	futexWait = 0
	futexWake = 1
)

// futexWord is a futex word; turn says whose turn it is.
type futexWord struct{ turn atomic.Uint32 }

const (
	turnA = 0
	turnB = 1
)

func (w *futexWord) addr() uintptr { return uintptr(unsafe.Pointer(&w.turn)) }

// await blocks until it is side's turn. FUTEX_WAIT sleeps only while the word
// still holds the other side's value, so a wake that came first is not lost.
func (w *futexWord) await(side uint32) {
	other := side ^ 1
	for w.turn.Load() == other {
		syscall.Syscall6(syscall.SYS_FUTEX, w.addr(), futexWait, uintptr(other), 0, 0, 0)
	}
}

// pass gives the turn to the other side and wakes it.
func (w *futexWord) pass(side uint32) {
	w.turn.Store(side ^ 1)
	syscall.Syscall6(syscall.SYS_FUTEX, w.addr(), futexWake, 1, 0, 0, 0)
}

// futexPingPong returns the two sides of n futex round trips.
func futexPingPong(n int) pair {
	w := new(futexWord)
	side := func(me uint32) func() {
		return func() {
			for range n {
				w.await(me)
				w.pass(me)
			}
		}
	}
	return pair{side(turnA), side(turnB)}
}

func BenchmarkFutexRoundTrip(b *testing.B) {
	lockedPair(b, b.ResetTimer, futexPingPong(b.N))
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/roundtrip")
}

// pingPongRounds is enough round trips to cross the Go scheduler and the
// kernel's run queue many times, few enough to be instant.
const pingPongRounds = 1000

func TestThreadPingPong(t *testing.T) {
	lockedPair(t, func() {}, chanPingPong(pingPongRounds))
}

func TestFutexPingPong(t *testing.T) {
	lockedPair(t, func() {}, futexPingPong(pingPongRounds))
}
