// Package bugcheck is KeBugCheckEx: the single way ntgo stops on a fatal
// error, and the table of NT bugcheck codes it raises with the meaning of
// their four parameters.
//
// Who handles a bugcheck is set at boot: on bare metal the kernel installs a
// handler that prints the bugcheck screen and powers the machine off; on the
// host (unit tests) the default handler panics with the *Record, so a test can
// provoke a bugcheck and inspect its code and parameters with Catch.
package bugcheck

import (
	"fmt"
	"sync/atomic"

	"ntgo/nt/arch"
)

// Code is a bugcheck code (the STOP code).
type Code uint32

// The bugcheck codes ntgo raises, with NT's values.
const (
	IrqlNotGreaterOrEqual                Code = 0x09
	IrqlNotLessOrEqual                   Code = 0x0A
	KmodeExceptionNotHandled             Code = 0x1E
	MemoryManagement                     Code = 0x1A
	BadPoolHeader                        Code = 0x19
	PfnListCorrupt                       Code = 0x4E
	PageFaultInNonpagedArea              Code = 0x50
	KernelStackInpageError               Code = 0x77
	UnexpectedKernelModeTrap             Code = 0x7F
	SystemThreadExceptionNotHandled      Code = 0x7E
	ManuallyInitiatedCrash               Code = 0xE2
	AttemptedWriteToReadonlyMemory       Code = 0xBE
	BadPoolCaller                        Code = 0xC2
	DriverCorruptedExpool                Code = 0xC5
	DriverUnloadedWithoutCancelling      Code = 0xCE
	DriverIrqlNotLessOrEqual             Code = 0xD1
	AttemptedExecuteOfNoexecuteMemory    Code = 0xFC
	KernelSecurityCheckFailure           Code = 0x139
	DriverVerifierDetectedViolation      Code = 0xC4
	SpecialPoolDetectedMemoryCorruption  Code = 0xC1
	PageFaultInFreedSpecialPool          Code = 0xCC
	PageFaultBeyondEndOfAllocation       Code = 0xCD
	DriverPageFaultInFreedSpecialPool    Code = 0xD5
	DriverPageFaultBeyondEndOfAllocation Code = 0xD6
	NoMoreSystemPtes                     Code = 0x3F
	Phase0InitializationFailed           Code = 0x31
	SystemPteMisuse                      Code = 0xDA
	InstallMoreMemory                    Code = 0x7D
	KernelDataInpageError                Code = 0x7A
	NoPagesAvailable                     Code = 0x4D
	DriverLeftLockedPagesInProcess       Code = 0xCB
	InvalidMdlRange                      Code = 0x12E
	IrqlGtZeroAtSystemService            Code = 0x4A
	AttemptedSwitchFromDpc               Code = 0xB8
	SpinLockAlreadyOwned                 Code = 0x0F
	InvalidAffinitySet                   Code = 0x03
	SpinLockNotOwned                     Code = 0x10
	DpcWatchdogViolation                 Code = 0x133
)

// How a Go panic or runtime fatal error stops the system. NT runs every
// system thread's routine under an exception handler that stops with
// SYSTEM_THREAD_EXCEPTION_NOT_HANDLED (0x7E) when an exception escapes it;
// an exception with no handler at all (in trap context, or where the
// thread has none) is KMODE_EXCEPTION_NOT_HANDLED (0x1E). ntgo maps Go's
// failures onto the two the same way:
//
//   - a panic that unwinds out of a kernel routine run as a system thread
//     (a console command) is 0x7E, raised by the kernel's handler while
//     the goroutine still runs: parameter 1 is the exception code (the
//     NTSTATUS of an escaped *ntstatus.Exception, else ExceptionGoPanic),
//     2 the address that raised it (the call to panic, or the exception's
//     address), 3 the exception record and 4 the context record (the
//     kernel's copies, readable with dq and in a crash dump);
//   - a panic in any other goroutine, which the Go runtime turns into its
//     fatal report, is 0x7E too, with ExceptionGoPanic; a runtime fatal
//     error (throw: "fatal error: ...") is 0x1E with ExceptionGoFatal.
//     Both are raised at the runtime's exit, in trap context, where
//     parameter 2 is 0 (the runtime's report, shown on the screen, says
//     where) and 3 is the kernel's copy of that report.
//
// The two codes are software exception codes as NT allows customers to
// define them: severity error and the customer bit (0xE...), then "Go"
// and a letter.
const (
	ExceptionGoPanic = 0xE0476F50 // "GoP": an unrecovered Go panic
	ExceptionGoFatal = 0xE0476F46 // "GoF": a Go runtime fatal error
)

// KERNEL_SECURITY_CHECK_FAILURE parameter 1: NT's fast-fail codes.
const (
	// FastFailCorruptListEntry (FAST_FAIL_CORRUPT_LIST_ENTRY): a LIST_ENTRY's
	// neighbours do not point back at it.
	FastFailCorruptListEntry = 3
)

// Info is what the bugcheck screen says about a code.
type Info struct {
	Name   string
	Params [4]string
}

var table = map[Code]*Info{
	IrqlNotGreaterOrEqual: {"IRQL_NOT_GREATER_OR_EQUAL", [4]string{
		"current IRQL", "IRQL requested (lower than the current one)", "0", "0"}},
	IrqlNotLessOrEqual: {"IRQL_NOT_LESS_OR_EQUAL", [4]string{
		"memory referenced", "IRQL at time of reference", "0: read, 1: write, 8: execute", "address which referenced memory"}},
	Phase0InitializationFailed: {"PHASE0_INITIALIZATION_FAILED", [4]string{
		"NTSTATUS of the failing step", "address concerned", "0", "0"}},
	KmodeExceptionNotHandled: {"KMODE_EXCEPTION_NOT_HANDLED", [4]string{
		"exception code (0xE0476F46: a Go runtime fatal error)", "address where the exception occurred",
		"exception parameter 0 (Go fatal error: the runtime's report)", "exception parameter 1"}},
	MemoryManagement: {"MEMORY_MANAGEMENT", [4]string{
		"subtype of the memory-management violation", "subtype parameter", "subtype parameter", "subtype parameter"}},
	BadPoolHeader: {"BAD_POOL_HEADER", [4]string{
		"subtype: 3 = free-list links damaged, 0x20 = neighbour's PreviousSize disagrees", "pool entry", "subtype parameter", "subtype parameter"}},
	PfnListCorrupt: {"PFN_LIST_CORRUPT", [4]string{
		"subtype: 1 = list head corrupt, 7 = page freed with references, 0x99 = invalid PTE/PFN, 0x9A = page in wrong state",
		"subtype parameter (usually the page frame number)", "subtype parameter", "subtype parameter"}},
	PageFaultInNonpagedArea: {"PAGE_FAULT_IN_NONPAGED_AREA", [4]string{
		"memory referenced", "0: read, 1: write, 10: execute", "address which referenced memory", "reserved"}},
	UnexpectedKernelModeTrap: {"UNEXPECTED_KERNEL_MODE_TRAP", [4]string{
		"trap number (8: double fault, also a kernel stack overflow)", "error code",
		"reserved (ntgo, stack overflow: the guard-page address touched)", "reserved (ntgo, stack overflow: the stack's limit)"}},
	SystemThreadExceptionNotHandled: {"SYSTEM_THREAD_EXCEPTION_NOT_HANDLED", [4]string{
		"exception code (0xE0476F50: a Go panic)", "address where the exception occurred (0: see the Go report)",
		"exception record (Go: the panic's report)", "context record"}},
	ManuallyInitiatedCrash: {"MANUALLY_INITIATED_CRASH", [4]string{
		"caller's parameter 1", "caller's parameter 2", "caller's parameter 3", "caller's parameter 4"}},
	AttemptedWriteToReadonlyMemory: {"ATTEMPTED_WRITE_TO_READONLY_MEMORY", [4]string{
		"virtual address of the attempted write", "PTE contents", "reserved", "reserved"}},
	BadPoolCaller: {"BAD_POOL_CALLER", [4]string{
		"subtype: 7 = double free or not allocated, 8/9 = allocate/free at bad IRQL, 0xA = tag mismatch, 0xD = bad quota owner, 0x42/0x44/0x46 = address is not a pool block, 0x99 = invalid address or corrupt header",
		"subtype parameter", "subtype parameter", "subtype parameter"}},
	DriverCorruptedExpool: {"DRIVER_CORRUPTED_EXPOOL", [4]string{
		"memory referenced", "IRQL at time of reference", "0: read, 1: write", "address which referenced memory"}},
	DriverIrqlNotLessOrEqual: {"DRIVER_IRQL_NOT_LESS_OR_EQUAL", [4]string{
		"memory referenced", "IRQL at time of reference", "0: read, 1: write, 8: execute", "address which referenced memory"}},
	AttemptedExecuteOfNoexecuteMemory: {"ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY", [4]string{
		"virtual address whose execution was attempted", "PTE contents", "reserved", "reserved"}},
	KernelSecurityCheckFailure: {"KERNEL_SECURITY_CHECK_FAILURE", [4]string{
		"type of corruption (FAST_FAIL_*): 3 = LIST_ENTRY corrupted (e.g. double remove)",
		"NT: trap frame; ntgo for type 3: the LIST_ENTRY whose neighbours disagree",
		"NT: exception record; ntgo for type 3: the link that should point back at it", "reserved"}},
	DriverVerifierDetectedViolation: {"DRIVER_VERIFIER_DETECTED_VIOLATION", [4]string{
		"violation subtype: 0 = zero-byte allocation, 1/2 = paged/nonpaged allocation at bad IRQL, 0x11/0x12 = paged/nonpaged free at bad IRQL, 0x30 = KeRaiseIrql to a lower IRQL, 0x31 = KeLowerIrql to a higher IRQL, 0x62 = driver unloading with allocations outstanding",
		"subtype parameter (0-0x31: current IRQL; 0x62: the driver's name)", "subtype parameter (pool type or requested IRQL)", "subtype parameter (size, address, or allocations not freed)"}},
	SpecialPoolDetectedMemoryCorruption: {"SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION", [4]string{
		"address freed (0x30/0x31: current IRQL)", "0x21: bytes requested; 0x23/0x24: the damaged byte; 0x30/0x31: pool type",
		"0x21: bytes from the address to the block's end; 0x31: address freed", "subtype: 0x20 = not allocated, 0x21 = bad address, 0x23 = bytes before the block damaged, 0x24 = bytes after its end damaged, 0x30/0x31 = allocate/free at bad IRQL"}},
	PageFaultInFreedSpecialPool: {"PAGE_FAULT_IN_FREED_SPECIAL_POOL", [4]string{
		"memory referenced", "0: read, 1: write", "address which referenced memory", "reserved"}},
	PageFaultBeyondEndOfAllocation: {"PAGE_FAULT_BEYOND_END_OF_ALLOCATION", [4]string{
		"memory referenced", "0: read, 1: write", "address which referenced memory", "reserved"}},
	DriverPageFaultInFreedSpecialPool: {"DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL", [4]string{
		"memory referenced", "0: read, 1: write", "address which referenced memory", "reserved"}},
	DriverPageFaultBeyondEndOfAllocation: {"DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION", [4]string{
		"memory referenced", "0: read, 1: write", "address which referenced memory", "reserved"}},
	NoMoreSystemPtes: {"NO_MORE_SYSTEM_PTES", [4]string{
		"0: system PTE type", "size of the failed request", "total free system PTEs", "total system PTEs"}},
	SystemPteMisuse: {"SYSTEM_PTE_MISUSE", [4]string{
		"subtype: 6 = MDL unmapped that it did not map, 8 = wrong number of PTEs freed, 9 = freed PTEs not allocated, 0xA = zero PTEs requested, 0xD = zero PTEs freed, 0xF = address outside the system PTE range",
		"first PTE's virtual address (6: the MDL)", "subtype parameter", "subtype parameter"}},
	InstallMoreMemory: {"INSTALL_MORE_MEMORY", [4]string{
		"number of physical pages found", "lowest physical page", "highest physical page", "0"}},
	KernelStackInpageError: {"KERNEL_STACK_INPAGE_ERROR", [4]string{
		"status", "PTE", "address", "reserved"}},
	KernelDataInpageError: {"KERNEL_DATA_INPAGE_ERROR", [4]string{
		"PTE", "status", "address", "reserved"}},
	NoPagesAvailable: {"NO_PAGES_AVAILABLE", [4]string{
		"total dirty pages", "dirty pages destined for the paging file", "non-paged pool available (pages)", "most recent modified write error status"}},
	DriverUnloadedWithoutCancelling: {"DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", [4]string{
		"memory referenced", "0: read, 1: write", "address which referenced memory", "reserved"}},
	DriverLeftLockedPagesInProcess: {"DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS", [4]string{
		"calling address", "caller of the caller", "MDL", "number of locked pages"}},
	InvalidMdlRange: {"INVALID_MDL_RANGE", [4]string{
		"source MDL", "target MDL", "virtual address", "length"}},
	IrqlGtZeroAtSystemService: {"IRQL_GT_ZERO_AT_SYSTEM_SERVICE", [4]string{
		"address of the system function (ntgo: the console command's routine)", "IRQL at the return", "0", "0"}},
	AttemptedSwitchFromDpc: {"ATTEMPTED_SWITCH_FROM_DPC", [4]string{
		"the original thread (ntgo: its KTHREAD, see !thread)", "the new thread", "stack address of the original thread", "IRQL at the switch (NT: reserved)"}},
	SpinLockAlreadyOwned: {"SPIN_LOCK_ALREADY_OWNED", [4]string{
		"ntgo: the spin lock (0: the host processor number was out of range)", "ntgo: the processor acquiring it again",
		"ntgo: 0, or the queue nodes per processor when a processor ran out of them", "0"}},
	InvalidAffinitySet: {"INVALID_AFFINITY_SET", [4]string{
		"ntgo: the processor number", "ntgo: the processors ntgo keeps state for", "0", "0"}},
	SpinLockNotOwned: {"SPIN_LOCK_NOT_OWNED", [4]string{
		"ntgo: the spin lock", "ntgo: its lock word (0: free; else its owner)", "0", "0"}},
	DpcWatchdogViolation: {"DPC_WATCHDOG_VIOLATION", [4]string{
		"1: the system spent an extended period at DISPATCH_LEVEL or above (ntgo: a spin lock spin past the bound)",
		"the watchdog period (ntgo: the spin bound in TSC ticks)", "ntgo: the spin lock", "ntgo: its lock word (the owner)"}},
}

// Lookup returns what is known about c; unknown codes get a generic entry.
func Lookup(c Code) Info {
	if i := Describe(c); i != nil {
		return *i
	}
	return Info{Name: fmt.Sprintf("BUGCHECK_%X", uint32(c)), Params: [4]string{"parameter 1", "parameter 2", "parameter 3", "parameter 4"}}
}

// Name is the code's NT name, e.g. BAD_POOL_CALLER.
func (c Code) Name() string { return Lookup(c).Name }

func (c Code) String() string { return fmt.Sprintf("0x%08X %s", uint32(c), c.Name()) }

// Record is one bugcheck: the code and its four parameters, plus the caller's
// program counter (the function that called KeBugCheckEx).
type Record struct {
	Code   Code
	Params [4]uintptr
	PC     uintptr

	raisedAt uintptr // the IRQL beforePanic left, for afterCatch
}

func (r *Record) Error() string {
	return fmt.Sprintf("*** STOP: %v (%#x, %#x, %#x, %#x)", r.Code, r.Params[0], r.Params[1], r.Params[2], r.Params[3])
}

// Handler receives a bugcheck. It must not return on bare metal.
type Handler func(*Record)

var handler atomic.Pointer[Handler]

// SetHandler installs h as the bugcheck handler and returns the previous one.
func SetHandler(h Handler) Handler {
	old := handler.Swap(&h)
	if old == nil {
		return nil
	}
	return *old
}

// trapStop is the kernel's stop for trap context (see SetTrapStop).
var trapStop func(code Code, p1, p2, p3, p4 uintptr) bool

// SetTrapStop installs the kernel's trap-context stop. KeBugCheckEx calls it
// first, before anything that allocates: if the caller is in trap context
// (a fault, interrupt or system call, or the boot before the Go runtime),
// where the Go heap must not be touched, stop prints the screen without
// the runtime's help and never returns; otherwise it returns false and the
// handler runs. Set once, at boot, before the runtime starts.
//
//go:nosplit
func SetTrapStop(stop func(code Code, p1, p2, p3, p4 uintptr) bool) { trapStop = stop }

// beforePanic runs before KeBugCheckEx panics, afterCatch after Catch
// recovers it (see SetPanicHooks).
var (
	beforePanic func() (raisedAt uintptr)
	afterCatch  func(raisedAt uintptr)
)

// SetPanicHooks installs what runs before a bugcheck becomes a Go panic
// and after Catch has recovered one: ke's drop to PASSIVE_LEVEL, since
// the runtime forbids a panic to hold the dispatch pin, returning the
// IRQL it left, and its return to that IRQL for Catch's caller (ke sits
// above this package).
func SetPanicHooks(before func() (raisedAt uintptr), after func(raisedAt uintptr)) {
	beforePanic, afterCatch = before, after
}

// Describe is Lookup for trap context: no allocation and no copy, nil for
// a code the table does not know. The Info must not be modified.
func Describe(c Code) *Info { return table[c] }

// KeBugCheckEx stops the system with code and its four parameters. With no
// handler installed (host tests) it panics with the *Record.
func KeBugCheckEx(code Code, p1, p2, p3, p4 uintptr) {
	if trapStop != nil && trapStop(code, p1, p2, p3, p4) {
		return // not reached: a trap-context stop powers off
	}
	r := &Record{Code: code, Params: [4]uintptr{p1, p2, p3, p4}, PC: callerPC()}
	if h := handler.Load(); h != nil && *h != nil {
		(*h)(r)
	}
	if beforePanic != nil {
		r.raisedAt = beforePanic()
	}
	panic(r)
}

// Catch runs f and returns the bugcheck it raised, or nil if it raised none.
// It is for tests: it works when no handler is installed (the host) and when
// the installed handler panics with the record (the in-kernel test mode).
func Catch(f func()) (rec *Record) {
	// A stop raised under an interrupt-disabling spin lock unwinds past its
	// release: give the caller back the interrupt state it called with, or
	// its thread would run on with interrupts off and never be preempted.
	var rflags uintptr
	if arch.Bare() {
		rflags = arch.DisableInterrupts()
		arch.RestoreInterrupts(rflags)
	}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(*Record)
			if !ok {
				panic(r)
			}
			rec = b
			if afterCatch != nil {
				afterCatch(b.raisedAt)
			}
			if arch.Bare() {
				arch.RestoreInterrupts(rflags)
			}
		}
	}()
	f()
	return nil
}
