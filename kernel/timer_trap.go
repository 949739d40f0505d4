// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// One-shot LAPIC timer programmed for the earliest of: the nearest thread
// deadline (futex timeout, nanosleep, epoll timeout) and, when other threads
// are ready, the end of the running thread's time slice. The timer is only
// reprogrammed when that earliest time changes, because every LAPIC write is
// a VM exit under KVM.

package kernel

// nextDeadline is shared (under the kernel lock, smp_trap.go); each
// processor arms its own LAPIC (KPCR.ArmedDeadline) for the earlier of it
// and, when threads wait to run, its own time slice's end.
var (
	lapicHz      uint64
	nextDeadline int64 = -1 // earliest thread deadline, -1 for none
)

//go:nosplit
func calibrateLAPIC() {
	const calibNs = 1_000_000
	*mmio32(lapicBase + lapicTimerInitial) = 0xFFFFFFFF
	end := nanotime() + calibNs
	for nanotime() < end {
	}
	left := *mmio32(lapicBase + lapicTimerCurrent)
	*mmio32(lapicBase + lapicTimerInitial) = 0
	lapicHz = uint64(0xFFFFFFFF-left) * (1_000_000_000 / calibNs)
}

//go:nosplit
func timerInterrupt(p *KPCR) {
	p.ArmedDeadline = -1
	if nanotime() >= p.SliceEnd {
		p.PreemptPending = true
	}
}

// noteDeadline records a new thread deadline.
//
//go:nosplit
func noteDeadline(d int64) {
	if d > 0 && (nextDeadline < 0 || d < nextDeadline) {
		nextDeadline = d
	}
}

// checkTimers wakes the threads whose deadline has passed.
//
//go:nosplit
func checkTimers() {
	if nextDeadline < 0 {
		return
	}
	now := nanotime()
	if now < nextDeadline {
		return
	}
	nextDeadline = -1
	for i := range threads {
		t := &threads[i]
		if t.State != threadBlocked || t.Deadline == 0 {
			continue
		}
		if t.Deadline > now {
			noteDeadline(t.Deadline)
			continue
		}
		wake(int32(i), timeoutResult(t.Wait))
	}
}

// armTimer programs the LAPIC for the next event.
//
//go:nosplit
func armTimer(p *KPCR) {
	when := nextDeadline
	if readyHead != noThread && (when < 0 || p.SliceEnd < when) {
		when = p.SliceEnd
	}
	if when == p.ArmedDeadline || (p.ArmedDeadline >= 0 && when >= p.ArmedDeadline) {
		return
	}
	p.ArmedDeadline = when
	if when < 0 {
		*mmio32(lapicBase + lapicTimerInitial) = 0
		return
	}
	delta := when - nanotime()
	if delta < 1000 {
		delta = 1000
	}
	count := uint64(delta) * (lapicHz / 1000) / 1_000_000
	if count > 0xFFFFFFFF {
		count = 0xFFFFFFFF
	}
	if count == 0 {
		count = 1
	}
	*mmio32(lapicBase + lapicTimerInitial) = uint32(count)
}
