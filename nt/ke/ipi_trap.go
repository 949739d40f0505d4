// Interprocessor interrupts: the requests one processor makes of others
// (a TLB flush, KeIpiGenericCall's routine, a DPC interrupt, the freeze of
// a bugcheck) and the kernel seam that delivers them.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Structure. Each processor has a request word (ipiFlush, ipiCall,
// ipiDpc, ipiFreeze bits). A requester sets the bits on each target and
// asks the kernel to interrupt it (the sender installed by SetIpiSender:
// the local APIC's fixed IPI); the target's interrupt handler calls
// IpiService, which takes the word and does what it asks. Work that needs
// an answer (flush, generic call) goes through the one packet: a requester
// owns it (packetOwner), fills it, raises the targets' bits, and waits
// until every target has cleared its bit in packet.pending.
//
// Deadlock freedom. A processor waiting with interrupts off — for the
// packet, for a target's acknowledgement, or for a SpinLock (which
// disables interrupts) — cannot take the IPI, so every such wait polls its
// own request word (ipiPoll) and serves what is there. Two processors
// shooting down at once, or one shooting down while the other spins on
// the PFN lock its holder keeps across the shootdown, thus both progress.
//
// Processors. Processor 0 is active from the start; the kernel calls
// SetProcessorActive as each application processor begins taking
// interrupts. Until then, and on the host, there is no one to interrupt,
// and a shootdown is the local flush alone.

package ke

import (
	"math/bits"
	"sync/atomic"

	"ntgo/nt/arch"
)

// IpiLevel is IPI_LEVEL: the IRQL interprocessor requests run at.
const IpiLevel KIRQL = 14

// The request bits.
const (
	ipiFlush  = 1 << iota // flush the packet's TLB entries
	ipiCall               // run the packet's generic call
	ipiDpc                // the processor's DPC queue has work
	ipiFreeze             // a bugcheck: stop here
)

var ipiRequests [MaximumProcessors]struct {
	bits atomic.Uint32
	_    [cacheLine - 4]byte
}

// ipiProcessors has a bit per application processor that takes IPIs;
// processor 0 always does (ActiveProcessors adds it).
var ipiProcessors atomic.Uint64

// ipiSend is the kernel's sender (SetIpiSender); nil until it has one.
var ipiSend func(cpu int)

// SetProcessorActive records that processor cpu runs and takes IPIs.
//
//go:nosplit
func SetProcessorActive(cpu int) { ipiProcessors.Or(1 << uint(cpu)) }

// ActiveProcessors is the mask of processors that take IPIs.
//
//go:nosplit
func ActiveProcessors() uint64 { return ipiProcessors.Load() | 1 }

// FlushBatchMax is the most pages a TLB request names; a longer one is a
// whole flush.
const FlushBatchMax = 32

// The packet: one request with an answer at a time.
var (
	packetOwner atomic.Uint32 // processor + 1 that owns it, 0 free
	packet      struct {
		pending atomic.Uint64 // targets that have not finished
		all     bool          // flush: every translation
		n       int
		vas     [FlushBatchMax]uintptr
		// generic call: the routine, its context, the processors taking
		// part and those that have reached the barrier
		call     func(context uintptr) uintptr
		context  uintptr
		everyone uint64
		arrived  atomic.Uint64
	}
)

// ipiCounts counts requests served per processor, for tests and the note.
var ipiCounts [MaximumProcessors]struct {
	served atomic.Uint64
	_      [cacheLine - 8]byte
}

// IpiServed is how many requests processor cpu has served.
//
//go:nosplit
func IpiServed(cpu int) uint64 { return ipiCounts[cpu].served.Load() }

// IpiService serves the current processor's requests: the kernel's IPI
// handler calls it, in trap context, with interrupts off.
//
//go:nosplit
func IpiService() { ipiPoll(CurrentProcessorNumber()) }

// ipiPoll serves processor cpu's requests, if it has any.
//
//go:nosplit
func ipiPoll(cpu int) {
	if ipiServe(cpu, 0) {
		frozen(cpu)
	}
}

// ipiPollQueued is ipiPoll for a processor queued on a SpinLock: it serves
// everything but the freeze, which it leaves pending and reports. A queued
// lock passes to its next waiter whatever that waiter is doing, so a
// waiter frozen in the queue would be handed the lock for good, and every
// processor behind it would spin until DPC_WATCHDOG_VIOLATION, the
// bugcheck's own processor among them (a second stop inside the first,
// which then froze itself: the system hung with no screen finished).
// queueAcquire instead waits for the lock, passes it on and then freezes.
//
//go:nosplit
func ipiPollQueued(cpu int) (freeze bool) { return ipiServe(cpu, ipiFreeze) }

// ipiServe serves processor cpu's requests but the DPC bit (the DPC code
// clears it) and those in keep, which stay pending; it reports whether a
// freeze is pending.
//
//go:nosplit
func ipiServe(cpu int, keep uint32) (freeze bool) {
	i := uint(cpu) % MaximumProcessors // no bounds check: the fault path's stack budget is tight
	r := &ipiRequests[i].bits
	if r.Load() == 0 {
		return false
	}
	if bit := uint64(1) << i; flushOnWake.Load()&bit != 0 { // an idle processor's spared shootdowns, first
		flushOnWake.And(^bit)
		flushLocal(nil, true)
	}
	req := r.And(ipiDpc | keep) // take all but those bits
	if req&ipiFlush != 0 {
		if packet.all {
			flushLocal(nil, true)
		} else {
			flushLocal(packet.vas[:uint(packet.n)%(FlushBatchMax+1)], false)
		}
		ipiCounts[i].served.Add(1)
		packet.pending.And(^(uint64(1) << i))
	}
	if req&ipiCall != 0 {
		runCall(cpu)
		ipiCounts[i].served.Add(1)
	}
	return (req|r.Load())&ipiFreeze != 0
}

// flushLocal drops the translations of vas (or every one) on this
// processor.
//
//go:nosplit
func flushLocal(vas []uintptr, all bool) {
	if !arch.Bare() {
		return
	}
	if all {
		arch.FlushTLB()
		return
	}
	for _, va := range vas {
		arch.Invlpg(va)
	}
}

// interruptsOff disables interrupts on bare metal (the host has none to
// disable, and CLI would fault there) and returns what interruptsOn needs.
//
//go:nosplit
func interruptsOff() uintptr {
	if arch.Bare() {
		return arch.DisableInterrupts()
	}
	return 0
}

//go:nosplit
func interruptsOn(rflags uintptr) {
	if arch.Bare() {
		arch.RestoreInterrupts(rflags)
	}
}

// spinYield is nil in the kernel. Host tests that stand goroutines in for
// the other processors set it to runtime.Gosched: a waiting goroutine
// spins without a preemption point, and the host's scheduler need not run
// the goroutine it waits for meanwhile.
var spinYield func()

// relax is one round of a wait for other processors.
//
//go:nosplit
func relax() {
	arch.Pause()
	if spinYield != nil {
		spinYield()
	}
}

// others is the mask of active processors but cpu.
//
//go:nosplit
func others(cpu int) uint64 { return ActiveProcessors() &^ (1 << uint(cpu)) }

// request raises bit on every processor in targets and interrupts them.
//
//go:nosplit
func request(targets uint64, bit uint32) {
	for t := targets; t != 0; t &= t - 1 {
		cpu := bits.TrailingZeros64(t)
		ipiRequests[cpu].bits.Or(bit)
		if ipiSend != nil {
			ipiSend(cpu)
		}
	}
}

// ownPacket takes the packet for processor cpu, serving requests while
// another processor has it.
//
//go:nosplit
func ownPacket(cpu int) {
	for !packetOwner.CompareAndSwap(0, uint32(cpu)+1) {
		ipiPoll(cpu)
		relax()
	}
}

// waitPending waits until every target has answered, serving requests
// meanwhile (a target may be waiting on us).
//
//go:nosplit
func waitPending(cpu int) {
	var s spinWait
	for packet.pending.Load() != 0 {
		ipiPoll(cpu)
		if spinYield != nil {
			spinYield()
		}
		if !s.pause() {
			spinTimedOut(0, uintptr(packet.pending.Load()))
		}
	}
}

// FlushTb drops the translations of vas (every translation when all is
// set, or when vas is longer than FlushBatchMax) on every processor and
// returns when all of them have: afterwards no processor can reach the
// old pages through a stale entry, so the caller may reuse their frames
// or virtual addresses. NT's KeFlushMultipleTb.
//
//go:nosplit
func FlushTb(vas []uintptr, all bool) {
	if len(vas) > FlushBatchMax {
		all = true
	}
	rflags := interruptsOff()
	cpu := CurrentProcessorNumber()
	flushLocal(vas, all)
	targets := others(cpu)
	if idle := targets & idleProcessors.Load(); idle != 0 {
		flushOnWake.Or(idle) // before the second look: see EnterIdle
		targets &^= idle & idleProcessors.Load()
	}
	if targets == 0 {
		interruptsOn(rflags)
		return
	}
	ownPacket(cpu)
	packet.all = all
	if !all {
		packet.n = copy(packet.vas[:], vas)
	}
	packet.pending.Store(targets)
	request(targets, ipiFlush)
	waitPending(cpu)
	packetOwner.Store(0)
	interruptsOn(rflags)
}

// Idle processors. A processor in its idle loop touches no page a
// shootdown is about (its code, its KPCR and its trap stacks stay mapped
// while it lives), and under TCG waking a halted processor for an IPI is
// the most expensive part of a shootdown. So FlushTb does not interrupt
// an idle processor: it marks a whole flush pending for it
// (flushOnWake), and the processor does that flush when it leaves idle
// (LeaveIdle, first thing at its next interrupt) before it runs anything
// else — Linux's lazy TLB mode for idle CPUs.
//
// The order makes it safe: FlushTb sets the pending bit, then looks at the
// idle mask again; LeaveIdle clears the idle bit, then looks at the
// pending bit. Whichever comes second sees the other's write: the
// processor is either interrupted or flushes itself.
var idleProcessors, flushOnWake atomic.Uint64

// EnterIdle is processor cpu entering its idle loop (the kernel calls it
// as an idle processor's interrupt returns to that loop).
//
//go:nosplit
func EnterIdle(cpu int) { idleProcessors.Or(1 << (uint(cpu) % MaximumProcessors)) }

// LeaveIdle is processor cpu leaving its idle loop (the kernel calls it at
// the entry of an interrupt that found it idle): the shootdowns it was
// spared are one whole flush now.
//
//go:nosplit
func LeaveIdle(cpu int) {
	bit := uint64(1) << (uint(cpu) % MaximumProcessors)
	idleProcessors.And(^bit)
	if flushOnWake.Load()&bit != 0 {
		flushOnWake.And(^bit)
		flushLocal(nil, true)
	}
}

// runCall is a target's part of IpiGenericCall: wait until every processor
// has arrived, run the routine (through the packet's func value, installed
// in goroutine context by IpiGenericCall), and answer.
//
//go:nosplit
func runCall(cpu int) {
	packet.arrived.Or(1 << uint(cpu))
	for packet.arrived.Load() != packet.everyone {
		relax()
	}
	packet.call(packet.context)
	packet.pending.And(^(uint64(1) << uint(cpu)))
}

// The freeze. A bugcheck stops the other processors (FreezeProcessors);
// each, in its IPI handler (which has recorded where it was interrupted,
// for the screen), marks itself frozen and halts with interrupts off for
// good.
var frozenProcessors atomic.Uint64

// FrozenProcessors is the mask of processors a bugcheck has frozen.
//
//go:nosplit
func FrozenProcessors() uint64 { return frozenProcessors.Load() }

// frozen stops processor cpu. On the host, whose "processors" are test
// goroutines, it only records the stop and returns.
//
//go:nosplit
func frozen(cpu int) {
	frozenProcessors.Or(1 << uint(cpu))
	if !arch.Bare() {
		return
	}
	arch.DisableInterrupts()
	for {
		arch.Halt()
	}
}

// FreezeProcessors stops every other active processor for a bugcheck and
// returns the mask of those that stopped within ticks of the TSC (a
// processor spinning with interrupts off still stops: its spin polls its
// requests). A time, not a count of polls: under TCG a PAUSE costs from
// nanoseconds to microseconds, and a loaded host can leave a virtual
// processor unscheduled for a good part of a second. The first caller
// wins; a second processor bugchecking meanwhile freezes itself instead.
//
//go:nosplit
func FreezeProcessors(ticks uint64) uint64 {
	cpu := CurrentProcessorNumber()
	if !freezeOwner.CompareAndSwap(0, uint32(cpu)+1) {
		frozen(cpu)
	}
	targets := others(cpu)
	request(targets, ipiFreeze)
	for deadline := arch.RDTSC() + ticks; frozenProcessors.Load()&targets != targets && arch.RDTSC() < deadline; {
		relax()
	}
	return frozenProcessors.Load()
}

var freezeOwner atomic.Uint32
