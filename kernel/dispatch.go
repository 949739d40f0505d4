// The goroutine side of fault dispatch (dispatch_trap.go): handleFault runs
// on the faulting goroutine's stack, called from faultTrampoline, and either
// raises the fault's exception into the goroutine's Try or stops the system
// with KeBugCheckEx. The bugcheck screen then shows the registers at the
// fault and the goroutine's Go stack from the faulting function outward.

package kernel

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"

	"ntgo/kernel/kd"
	"ntgo/kernel/ldr"
	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// faultTrampoline is the goroutine's resume point (asm, never called from Go).
func faultTrampoline()

// faultTrampolineAddr returns faultTrampoline's entry (asm).
func faultTrampolineAddr() uintptr

// inPageResume is a thread's resume point after sleeping in a page fault
// (asm, never called from Go); inPageResumeAddr returns its entry.
func inPageResume()

func inPageResumeAddr() uintptr

// currentG returns the running goroutine's g (asm).
func currentG() uintptr

// faultContext is the context of the fault being turned into a bugcheck,
// for the screen; nil for an explicit KeBugCheckEx.
var faultContext atomic.Pointer[kd.Context]

// initFaultDispatch finds what handing a fault to a goroutine needs.
func initFaultDispatch() {
	panicOnFaultOffset = locatePanicOnFault()
	if panicOnFaultOffset == 0 {
		println("ntgo: runtime g.paniconfault not found: Try will not catch faults")
	}
	faultTrampolinePC = faultTrampolineAddr()
	inPageResumePC = inPageResumeAddr()
	initInPageDispatch()
}

// handleFault finishes the fault recorded in slot on the goroutine that
// took it. It never returns.
func handleFault(slot uintptr) {
	rec := pendingFaults[slot]
	atomic.StoreUint32(&pendingFaultBusy[slot], 0)
	if rec.Raise {
		panic(&ntstatus.Exception{Status: rec.Status, Address: rec.Address})
	}
	if rec.Code == bugcheck.IrqlNotLessOrEqual {
		// NT's stop for a driver's own access is DRIVER_IRQL_NOT_LESS_OR_EQUAL,
		// with the same parameters.
		if mods, ok := ldr.TryModules(); ok {
			if _, drv := kd.DriverAt(rec.Params[3], mods); drv {
				rec.Code = bugcheck.DriverIrqlNotLessOrEqual
			}
		}
	}
	ctx := kd.Context{Registers: rec.Registers, Stack: goroutineStackFrom(uintptr(rec.Registers.RIP) + 1),
		Trap: &kd.Trap{Vector: rec.Vector, Name: vectorName(rec.Vector), ErrorCode: rec.ErrorCode}}
	faultContext.Store(&ctx)
	defer faultContext.Store(nil) // in test binaries KeBugCheckEx panics
	bugcheck.KeBugCheckEx(rec.Code, rec.Params[0], rec.Params[1], rec.Params[2], rec.Params[3])
}

// goroutineStackFrom is this goroutine's stack from the faulting frame (whose
// return address, as the trap pushed it, is ret) outward.
func goroutineStackFrom(ret uintptr) []uintptr {
	pcs := make([]uintptr, maxContextFrames)
	pcs = pcs[:runtime.Callers(1, pcs)]
	for i, pc := range pcs {
		if pc == ret {
			return pcs[i:]
		}
	}
	return pcs
}

// gSnapshotSize covers the runtime's g up to and past paniconfault.
const gSnapshotSize = 512

// locatePanicOnFault finds the byte of the running g that
// debug.SetPanicOnFault toggles: the one byte that reads 0, then 1 after
// enabling, then 0 after restoring. Interrupts are off so that nothing else
// changes the g meanwhile. It returns 0 if there is not exactly one.
func locatePanicOnFault() uintptr {
	rflags := arch.DisableInterrupts()
	defer arch.RestoreInterrupts(rflags)
	g := currentG()
	var off, on [gSnapshotSize]byte
	old := debug.SetPanicOnFault(false)
	readOff := liveMemory{}.Read(g, off[:])
	debug.SetPanicOnFault(true)
	readOn := liveMemory{}.Read(g, on[:])
	debug.SetPanicOnFault(old)
	if !readOff || !readOn {
		return 0
	}
	found := uintptr(0)
	for i := range off {
		if off[i] == on[i] {
			continue
		}
		if off[i] != 0 || on[i] != 1 || found != 0 {
			return 0
		}
		found = uintptr(i)
	}
	return found
}
