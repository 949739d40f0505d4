// Interprocessor requests on the host, where test goroutines stand in for
// the other processors: each polls its request word as an IPI handler
// would serve it. A TLB flush returns only after every processor has
// answered; a generic call runs on all of them at once; a targeted DPC
// waits on its processor's queue and interrupts that processor; the freeze
// reaches every processor.

package ke

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"ntgo/nt/arch"
)

// simulate makes processors 1..n-1 active, each a goroutine polling its
// requests until the returned stop is called; sent counts the IPIs sent
// to each.
func simulate(t *testing.T, n int) (sent *[MaximumProcessors]atomic.Int32, stop func()) {
	t.Helper()
	if arch.Bare() {
		t.Skip("stand-in processors are the host's; in the kernel the processors are real")
	}
	// Every simulated processor spins without a preemption point, as a
	// real one in its IPI handler does: each needs a thread of its own.
	procs := runtime.GOMAXPROCS(n + 1)
	spinYield = runtime.Gosched
	sent = new([MaximumProcessors]atomic.Int32)
	SetIpiSender(func(cpu int) { sent[cpu].Add(1) })
	var quit atomic.Bool
	var wg sync.WaitGroup
	for cpu := 1; cpu < n; cpu++ {
		SetProcessorActive(cpu)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !quit.Load() {
				ipiPoll(cpu)
				runtime.Gosched()
			}
		}()
	}
	return sent, func() {
		quit.Store(true)
		wg.Wait()
		ipiProcessors.Store(0)
		SetIpiSender(nil)
		runtime.GOMAXPROCS(procs)
		spinYield = nil
	}
}

func TestFlushTbWaitsForEveryProcessor(t *testing.T) {
	const n = 4
	sent, stop := simulate(t, n)
	defer stop()
	for round := range 50 {
		var before [n]uint64
		for cpu := 1; cpu < n; cpu++ {
			before[cpu] = IpiServed(cpu)
		}
		vas := []uintptr{0x1000, 0x2000, uintptr(round) << 12}
		FlushTb(vas, false)
		for cpu := 1; cpu < n; cpu++ {
			if IpiServed(cpu) != before[cpu]+1 {
				t.Fatalf("round %d: FlushTb returned before processor %d flushed", round, cpu)
			}
		}
	}
	for cpu := 1; cpu < n; cpu++ {
		if sent[cpu].Load() != 50 {
			t.Errorf("processor %d was sent %d IPIs for 50 flushes", cpu, sent[cpu].Load())
		}
	}
	if packet.pending.Load() != 0 || packetOwner.Load() != 0 {
		t.Error("the packet is still owned or pending")
	}
}

func TestFlushTbBatchPastTheLimitFlushesAll(t *testing.T) {
	_, stop := simulate(t, 2)
	defer stop()
	FlushTb(make([]uintptr, FlushBatchMax+1), false)
	if !packet.all {
		t.Error("a flush of more than FlushBatchMax pages was not a whole flush")
	}
	FlushTb([]uintptr{0x1000}, false)
	if packet.all || packet.n != 1 || packet.vas[0] != 0x1000 {
		t.Errorf("one page: all %v, %d pages %#x", packet.all, packet.n, packet.vas[:packet.n])
	}
}

func TestIpiGenericCallRunsEverywhereAtOnce(t *testing.T) {
	const n = 4
	_, stop := simulate(t, n)
	defer stop()
	var ran atomic.Int32
	var sawAll atomic.Int32
	result := IpiGenericCall(func(ctx uintptr) uintptr {
		ran.Add(1)
		if packet.arrived.Load() == packet.everyone {
			sawAll.Add(1) // every processor had arrived before any ran
		}
		return ctx + 1
	}, 41)
	if result != 42 || ran.Load() != n || sawAll.Load() != n {
		t.Errorf("result %d, ran on %d processors, %d saw all arrived; want 42, %d, %d", result, ran.Load(), sawAll.Load(), n, n)
	}
	if l := CurrentIrql(); l != PassiveLevel {
		t.Errorf("IRQL after the call: %v", l)
	}
}

func TestTargetedDpcInterruptsItsProcessor(t *testing.T) {
	sent, stop := simulate(t, 2)
	ran := false
	d := new(KDPC)
	InitializeDpc(d, func(*KDPC, uintptr, uintptr, uintptr) { ran = true }, 0)
	SetTargetProcessorDpc(d, 1)
	InsertQueueDpc(d, 0, 0)
	stop()
	if ran || DpcQueueDepth(1) != 1 || sent[1].Load() != 1 || ipiRequests[1].bits.Load()&ipiDpc == 0 {
		t.Errorf("DPC for processor 1: ran here %v, its queue %d, IPIs %d, request %#x",
			ran, DpcQueueDepth(1), sent[1].Load(), ipiRequests[1].bits.Load())
	}
	if !RemoveQueueDpc(d) || DpcQueueDepth(1) != 0 {
		t.Error("the targeted DPC could not be removed")
	}
	ipiRequests[1].bits.Store(0)
}

func TestFreezeReachesEveryProcessor(t *testing.T) {
	const n = 3
	_, stop := simulate(t, n)
	frozenMask := FreezeProcessors(1 << 32)
	stop()
	if frozenMask != 0b110 {
		t.Errorf("frozen %#b, want 0b110 (processors 1 and 2)", frozenMask)
	}
	freezeOwner.Store(0)
	frozenProcessors.Store(0)
}

// A processor queued on a SpinLock serves a flush at once but keeps a
// freeze pending (ipiPollQueued) until it has passed the lock on; the
// plain poll then takes the freeze.
func TestQueuedWaiterDefersTheFreeze(t *testing.T) {
	if arch.Bare() {
		t.Skip("it writes processor 1's requests and the shootdown packet, which are a real processor's in the kernel")
	}
	const cpu = 1
	r := &ipiRequests[cpu].bits
	defer r.Store(0)
	packet.pending.Store(1 << cpu)
	r.Store(ipiFlush | ipiFreeze)
	if !ipiPollQueued(cpu) || r.Load() != ipiFreeze || packet.pending.Load() != 0 {
		t.Fatalf("queued poll: request %#x left, flush pending %#x: want the flush served and the freeze reported and left",
			r.Load(), packet.pending.Load())
	}
	if !ipiPollQueued(cpu) || r.Load() != ipiFreeze {
		t.Fatalf("a second queued poll took the freeze: request %#x", r.Load())
	}
	if !ipiServe(cpu, 0) || r.Load() != 0 {
		t.Fatalf("the plain poll left request %#x", r.Load())
	}
	r.Store(ipiFlush)
	packet.pending.Store(1 << cpu)
	if ipiPollQueued(cpu) || r.Load() != 0 {
		t.Fatalf("a flush alone reported a freeze, or stayed: request %#x", r.Load())
	}
}
