package kernel

import (
	"syscall"
	"testing"
	"unsafe"

	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// The retries of a futex wait at raised IRQL: a burst on one word retries
// until maxRaisedWait, then waits (the stop); a pause longer than
// raisedWaitGap, or another word, begins a new episode.
func TestRaisedWaitEpisodes(t *testing.T) {
	const a, b = 0x1000, 0x2000
	burst := func(w *raisedWait, addr uintptr, from int64) (end int64) {
		now := from
		for ; now-from < maxRaisedWait; now += raisedWaitGap / 2 {
			if !w.retry(addr, now) {
				t.Fatalf("the wait on %#x stopped retrying %d ns into its episode", addr, now-from)
			}
		}
		return now
	}
	var w raisedWait
	end := burst(&w, a, 1)
	if w.retry(a, end) {
		t.Fatalf("still retrying %d ns into the episode (limit %d)", end-1, maxRaisedWait)
	}
	if !w.retry(b, end) {
		t.Fatal("a wait on another word inherited the first word's episode")
	}
	w = raisedWait{}
	end = burst(&w, a, 1)
	burst(&w, a, end+raisedWaitGap+1) // fails if the pause did not reset the episode
}

// In the kernel: a futex wait at DISPATCH_LEVEL on a word that still holds
// its value returns at once, each time the runtime would retry, where a
// real wait would be a switch at DISPATCH_LEVEL (0xB8).
func TestFutexWaitAtDispatchLevelReturns(t *testing.T) {
	if !arch.Bare() {
		t.Skip("the kernel's futex")
	}
	word := uint32(7)
	const retries = 100
	failed := 0
	old := ke.RaiseIrql(ke.DispatchLevel)
	start := nanotime()
	for range retries {
		if r, _, e := syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&word)), futexWait, 7, 0, 0, 0); r != 0 || e != 0 {
			failed++
		}
	}
	took := nanotime() - start
	ke.LowerIrql(old)
	if failed != 0 {
		t.Errorf("%d of %d waits at DISPATCH_LEVEL failed", failed, retries)
	}
	t.Logf("%d futex waits at DISPATCH_LEVEL returned in %d µs", retries, took/1000)
}
