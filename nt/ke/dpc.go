// DPCs: initializing them and running a processor's queue (dpc_trap.go
// has the queues). Goroutine context: the routines are Go functions.

package ke

import "ntgo/nt/bugcheck"

// dpcSink makes every KDPC given to InitializeDpc escape to the heap: a
// queued KDPC is named by its address, which a goroutine stack would move.
var dpcSink *KDPC

// InitializeDpc is KeInitializeDpc.
func InitializeDpc(dpc *KDPC, routine func(dpc *KDPC, deferredContext, systemArgument1, systemArgument2 uintptr), deferredContext uintptr) {
	dpcSink = dpc
	dpcSink = nil
	*dpc = KDPC{Type: DpcObject, Importance: MediumImportance, DeferredRoutine: routine, DeferredContext: deferredContext}
}

// SetTargetProcessorDpc is KeSetTargetProcessorDpc: dpc runs on processor
// number from now on. A number past the processors ntgo keeps state for is
// INVALID_AFFINITY_SET (the number, MaximumProcessors).
func SetTargetProcessorDpc(dpc *KDPC, number int) {
	if uint(number) >= MaximumProcessors {
		bugcheck.KeBugCheckEx(bugcheck.InvalidAffinitySet, uintptr(number), MaximumProcessors, 0, 0)
	}
	dpc.Number = uint16(number) + 1
}

// SetImportanceDpc is KeSetImportanceDpc.
func SetImportanceDpc(dpc *KDPC, importance uint8) { dpc.Importance = importance }

// RetireDpcList runs the current processor's DPCs, in queue order, at
// DISPATCH_LEVEL; the caller is there. A routine that returns at another
// IRQL stops the system as NT's DPC dispatcher does:
// IRQL_NOT_GREATER_OR_EQUAL with the IRQL it left as parameter 2 and the
// KDPC as parameter 4.
func RetireDpcList() {
	for {
		cpu := CurrentProcessorNumber() // DISPATCH_LEVEL keeps us here
		ipiRequests[cpu].bits.And(^uint32(ipiDpc))
		d, arg1, arg2 := popDpc(cpu)
		if d == nil {
			return
		}
		d.DeferredRoutine(d, d.DeferredContext, arg1, arg2)
		if l := CurrentIrql(); l != DispatchLevel {
			bugcheck.KeBugCheckEx(bugcheck.IrqlNotGreaterOrEqual, 0, uintptr(l), 0, dpcAddress(d))
		}
	}
}
