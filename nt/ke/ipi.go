// KeIpiGenericCall, over the packet in ipi_trap.go, and the kernel's
// hooks: these store Go func values, so they run in goroutine context.

package ke

// SetIpiSender installs the kernel's way of interrupting processor cpu (its
// IPI vector's handler must call IpiService). send must be //go:nosplit
// and allocation-free. Set once, before any processor is marked active.
func SetIpiSender(send func(cpu int)) { ipiSend = send }

// IpiGenericCall is KeIpiGenericCall: routine(context) runs on every
// active processor at once, at IPI_LEVEL with interrupts off (on the other
// processors in their IPI handler, in trap context: routine must follow
// the trap rule, as NT's must at IPI_LEVEL), and the caller's own result
// is returned.
func IpiGenericCall(routine func(context uintptr) uintptr, context uintptr) uintptr {
	old := RaiseIrql(IpiLevel)
	rflags := interruptsOff()
	cpu := CurrentProcessorNumber()
	targets := others(cpu)
	var result uintptr
	if targets == 0 {
		result = routine(context)
	} else {
		ownPacket(cpu)
		packet.call, packet.context = routine, context
		packet.everyone = targets | 1<<uint(cpu)
		packet.arrived.Store(1 << uint(cpu))
		packet.pending.Store(targets)
		request(targets, ipiCall)
		for packet.arrived.Load() != packet.everyone {
			ipiPoll(cpu)
			relax()
		}
		result = routine(context)
		waitPending(cpu)
		packet.call = nil
		packetOwner.Store(0)
	}
	interruptsOn(rflags)
	LowerIrql(old)
	return result
}
