package kernel

// The processors: the KPCR's layout as assembly and ke read it, the AP
// trampoline's hand-encoded instructions, and (in the kernel) every
// processor the MADT lists running its own trap path.

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"

	"ntgo/mm"
	"ntgo/mm/physmem"
	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

func TestKPCRLayout(t *testing.T) {
	var p KPCR
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"Self", unsafe.Offsetof(p.Self), 0},
		{"ScratchRSP (KPCR_SCRATCH_RSP)", unsafe.Offsetof(p.ScratchRSP), 8},
		{"SyscallStack (KPCR_SYSCALL_STACK)", unsafe.Offsetof(p.SyscallStack), 16},
		{"ThreadFSBase (KPCR_THREAD_FS_BASE)", unsafe.Offsetof(p.ThreadFSBase), 24},
		{"TrapTLS (KPCR_TRAP_TLS)", unsafe.Offsetof(p.TrapTLS), 32},
	} {
		if c.got != c.want {
			t.Errorf("KPCR.%s at %d, assembly reads %d", c.name, c.got, c.want)
		}
	}
}

// disassemble decodes code in mode (16, 32, 64) into Intel syntax.
func disassemble(t *testing.T, code []byte, mode int) []string {
	t.Helper()
	var out []string
	for len(code) > 0 {
		in, err := x86asm.Decode(code, mode)
		if err != nil {
			t.Fatalf("%d-bit code %x: %v", mode, code, err)
		}
		out = append(out, x86asm.IntelSyntax(in, 0, nil))
		code = code[in.Len:]
	}
	return out
}

func TestTrampolineDecodes(t *testing.T) {
	real, protected, long := trampolineCode()
	want := map[int][]string{
		16: {"cli", "mov ax, cs", "mov ds, ax", "lgdt ptr [0xa0]", "mov eax, cr0", "or eax, 0x1", "mov cr0, eax", "jmp far 0x70020, 0x8"},
		32: {"mov ax, 0x10", "mov ds, ax", "mov es, ax", "mov ss, ax", "mov eax, 0x20", "mov cr4, eax", "mov eax, 0x71000", "mov cr3, eax",
			"mov ecx, 0xc0000080", "mov eax, dword ptr [0x700b0]", "xor edx, edx", "wrmsr", "mov eax, dword ptr [0x700b4]", "mov cr0, eax", "jmp far 0x70060, 0x18"},
		64: {"mov rsp, qword ptr [0x700b8]", "mov rax, qword ptr [0x700c0]", "jmp rax"},
	}
	for mode, code := range map[int][]byte{16: real, 32: protected, 64: long} {
		got := disassemble(t, code, mode)
		if strings.Join(got, "; ") != strings.Join(want[mode], "; ") {
			t.Errorf("%d-bit part:\n got %q\nwant %q", mode, got, want[mode])
		}
	}
	if len(real) > offProtected || len(protected) > offLong-offProtected || len(long) > offGDT-offLong {
		t.Errorf("code overlaps: %d, %d, %d bytes", len(real), len(protected), len(long))
	}
}

// vecTestIPI is a vector no handler claims: interrupt() only acknowledges
// it, so taking it proves the target's IDT, TSS stacks, KPCR and EOI work.
const vecTestIPI = 0xE0

func TestEveryProcessorStartedAndTakesInterrupts(t *testing.T) {
	if !arch.Bare() {
		t.Skip("the processors are the machine's")
	}
	if topology == nil {
		t.Skipf("no topology: %s", topologyNote)
	}
	n := startedProcessors()
	if int(n) != len(topology.Processors) {
		t.Fatalf("%d processors run, the MADT lists %d", n, len(topology.Processors))
	}
	seen := map[uint32]bool{}
	for cpu := uint32(0); cpu < n; cpu++ {
		p := &kpcrs[cpu]
		if p.Number != cpu || p.Self != uintptr(unsafe.Pointer(p)) || seen[p.APICID] {
			t.Fatalf("processor %d: KPCR number %d self %#x APIC ID %d (seen: %v)", cpu, p.Number, p.Self, p.APICID, seen[p.APICID])
		}
		seen[p.APICID] = true
		if cpu == 0 {
			continue
		}
		before := atomic.LoadUint64(&p.Interrupts)
		sendICR(p.APICID, vecTestIPI)
		deadline := time.Now().Add(2 * time.Second)
		for atomic.LoadUint64(&p.Interrupts) == before {
			if time.Now().After(deadline) {
				t.Fatalf("processor %d (APIC ID %d) took no interrupt in 2s", cpu, p.APICID)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if got := ke.QueryActiveProcessorCountEx(0); got != n {
		t.Errorf("QueryActiveProcessorCountEx(0) = %d, want %d", got, n)
	}
	if got := ke.QueryActiveProcessorCountEx(1); got != 0 {
		t.Errorf("QueryActiveProcessorCountEx(1) = %d, want 0 (no group 1)", got)
	}
}

// spreadTimeout bounds the in-kernel SMP tests' waits.
const spreadTimeout = 20 * time.Second

// Goroutines spread over every processor: each busy goroutine records the
// processors it ran on until all are seen.
func TestGoroutinesRunOnEveryProcessor(t *testing.T) {
	if !arch.Bare() {
		t.Skip("the processors are the machine's")
	}
	n := int(startedProcessors())
	if got, want := runtime.GOMAXPROCS(0), max(n, mm.MinPagingProcs); got != want {
		t.Fatalf("GOMAXPROCS %d, %d processors run (want %d: paging needs %d)", got, n, want, mm.MinPagingProcs)
	}
	var seen [ke.MaximumProcessors]atomic.Bool
	var count atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if c := ke.CurrentProcessorNumber(); !seen[c].Swap(true) {
					count.Add(1)
				}
				for i := 0; i < 1000; i++ { // busy, so that the others run elsewhere
					runtime.KeepAlive(i)
				}
				runtime.Gosched()
			}
		}()
	}
	deadline := time.Now().Add(spreadTimeout)
	for int(count.Load()) < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if got := int(count.Load()); got != n {
		var on []int
		for i := range n {
			if seen[i].Load() {
				on = append(on, i)
			}
		}
		t.Fatalf("goroutines ran on processors %v of %d", on, n)
	}
}

// TestSystemAffinityMovesTheThread: KeSetSystemAffinityThreadEx to each
// processor in turn runs the caller there at once and keeps it there
// across sleeps (timer wake-ups); reverting lets it run anywhere again.
func TestSystemAffinityMovesTheThread(t *testing.T) {
	if !arch.Bare() || startedProcessors() < 2 {
		t.Skip("needs two processors")
	}
	for n := range int(startedProcessors()) {
		prev := ke.SetSystemAffinityThreadEx(1 << n)
		if prev != 0 {
			t.Errorf("processor %d: previous system affinity %#x, want 0 (none)", n, prev)
		}
		for i := range 5 {
			if got := ke.CurrentProcessorNumber(); got != n {
				t.Fatalf("affinity %#x, check %d: running on processor %d", 1<<n, i, got)
			}
			time.Sleep(time.Millisecond)
		}
		if inner := ke.SetSystemAffinityThreadEx(1 << 63); inner != 1<<n || ke.CurrentProcessorNumber() != n {
			t.Errorf("an affinity naming no processor: returned %#x (want %#x), now on %d", inner, 1<<n, ke.CurrentProcessorNumber())
		}
		ke.RevertToUserAffinityThreadEx(1 << n)
		ke.RevertToUserAffinityThreadEx(prev)
	}
	if a := ke.SetSystemAffinityThreadEx(1); a != 0 {
		t.Errorf("after reverting, previous system affinity %#x, want 0", a)
	}
	ke.RevertToUserAffinityThreadEx(0)
}

// TestWakeupsAcrossProcessors: two threads pinned to different processors
// hand a value back and forth through channels (futex waits and wakes),
// with timer sleeps between; each wake of the other processor's thread
// finds it idle and must reach it by the reschedule IPI, at once.
func TestWakeupsAcrossProcessors(t *testing.T) {
	if !arch.Bare() || startedProcessors() < 2 {
		t.Skip("needs two processors")
	}
	const rounds = 200
	ping, pong := make(chan int), make(chan int)
	go func() {
		prev := ke.SetSystemAffinityThreadEx(1 << 1)
		defer ke.RevertToUserAffinityThreadEx(prev)
		for i := range ping {
			pong <- i*1000 + ke.CurrentProcessorNumber()
		}
	}()
	prev := ke.SetSystemAffinityThreadEx(1 << 0)
	defer ke.RevertToUserAffinityThreadEx(prev)
	kicks := kpcrs[1].Reschedules
	start := time.Now()
	for i := range rounds {
		select {
		case ping <- i:
		case <-time.After(spreadTimeout):
			t.Fatalf("round %d: the waiter never took the value", i)
		}
		select {
		case r := <-pong:
			if r != i*1000+1 {
				t.Fatalf("round %d: got %d, want %d (processor 1)", i, r, i*1000+1)
			}
		case <-time.After(spreadTimeout):
			t.Fatalf("round %d: no answer", i)
		}
		if me := ke.CurrentProcessorNumber(); me != 0 {
			t.Fatalf("round %d: the pinned sender runs on processor %d", i, me)
		}
		if i%16 == 0 {
			time.Sleep(time.Millisecond) // a timer wake-up
		}
	}
	close(ping)
	got := kpcrs[1].Reschedules - kicks
	if got < rounds/2 {
		t.Errorf("processor 1 took %d reschedule IPIs in %d round trips: its thread was not woken by IPI", got, rounds)
	}
	t.Logf("%d round trips between processors 0 and 1 in %v, %d reschedule IPIs to processor 1", rounds, time.Since(start), got)
}

// The stall never stops a processor that waits in a queued lock's queue:
// every other processor takes and releases one ke.SpinLock (queued,
// interrupts off) in a loop while this one stalls them and takes the lock
// itself, many times. Had a waiter stalled in its spin, the lock would
// pass to it while stalled and this processor's acquire would wait for it
// for ever (DPC_WATCHDOG_VIOLATION at the spin's bound). Each stall must
// also reach every processor (they answer between their holds).
func TestStallLeavesQueuedWaitersRunning(t *testing.T) {
	n := int(startedProcessors())
	if !arch.Bare() || n < 2 {
		t.Skip("needs two processors")
	}
	prev := ke.SetSystemAffinityThreadEx(1)
	defer ke.RevertToUserAffinityThreadEx(prev)
	var lock ke.SpinLock
	var stop atomic.Bool
	var holds atomic.Uint64
	var wg sync.WaitGroup
	for cpu := 1; cpu < n; cpu++ {
		wg.Go(func() {
			prev := ke.SetSystemAffinityThreadEx(1 << cpu)
			defer ke.RevertToUserAffinityThreadEx(prev)
			for !stop.Load() {
				lock.Acquire()
				holds.Add(1)
				lock.Release()
			}
		})
	}
	for holds.Load() < uint64(n) {
		runtime.Gosched()
	}
	const rounds = 50
	missed := 0
	for range rounds {
		old := ke.RaiseIrql(ke.HighLevel)
		ke.StallOtherProcessors()
		answered := stalledMask
		lock.Acquire()
		lock.Release()
		ke.ResumeOtherProcessors()
		ke.LowerIrql(old)
		if want := onlineMask.Load() &^ 1; answered != want {
			missed++
		}
	}
	stop.Store(true)
	wg.Wait()
	if missed != 0 {
		t.Errorf("%d of %d stalls did not reach every processor", missed, rounds)
	}
	t.Logf("%d stalls beside %d processors taking the lock (%d holds)", rounds, n-1, holds.Load())
}

// A fault taken with interrupts off, here by a spin lock's holder touching
// fresh pages, never ends the thread's time slice. A switch there would
// leave the processor's queue node in use for the next thread it runs,
// which then stops with SPIN_LOCK_ALREADY_OWNED on a lock it never took
// (mm/pfn's TestConcurrentUse at SMP=4 did). With more threads ready than
// processors and every slice marked ended, each fault must leave the
// holder where it was.
func TestFaultUnderSpinLockDoesNotSwitch(t *testing.T) {
	if !arch.Bare() {
		t.Skip("the kernel's scheduler")
	}
	// Keep the ready queue full: more Ps than processors, each spinning on
	// its own thread (through a call, so the GC can still stop them).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4*int(ke.QueryActiveProcessorCountEx(0)) + 1))
	var stop atomic.Bool
	var spinners sync.WaitGroup
	for range 4 * ke.QueryActiveProcessorCountEx(0) {
		spinners.Add(1)
		go func() {
			defer spinners.Done()
			for !stop.Load() {
				spinRound()
			}
		}()
	}
	defer func() { stop.Store(true); spinners.Wait() }()
	const pages = 512
	mem, err := syscall.Mmap(-1, 0, pages*physmem.PageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	var lock ke.SpinLock
	sawReady, switched := 0, 0
	for i := range pages {
		lock.Acquire()
		p := currentKPCR()
		before := p.Switches
		p.PreemptPending = true
		if readyHead != noThread {
			sawReady++
		}
		mem[i*physmem.PageSize] = 1 // a demand-zero fault, interrupts off
		if currentKPCR() != p || p.Switches != before {
			switched++
		}
		lock.Release()
	}
	t.Logf("%d faults under the lock, %d with another thread ready", pages, sawReady)
	if switched != 0 {
		t.Fatalf("%d of %d faults under a spin lock switched threads", switched, pages)
	}
	if sawReady == 0 {
		t.Fatalf("no fault had another thread ready: the test proves nothing")
	}
}

//go:noinline
func spinRound() {}
