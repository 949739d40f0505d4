// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Everything here runs with interrupts off on a per-CPU stack.
//
// Scheduling happens only when the outermost trap returns: a handler marks
// the current thread blocked or ready and calls reschedule, which saves the
// trap frame into the outgoing thread and loads the incoming thread's saved
// frame in its place, so the common exit path resumes the new thread.
// Nested traps (a page fault inside a system call) never switch, and
// neither does a running thread that trapped with interrupts off (a fault
// under a spin lock): only its own wait could move it.
//
// IRQL is the processor's (CR8), not the thread's, so a switch at
// DISPATCH_LEVEL or above would run the next thread at that level. As on
// NT, the end of a time slice at raised IRQL is deferred until the level
// drops (the timer keeps preemptPending set), and a thread that gives up
// the processor itself at raised IRQL (a futex wait, a sleep, a blocking
// read, a yield or an exit) stops the system with
// ATTEMPTED_SWITCH_FROM_DPC (0xB8): the check NT's context switch makes.
// At DISPATCH_LEVEL ntgo runs nothing but what raised it, the role NT's
// DPCs play; above it the timer could not even end the wait.

package kernel

import (
	"unsafe"

	"ntgo/mm"
	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
)

// A thread runs only on the processors of its Affinity: dequeueReady
// passes over the others' threads, reschedule moves a running thread off
// a processor it may no longer use, and the reschedule IPI goes to a
// processor the thread may use.

// allowedOn reports whether thread t may run on processor cpu.
//
//go:nosplit
func allowedOn(t int32, cpu uint32) bool {
	a := threads[t].Affinity
	return a == 0 || a&(1<<cpu) != 0
}

// enqueueReady queues t and, if a processor it may use idles, sends it the
// reschedule IPI so that it runs t at once (smp_trap.go).
//
//go:nosplit
func enqueueReady(t int32) {
	th := &threads[t]
	th.State = threadReady
	th.next = noThread
	if readyTail == noThread {
		readyHead = t
	} else {
		threads[readyTail].next = t
	}
	readyTail = t
	kickIdleProcessor(t)
}

// dequeueReady takes the first ready thread that may run on processor cpu.
//
//go:nosplit
func dequeueReady(cpu uint32) int32 {
	prev := int32(noThread)
	t := readyHead
	for t != noThread && !allowedOn(t, cpu) {
		prev, t = t, threads[t].next
	}
	if t == noThread {
		return noThread
	}
	next := threads[t].next
	if prev == noThread {
		readyHead = next
	} else {
		threads[prev].next = next
	}
	if readyTail == t {
		readyTail = prev
	}
	threads[t].next = noThread
	return t
}

// wake makes a blocked thread ready with result as its system call's return
// value.
//
//go:nosplit
func wake(t int32, result uint64) {
	th := &threads[t]
	if th.State != threadBlocked {
		return
	}
	th.Frame.RAX = result
	th.Wait = waitNone
	th.WaitAddr = 0
	th.Deadline = 0
	enqueueReady(t)
}

// block marks the current thread as waiting; the caller's trap frame is saved
// when reschedule switches away from it.
//
//go:nosplit
func block(why waitReason, addr uintptr, deadline int64) {
	th := &threads[currentKPCR().Current]
	th.State = threadBlocked
	th.Wait = why
	th.WaitAddr = addr
	th.Deadline = deadline
}

// yield puts the current thread at the back of the ready queue.
//
//go:nosplit
func yield() {
	if p := currentKPCR(); p.Current != p.Idle {
		enqueueReady(p.Current)
	}
}

// reschedule switches f to the next ready thread if the current one stopped
// running (blocked, yielded, exited) or its time slice is up.
//
//go:nosplit
func reschedule(f *TrapFrame) {
	p := currentKPCR()
	cur := p.Current
	curState := threads[cur].State
	if curState == threadRunning && f.RFLAGS&arch.RflagsIF == 0 {
		// It trapped with interrupts off (a fault under an interrupt-
		// disabling spin lock, or in the idle thread's zeroing): the timer
		// could not have ended its slice there, and a switch would leave
		// this processor's queue node in use for the next thread to trip
		// on (SPIN_LOCK_ALREADY_OWNED). PreemptPending waits for the next
		// tick with interrupts on.
		return
	}
	misplaced := curState == threadRunning && cur != p.Idle && !allowedOn(cur, p.Number)
	wantSwitch := curState != threadRunning || misplaced ||
		readyHead != noThread && (cur == p.Idle || p.PreemptPending)
	if !wantSwitch {
		return
	}
	if irql := ke.GetCurrentIrql(); irql >= ke.DispatchLevel {
		if curState == threadRunning {
			return // a time slice's end: deferred until the IRQL drops
		}
		// Once a goroutine-context stop has begun, its goroutine may wait on
		// the runtime (the screen allocates, and an allocation can park it
		// for the GC while its thread runs another goroutine, at this IRQL):
		// the screen is all that matters then, so threads switch at any IRQL.
		if !stopping.Load() {
			switchAtRaisedIrql(f, cur, irql)
		}
	}
	p.PreemptPending = false
	if curState == threadRunning && cur != p.Idle {
		enqueueReady(cur)
	}
	next := dequeueReady(p.Number)
	if next == noThread {
		next = p.Idle
	}
	if next == cur {
		threads[cur].State = threadRunning
		return
	}
	now := nanotime()
	out := &threads[cur]
	if out.State != threadFree {
		out.Frame = *f
		out.CPUTime += now - out.lastRun
	}
	if cur == p.Idle {
		out.State = threadBlocked // never queued, as Start left it
	}
	in := &threads[next]
	*f = in.Frame
	in.State = threadRunning
	in.lastRun = now
	in.Switches++
	p.Current = next
	p.ThreadFSBase = in.FSBase
	p.Switches++
	p.SliceEnd = now + timeSlice
}

// switchAtRaisedIrql stops the system for thread cur, which gave up the
// processor at irql.
//
//go:nosplit
func switchAtRaisedIrql(f *TrapFrame, cur int32, irql ke.KIRQL) {
	next := readyHead
	if next == noThread {
		next = currentKPCR().Idle
	}
	stop(f, bugcheck.AttemptedSwitchFromDpc, uintptr(unsafe.Pointer(&threads[cur])), uintptr(unsafe.Pointer(&threads[next])),
		uintptr(f.RSP), uintptr(irql))
}

const timeSlice = 10_000_000 // 10 ms, in ns

// zeroBatch is how many free frames the idle thread zeroes between checks
// for other work (NT's zero page thread, at idle priority).
const zeroBatch = 8

// idleWork runs on the idle thread, interrupts off, before each halt: the
// zero-page thread's work. Between batches it lets pending interrupts in
// (EnableInterrupts returns through STI's one-instruction shadow), so a
// thread that becomes ready preempts the zeroing at once.
//
//go:nosplit
func idleWork() {
	for mm.ZeroPages(zeroBatch) == zeroBatch {
		arch.EnableInterrupts()
		arch.DisableInterrupts()
	}
}

// inGoroutine reports whether a goroutine is running, for ke's spin locks
// (which pin it): the runtime runs, no trap is being handled, and the
// running thread has its own TLS (the idle thread runs on the trap's).
//
//go:nosplit
func inGoroutine() bool {
	return runtimeStarted && currentKPCR().TrapDepth == 0 && currentKPCR().ThreadFSBase != currentKPCR().TrapTLS
}
