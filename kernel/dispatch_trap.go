// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Dispatching a fault to the goroutine that took it, the part of NT's
// KiDispatchException that concerns kernel mode. A fault or exception the
// memory manager does not resolve is either raised into the goroutine (it
// is inside a Try, and NT would raise there) or it is a bugcheck. Both are
// finished by Go code on the goroutine's own stack, not here: a raise must
// unwind the goroutine's frames to its Try, and a bugcheck screen with the
// faulting function, file, line and Go stack needs the runtime's symbol
// tables, which trap context cannot use.
//
// So the trap handler makes the goroutine call handleFault, the way the Go
// runtime's signal handler makes a faulting goroutine call sigpanic: it
// stores what happened in a record slot, pushes a return address on the
// goroutine's stack as if the faulting instruction had called the
// trampoline, and resumes the goroutine at faultTrampoline with the slot in
// DI. The pushed address is the faulting RIP + 1 because the unwinder looks
// up a return address at address - 1, which must be the faulting
// instruction itself (its frame size and stack map), not the one before.
// handleFault never returns to it.
//
// Which goroutines qualify: the fault came from thread code (not a trap
// handler), in the kernel's text, on a thread whose TLS holds an ordinary
// goroutine (not the thread's g0, which runs the scheduler on the thread's
// own stack), with room on that goroutine's stack for the injected frames.
// Anything else stops in trap context (stop), as before the runtime ran.
//
// Try regions are the goroutines the runtime would make panic on a fault:
// those with the runtime's per-goroutine panic-on-fault flag set
// (debug.SetPanicOnFault, which ntstatus.Try sets around its body). The
// flag's offset in the runtime's g is found once at boot
// (locatePanicOnFault).
//
// As in NT, only what NT raises is catchable: an access violation on the
// lower half (NT's user range, here the Go runtime's) and guard pages. An
// invalid system-space address is a bugcheck even inside Try (Microsoft's
// rule: an invalid kernel-mode address causes a bug check, not an
// exception), and so is every fault at DISPATCH_LEVEL or above.

package kernel

import (
	"ntgo/nt/arch"
	"sync/atomic"

	"ntgo/kernel/kd"
	"ntgo/mm"
	"ntgo/mm/pte"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// The runtime's g and m layout that dispatch relies on: g.stack.lo,
// g.stack.hi and g.m are the first fields of g ("offset known to
// liblink"), g0 the first of m, and the TLS slot at FS base - 8 holds the
// running g on linux/amd64.
const (
	gStackLoOffset = 0
	gStackHiOffset = 8
	gMOffset       = 48
	mG0Offset      = 0
	tlsGOffset     = 8
)

// faultStackRoom is the goroutine stack the injected frames may need below
// the faulting RSP before handleFault's own stack check takes over.
const faultStackRoom = 256

// maxPendingFaults bounds faults dispatched and not yet picked up by their
// goroutines (each picks its record up as its first action). A thread has
// at most one (it runs the trampoline before it can fault again), and with
// several processors every thread may have one waiting to run, so there
// is a slot per thread.
const maxPendingFaults = maxThreads

// faultRecord is what the trap handler hands the goroutine.
type faultRecord struct {
	Registers kd.Registers
	Code      bugcheck.Code // the bugcheck if not raised
	Params    [4]uintptr
	Status    ntstatus.Status // the exception if raised
	Address   uintptr         // its data address
	Raise     bool
	Vector    uint64 // the CPU exception and its error code
	ErrorCode uint64
}

var (
	pendingFaults    [maxPendingFaults]faultRecord
	pendingFaultBusy [maxPendingFaults]uint32

	// panicOnFaultOffset is where g.paniconfault lies, 0 until located.
	panicOnFaultOffset uintptr
	// faultTrampolinePC is faultTrampoline's address (set at boot).
	faultTrampolinePC uintptr
	// stopping is set when the goroutine-context bugcheck screen begins:
	// a fault after that stops in trap context instead of dispatching again.
	stopping atomic.Bool
	// stopsAreFinal: a bugcheck powers off (the screen is the handler);
	// false in test binaries, where bugchecks are panics tests catch.
	stopsAreFinal bool
)

// beginStop marks the stop as begun (stopping) and gives back the frames
// held for it (mm/stopreserve_trap.go): the stop's Go code, and runtime
// threads waiting in a fault for a frame, may need them.
//
//go:nosplit
func beginStop() {
	stopping.Store(true)
	openStopReserve()
}

// openStopReserve is mm.OpenStopReserve, through a value as beginPageIn
// is: its PFN work runs on whatever stack the stop began on, below the
// linker's bound on the trap's nosplit chain.
var openStopReserve = mm.OpenStopReserve

// faultingGoroutine returns the g that f interrupted if a fault can be
// dispatched to it, else 0 (always 0 once a stop has begun).
//
//go:nosplit
//go:noinline
func faultingGoroutine(f *TrapFrame) uintptr {
	if stopping.Load() {
		return 0
	}
	return interruptedGoroutine(f)
}

// interruptedGoroutine returns the g that f interrupted, if it was a
// goroutine on its own stack in kernel text, else 0.
//
//go:nosplit
//go:noinline
func interruptedGoroutine(f *TrapFrame) uintptr {
	if !runtimeStarted || faultTrampolinePC == 0 ||
		currentKPCR().TrapDepth != 1 || f.CS != kernelCS || !inKernelText(uintptr(f.RIP)) {
		return 0
	}
	tls := currentKPCR().ThreadFSBase
	if tls == currentKPCR().TrapTLS || !mm.Readable(tls-tlsGOffset) {
		return 0
	}
	g := loadWord(tls - tlsGOffset)
	if g == 0 || !mm.Readable(g) {
		return 0
	}
	m := loadWord(g + gMOffset)
	if m == 0 || !mm.Readable(m) || loadWord(m+mG0Offset) == g {
		return 0
	}
	sp := uintptr(f.RSP)
	if sp < loadWord(g+gStackLoOffset)+faultStackRoom || sp > loadWord(g+gStackHiOffset) {
		return 0
	}
	return g
}

// inTry reports whether goroutine g has the runtime's panic-on-fault flag set.
//
//go:nosplit
func inTry(g uintptr) bool {
	return panicOnFaultOffset != 0 && *(*bool)(unsafePointerAt(g + panicOnFaultOffset))
}

// dispatchFault makes goroutine g (faultingGoroutine(f), 0 if none) finish
// the fault in handleFault: raising status at addr if it is inside a Try and
// catchable, else bugchecking with code and p. It reports false if the fault
// cannot be dispatched and the caller must stop in trap context.
//
//go:nosplit
//go:noinline
func dispatchFault(f *TrapFrame, g uintptr, code bugcheck.Code, p [4]uintptr, status ntstatus.Status, addr uintptr, catchable bool) bool {
	if g == 0 {
		return false
	}
	slot := -1
	for i := range pendingFaultBusy {
		if atomic.CompareAndSwapUint32(&pendingFaultBusy[i], 0, 1) {
			slot = i
			break
		}
	}
	if slot < 0 {
		return false
	}
	r := &pendingFaults[slot]
	r.Code, r.Params = code, p
	r.Status, r.Address = status, addr
	r.Raise = catchable && inTry(g)
	// A stop begins here, not at the screen: the goroutine's way to it
	// calls and allocates, and at raised IRQL a preemption request or a GC
	// assist may park it and run another goroutine on its thread
	// (sched_trap.go lets threads switch at any IRQL once stopping is set).
	if !r.Raise && stopsAreFinal {
		beginStop()
	}
	r.Vector, r.ErrorCode = f.Vector, f.ErrorCode
	saveRegisters(&r.Registers, f)

	f.RSP -= 8
	*(*uint64)(unsafePointerAt(uintptr(f.RSP))) = f.RIP + 1
	f.RIP = uint64(faultTrampolinePC)
	f.RDI = uint64(slot)
	return true
}

// saveRegisters copies the trap frame and control registers into kd's shape.
//
//go:nosplit
//go:noinline
func saveRegisters(r *kd.Registers, f *TrapFrame) {
	r.RAX, r.RBX, r.RCX, r.RDX = f.RAX, f.RBX, f.RCX, f.RDX
	r.RSI, r.RDI, r.RBP, r.RSP = f.RSI, f.RDI, f.RBP, f.RSP
	r.R8, r.R9, r.R10, r.R11 = f.R8, f.R9, f.R10, f.R11
	r.R12, r.R13, r.R14, r.R15 = f.R12, f.R13, f.R14, f.R15
	r.RIP, r.RFLAGS, r.CS, r.SS = f.RIP, f.RFLAGS, f.CS, f.SS
	readControlRegisters(r)
}

// readControlRegisters stores CR0, CR2, CR3, CR4 and CR8 into r.
//
//go:nosplit
func readControlRegisters(r *kd.Registers) {
	r.CR0, r.CR2, r.CR3 = uint64(arch.ReadCR0()), uint64(arch.ReadCR2()), uint64(arch.ReadCR3())
	r.CR4, r.CR8 = uint64(arch.ReadCR4()), uint64(arch.ReadCR8())
}

// inKernelText reports whether pc is in an executable segment of the image.
//
//go:nosplit
func inKernelText(pc uintptr) bool {
	for i := 0; i < bootInfo.NImage && i < len(bootInfo.Image); i++ {
		s := &bootInfo.Image[i]
		if s.Prot.Allows(pte.AccessExecute) && pc >= s.Start && pc < s.End {
			return true
		}
	}
	return false
}

//go:nosplit
func loadWord(addr uintptr) uintptr { return *(*uintptr)(unsafePointerAt(addr)) }
