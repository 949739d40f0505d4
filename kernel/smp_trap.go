// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The processors' shared trap-context state: the kernel lock, the
// reschedule and shootdown IPIs, and an application processor's start.
//
// The kernel lock. The thread table, the ready queue, futexes, timers,
// epoll, the console ring and the rest of trap context were written for
// one processor, where interrupts off meant exclusive. With several, every
// trap (and the few goroutine-context readers of that state) takes one
// spin lock, reentrant on its own processor (a page fault inside a system
// call), so that argument still holds: one processor at a time is in trap
// context. The memory manager's own locks (PFN, page tables) nest inside
// it; a goroutine holding one of them never takes the kernel lock.
//
// Reschedule IPI: a thread made ready while a processor idles is sent to
// it (kickIdleProcessor), which wakes from HLT and takes the thread at its
// trap exit.
//
// Shootdowns, KeIpiGenericCall and the bugcheck's freeze are ke's
// (nt/ke/ipi_trap.go) over vecIPI (ipi_trap.go); a processor answers in the
// IPI (taken without the kernel lock, whose holder may be the one waiting)
// or, when it waits with interrupts off, in its spin: the kernel lock's,
// any ke.SpinLock's and ke's own waits poll its requests.
//
// An application processor starts, after the trampoline (smp.go), on its
// idle stack, on the trap g, interrupts off, before it has a KPCR.

package kernel

import (
	"math/bits"
	"sync/atomic"

	"github.com/usbarmory/tamago/amd64/lapic"

	"ntgo/kernel/kd"
	"ntgo/mm/pte"
	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// kernelLock is trap context's lock: owner is the holding processor's
// number + 1, depth its nesting.
var kernelLock struct {
	owner atomic.Uint32
	depth uint32
}

// lockKernel takes the kernel lock for processor p, answering IPI
// requests while it spins, or from a holder frozen by a bugcheck.
//
//go:nosplit
func lockKernel(p *KPCR) {
	me := p.Number + 1
	if kernelLock.owner.Load() == me {
		kernelLock.depth++
		return
	}
	for !kernelLock.owner.CompareAndSwap(0, me) {
		ke.IpiService()
		// A processor frozen for a bugcheck never lets go: its lock is the
		// stop's, which may fault or call on its way to the power-off.
		if o := kernelLock.owner.Load(); o != 0 && ke.FrozenProcessors()&(1<<(o-1)) != 0 && kernelLock.owner.CompareAndSwap(o, me) {
			break
		}
		arch.Pause()
	}
	kernelLock.depth = 1
}

//go:nosplit
func unlockKernel() {
	kernelLock.depth--
	if kernelLock.depth == 0 {
		kernelLock.owner.Store(0)
	}
}

// onlineMask has a bit for each processor that runs threads.
var onlineMask atomic.Uint64

// kickIdleProcessor sends the reschedule IPI to one idle processor that
// ready thread t may use, unless this one idles and t may run here (it
// takes the thread at its own exit). If none idles and t may not run
// here, a busy one it may use gets the IPI, so that its trap exit arms
// the end of its time slice for t. Under the kernel lock, so Current
// does not change under it.
//
//go:nosplit
func kickIdleProcessor(t int32) {
	me := currentKPCR()
	here := allowedOn(t, me.Number)
	if me.Current == me.Idle && here {
		return
	}
	busy := -1
	m := onlineMask.Load()
	for i := uint32(0); i < ke.MaximumProcessors; i++ {
		q := &kpcrs[i]
		if m&(1<<i) == 0 || i == me.Number || !allowedOn(t, i) {
			continue
		}
		if q.Current != q.Idle {
			busy = int(i)
			continue
		}
		kick(q)
		return
	}
	if !here && busy >= 0 {
		kick(&kpcrs[busy])
	}
}

//go:nosplit
func kick(q *KPCR) {
	if atomic.CompareAndSwapUint32(&q.Kicked, 0, 1) {
		sendICR(q.APICID, vecReschedule)
	}
}

// The stall (ke.StallOtherProcessors): stallRequest is the stall in
// force (a generation, 0 for none); each processor records in
// KPCR.Stalled the one it spins for, so a processor still leaving the
// last stall is not counted for the next. stalledMask is the processors
// that answered the last stall.
var (
	stallRequest atomic.Uint64
	stallGen     atomic.Uint64
	stalledMask  uint64
)

// stallWait bounds the wait for the others to stall, as freezeWait the
// freeze's: one that does not answer is left running, and the stall's
// users show it as such.
const stallWait = 5 // seconds

// stallProcessors sends vecStall to every other online processor and
// waits until each spins, or stallWait passes. Only the interrupt stalls
// a processor, so a stalled one holds no interrupt-disabling lock and
// waits in no lock's queue: one spinning with interrupts off answers once
// it has its lock and has let it go. (Stalling it in its spin would let a
// queued lock pass to it while it is stalled, and the stalling processor,
// taking that lock next, would wait for it for ever.)
//
//go:nosplit
func stallProcessors() {
	me := currentKPCR()
	others := onlineMask.Load() &^ (1 << me.Number)
	stalledMask = 0
	if others == 0 {
		return
	}
	gen := stallGen.Add(1)
	stallRequest.Store(gen)
	for i := uint32(0); i < ke.MaximumProcessors; i++ {
		if others&(1<<i) != 0 {
			sendICR(kpcrs[i].APICID, vecStall)
		}
	}
	deadline := arch.RDTSC() + tscHz*stallWait
	for waiting := others; waiting != 0 && arch.RDTSC() < deadline; {
		ke.IpiService()
		arch.Pause()
		for w := waiting; w != 0; w &= w - 1 {
			i := uint32(bits.TrailingZeros64(w))
			if atomic.LoadUint64(&kpcrs[i%ke.MaximumProcessors].Stalled) == gen {
				waiting &^= 1 << i
				stalledMask |= 1 << i
			}
		}
	}
}

//go:nosplit
func resumeProcessors() { stallRequest.Store(0) }

// stalledAt is each processor's registers where the last stall
// interrupted it, recorded before it says it spins (the ~ view and the
// crash dump read them while it still does).
var stalledAt [ke.MaximumProcessors]kd.Registers

// stallHere is vecStall's handler: spin, answering ke's requests, until
// resumed. Taken without the kernel lock, with interrupts on before it, so
// this processor holds no lock.
//
//go:nosplit
func stallHere(f *TrapFrame, p *KPCR) {
	gen := stallRequest.Load()
	if gen == 0 {
		return // resumed before this processor got here
	}
	saveRegisters(&stalledAt[p.Number%ke.MaximumProcessors], f)
	stallUntilResumed(p, gen)
}

// stallUntilResumed says this processor spins for stall gen and does,
// answering ke's requests, until the stall ends.
//
//go:nosplit
func stallUntilResumed(p *KPCR, gen uint64) {
	atomic.StoreUint64(&p.Stalled, gen)
	for stallRequest.Load() == gen {
		ke.IpiService()
		arch.Pause()
	}
}

// newIdleThread makes the thread-table entry of an application
// processor's idle thread, running (the processor starts in it), or
// returns noThread when the table is full. Goroutine context: it takes
// the kernel lock with interrupts off, and calls nothing with a stack
// check meanwhile.
//
//go:nosplit
func newIdleThread() int32 {
	rflags := arch.DisableInterrupts()
	lockKernel(currentKPCR())
	t := newThread()
	if t != noThread {
		th := &threads[t]
		th.State = threadRunning
		th.Idle = true
		th.FSBase = kpcrs[0].TrapTLS
		th.lastRun = nanotime()
	}
	unlockKernel()
	arch.RestoreInterrupts(rflags)
	return t
}

// snapshotScheduler copies the thread table and processor cpu's KPCR under
// the kernel lock, for the debugger's views (goroutine context, as
// newIdleThread), and returns the thread this processor runs.
//
//go:nosplit
func snapshotScheduler(ths *[maxThreads]Thread, pcr *KPCR, cpu uint32) int32 {
	rflags := arch.DisableInterrupts()
	me := currentKPCR()
	lockKernel(me)
	*ths = threads
	*pcr = kpcrs[cpu]
	current := me.Current
	unlockKernel()
	arch.RestoreInterrupts(rflags)
	return current
}

// What the boot processor hands the processor it starts, and the word that
// processor answers on: apBootCPU and apCR3 (that processor's PML4) are
// written before the SIPI and read once by the processor starting;
// apArrived is its number once it runs.
var (
	apBootCPU    uint32
	apArrived    atomic.Uint32
	apCR3, apCR4 uintptr
)

// apStart makes the processor the boot processor's peer: its KPCR through
// GS, its GDT and TSS (IST stacks made for it), the shared IDT, the
// system-call MSRs, the PAT the page tables' cache types assume, its local
// APIC with the timer on vecTimer (armed by its trap exits), IRQL
// PASSIVE_LEVEL. Then it joins ke's IPI requests (shootdowns), says it arrived and runs its idle thread, which the
// scheduler (entry_trap.go) switches away from as soon as a thread is
// ready.
//
//go:nosplit
func apStart() {
	cpu := apBootCPU
	loadKPCR(cpu)
	loadProcessorTables(cpu)
	initSyscalls()
	arch.WriteMSR(pte.IA32PAT, pte.PATValue)
	*mmio32(lapicBase + lapicSVR) = vecSpurious
	apic.Enable()
	*mmio32(lapicBase + lapicTimerDivide) = lapicDivideBy1
	apic.SetTimer(vecTimer, lapic.TIMER_MODE_ONE_SHOT)
	*mmio32(lapicBase + lapicTimerInitial) = 0
	arch.WriteCR8(0)
	onlineMask.Or(1 << cpu)
	ke.SetProcessorActive(int(cpu)) // its TLB is fresh: it just loaded CR3
	apArrived.Store(cpu)
	apIdle()
}

// lapicID is this processor's local APIC ID (xAPIC: bits 31:24).
//
//go:nosplit
func lapicID() uint32 { return *mmio32(lapicBase + lapicIDRegister) >> 24 }

func apIdle()
func apEntryAddr() uintptr
