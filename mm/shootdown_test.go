package mm_test

// TLB shootdown on real processors: every processor reads a page (so its
// TLB caches the translation), this processor points the page's PTE at
// another frame through the live tables (the flush a PTE change makes),
// and every processor reads again: each must see the new frame, never the
// old one. Without the shootdown the other processors keep their cached
// translation (QEMU's TCG models each processor's TLB) and read the old
// frame.

import (
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"ntgo/mm"
	"ntgo/nt/ke"
)

// probed is what each processor read in probe.
var probed [ke.MaximumProcessors]uint64

// readOnEachProcessor reads the word at va on the processor it runs on, at IPI_LEVEL
// (on the others in their IPI handler: no allocation, no stack growth).
//
//go:nosplit
func readOnEachProcessor(va uintptr) uintptr {
	probed[uint(ke.CurrentProcessorNumber())%ke.MaximumProcessors] = *(*uint64)(unsafe.Add(unsafe.Pointer(nil), va))
	return 0
}

// probeAll has every active processor read va and returns the processors.
func probeAll(va uintptr) uint64 {
	clear(probed[:])
	ke.IpiGenericCall(readOnEachProcessor, va)
	return ke.ActiveProcessors()
}

func TestShootdownReachesEveryProcessor(t *testing.T) {
	requireBare(t)
	if ke.ActiveProcessors() == 1 {
		t.Skip("one processor takes IPIs: boot with SMP=2 or more")
	}
	// Idle processors are spared the IPI and flush when they wake (the
	// lazy path); busy ones (each running a goroutine pinned to it) get
	// it. (In the first round some may be running rather than idle:
	// either path must leave no stale translation.)
	for _, busy := range []bool{false, true} {
		shootdownRound(t, busy)
	}
}

// keepBusy runs a goroutine pinned to each processor but 0 until the
// function it returns is called: those processors run, not idle, so a
// shootdown must interrupt them.
func keepBusy(n int) (stop func()) {
	var done, running atomic.Int32
	for cpu := 1; cpu < n; cpu++ {
		go func() {
			prev := ke.SetSystemAffinityThreadEx(1 << cpu)
			defer ke.RevertToUserAffinityThreadEx(prev)
			running.Add(1)
			for done.Load() == 0 {
				spin() // a call: the loop stays preemptible for the collector
			}
			running.Add(-1)
		}()
	}
	for running.Load() != int32(n-1) {
		time.Sleep(time.Millisecond)
	}
	return func() {
		done.Store(1)
		for running.Load() != 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

// spin calls spinLeaf so that it is no leaf: its prologue keeps the stack
// check, where a preemption request (the collector's stop-the-world) is
// answered. An empty leaf has none, and the loop would never yield.
//
//go:noinline
func spin() { spinLeaf() }

//go:noinline
func spinLeaf() {}

func shootdownRound(t *testing.T, busy bool) {
	const oldWord, newWord = 0x01d01d01d, 0x4e44e44e4
	p := mm.AllocateContiguousMemory(2<<12, ^uint64(0))
	if p == nil {
		t.Fatal("no contiguous memory")
	}
	defer mm.FreeContiguousMemory(p)
	va := uintptr(p)
	*(*uint64)(p) = oldWord
	*(*uint64)(unsafe.Add(p, 1<<12)) = newWord
	oldLeaf, st := mm.Tables.Leaf(va)
	newLeaf, st2 := mm.Tables.Leaf(va + 1<<12)
	if !st.IsSuccess() || !st2.IsSuccess() {
		t.Fatal("the pages have no leaves")
	}
	for cpus, cpu := probeAll(va), 0; cpus != 0; cpus, cpu = cpus>>1, cpu+1 {
		if cpus&1 != 0 && probed[cpu] != oldWord {
			t.Fatalf("processor %d read %#x before the change, want %#x", cpu, probed[cpu], oldWord)
		}
	}
	n := int(ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups))
	prev := ke.SetSystemAffinityThreadEx(1) // this test runs on processor 0
	defer ke.RevertToUserAffinityThreadEx(prev)
	if busy {
		defer keepBusy(n)()
	}
	old := ke.RaiseIrql(ke.DispatchLevel)
	me := ke.CurrentProcessorNumber()
	var served [ke.MaximumProcessors]uint64
	for cpu := range n {
		served[cpu] = ke.IpiServed(cpu)
	}
	mm.Tables.Replace(va, newLeaf, nil) // the first page's VA now maps the second frame
	var unserved []int
	for cpu := range n {
		if busy && cpu != me && ke.IpiServed(cpu) == served[cpu] {
			unserved = append(unserved, cpu)
		}
	}
	ke.LowerIrql(old)
	defer mm.Tables.Replace(va, oldLeaf, nil)
	if len(unserved) != 0 {
		t.Errorf("busy: processors %v served no request for the flush", unserved)
	}
	for cpus, cpu := probeAll(va), 0; cpus != 0; cpus, cpu = cpus>>1, cpu+1 {
		if cpus&1 != 0 && probed[cpu] != newWord {
			t.Errorf("busy %v: processor %d read %#x after the change: the old frame through a stale translation (want %#x)",
				busy, cpu, probed[cpu], newWord)
		}
	}
}
