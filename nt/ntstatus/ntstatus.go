// Package ntstatus defines NTSTATUS values and NT's raise semantics.
//
// NT reports most failures as an NTSTATUS and, for callers that ask for it
// (POOL_FLAG_RAISE_ON_FAILURE, ExRaiseStatus, ProbeForRead), raises the status
// as a structured exception. In Go a raise is a panic carrying an Exception;
// Try is the __try/__except pair that catches it.
package ntstatus

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Status is an NTSTATUS. The top two bits are the severity.
type Status uint32

// Severity bits of a Status (bits 31:30).
const (
	severityShift         = 30
	severitySuccess       = 0
	severityInformational = 1
	severityWarning       = 2
	severityError         = 3
)

// The statuses ntgo returns or raises.
const (
	Success                 Status = 0x00000000
	Unsuccessful            Status = 0xC0000001
	NotImplemented          Status = 0xC0000002
	AccessViolation         Status = 0xC0000005
	InvalidParameter        Status = 0xC000000D
	NoMemory                Status = 0xC0000017
	ConflictingAddresses    Status = 0xC0000018
	AlreadyCommitted        Status = 0xC0000021
	NotCommitted            Status = 0xC000002D
	InvalidPageProtection   Status = 0xC0000045
	DatatypeMisalignment    Status = 0x80000002
	GuardPageViolation      Status = 0x80000001
	InsufficientResources   Status = 0xC000009A
	QuotaExceeded           Status = 0xC0000044
	MemoryNotAllocated      Status = 0xC00000A0
	WorkingSetQuota         Status = 0xC00000A1
	NotSupported            Status = 0xC00000BB
	InvalidAddress          Status = 0xC0000141
	FreeVMNotAtBase         Status = 0xC000009F
	InvalidParameterMix     Status = 0xC0000030
	NotFound                Status = 0xC0000225
	BufferTooSmall          Status = 0xC0000023
	EndOfFile               Status = 0xC0000011
	DeviceNotReady          Status = 0xC00000A3
	DeviceDataError         Status = 0xC000009C
	IoDeviceError           Status = 0xC0000185
	ObjectNameNotFound      Status = 0xC0000034
	ObjectNameCollision     Status = 0xC0000035
	InvalidDeviceRequest    Status = 0xC0000010
	IntegerOverflow         Status = 0xC0000095
	Pending                 Status = 0x00000103
	StackBufferOverrun      Status = 0xC0000409
	HeapCorruption          Status = 0xC0000374
	IllegalInstruction      Status = 0xC000001D
	InvalidHandle           Status = 0xC0000008
	AccessDenied            Status = 0xC0000022
	InvalidParameter1       Status = 0xC00000EF
	InvalidParameter3       Status = 0xC00000F1
	IntegerDivideByZero     Status = 0xC0000094
	PrivilegedInstruction   Status = 0xC0000096
	ArrayBoundsExceeded     Status = 0xC000008C
	NonContinuableException Status = 0xC0000025
	Breakpoint              Status = 0x80000003
	SingleStep              Status = 0x80000004
	FloatMultipleTraps      Status = 0xC00002B5
	AssertionFailure        Status = 0xC0000420
)

var names = map[Status]string{
	Success:                 "STATUS_SUCCESS",
	Unsuccessful:            "STATUS_UNSUCCESSFUL",
	NotImplemented:          "STATUS_NOT_IMPLEMENTED",
	AccessViolation:         "STATUS_ACCESS_VIOLATION",
	Breakpoint:              "STATUS_BREAKPOINT",
	SingleStep:              "STATUS_SINGLE_STEP",
	FloatMultipleTraps:      "STATUS_FLOAT_MULTIPLE_TRAPS",
	InvalidParameter:        "STATUS_INVALID_PARAMETER",
	NoMemory:                "STATUS_NO_MEMORY",
	ConflictingAddresses:    "STATUS_CONFLICTING_ADDRESSES",
	AlreadyCommitted:        "STATUS_ALREADY_COMMITTED",
	NotCommitted:            "STATUS_NOT_COMMITTED",
	InvalidPageProtection:   "STATUS_INVALID_PAGE_PROTECTION",
	DatatypeMisalignment:    "STATUS_DATATYPE_MISALIGNMENT",
	GuardPageViolation:      "STATUS_GUARD_PAGE_VIOLATION",
	InsufficientResources:   "STATUS_INSUFFICIENT_RESOURCES",
	QuotaExceeded:           "STATUS_QUOTA_EXCEEDED",
	MemoryNotAllocated:      "STATUS_MEMORY_NOT_ALLOCATED",
	WorkingSetQuota:         "STATUS_WORKING_SET_QUOTA",
	NotSupported:            "STATUS_NOT_SUPPORTED",
	InvalidHandle:           "STATUS_INVALID_HANDLE",
	AccessDenied:            "STATUS_ACCESS_DENIED",
	InvalidParameter1:       "STATUS_INVALID_PARAMETER_1",
	InvalidParameter3:       "STATUS_INVALID_PARAMETER_3",
	InvalidAddress:          "STATUS_INVALID_ADDRESS",
	FreeVMNotAtBase:         "STATUS_FREE_VM_NOT_AT_BASE",
	InvalidParameterMix:     "STATUS_INVALID_PARAMETER_MIX",
	NotFound:                "STATUS_NOT_FOUND",
	BufferTooSmall:          "STATUS_BUFFER_TOO_SMALL",
	EndOfFile:               "STATUS_END_OF_FILE",
	DeviceNotReady:          "STATUS_DEVICE_NOT_READY",
	DeviceDataError:         "STATUS_DEVICE_DATA_ERROR",
	IoDeviceError:           "STATUS_IO_DEVICE_ERROR",
	ObjectNameNotFound:      "STATUS_OBJECT_NAME_NOT_FOUND",
	ObjectNameCollision:     "STATUS_OBJECT_NAME_COLLISION",
	InvalidDeviceRequest:    "STATUS_INVALID_DEVICE_REQUEST",
	IntegerOverflow:         "STATUS_INTEGER_OVERFLOW",
	Pending:                 "STATUS_PENDING",
	StackBufferOverrun:      "STATUS_STACK_BUFFER_OVERRUN",
	HeapCorruption:          "STATUS_HEAP_CORRUPTION",
	IllegalInstruction:      "STATUS_ILLEGAL_INSTRUCTION",
	IntegerDivideByZero:     "STATUS_INTEGER_DIVIDE_BY_ZERO",
	PrivilegedInstruction:   "STATUS_PRIVILEGED_INSTRUCTION",
	ArrayBoundsExceeded:     "STATUS_ARRAY_BOUNDS_EXCEEDED",
	NonContinuableException: "STATUS_NONCONTINUABLE_EXCEPTION",
	AssertionFailure:        "STATUS_ASSERTION_FAILURE",
}

// String returns the status's NT name, or its hex value when unnamed.
func (s Status) String() string {
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("NTSTATUS(0x%08X)", uint32(s))
}

// Error lets a Status travel as a Go error.
func (s Status) Error() string { return s.String() }

// IsSuccess is NT_SUCCESS: success and informational severities.
func (s Status) IsSuccess() bool { return uint32(s)>>severityShift <= severityInformational }

// IsError is NT_ERROR.
func (s Status) IsError() bool { return uint32(s)>>severityShift == severityError }

// Exception is the value a raise panics with: NT's EXCEPTION_RECORD reduced
// to what kernel code inspects.
type Exception struct {
	Status Status
	// Address is the faulting data address for an access violation raised by
	// a page fault or a probe, else 0.
	Address uintptr
}

// RuntimeError and Addr make an Exception what the Go runtime promises a
// goroutine that set debug.SetPanicOnFault: a runtime.Error with the
// faulting address. The kernel's fault dispatch raises an Exception for
// such a goroutine whether or not it is inside Try.
func (e *Exception) RuntimeError() {}

// Addr is the faulting data address (see RuntimeError).
func (e *Exception) Addr() uintptr { return e.Address }

func (e *Exception) Error() string {
	if e.Address != 0 {
		return fmt.Sprintf("%v at %#x", e.Status, e.Address)
	}
	return e.Status.String()
}

// Raise is ExRaiseStatus: it raises s as an exception that Try catches.
func Raise(s Status) {
	panic(&Exception{Status: s})
}

// RaiseAt raises s for a data address (access violations, misalignment).
func RaiseAt(s Status, addr uintptr) {
	panic(&Exception{Status: s, Address: addr})
}

// Try runs body as a __try block and reports whether it completed without
// raising. An Exception raised inside it is passed to except (which may be
// nil); any other panic propagates unchanged.
//
// A memory fault inside body is raised too, as NT raises it: body runs with
// the runtime's panic-on-fault flag set (debug.SetPanicOnFault), which the
// kernel's fault dispatch reads to raise STATUS_ACCESS_VIOLATION into the
// goroutine instead of bugchecking, and which on a host makes the Go
// runtime panic with an error carrying the address (turned into the same
// Exception here). As in NT, the kernel raises only for the user half of the
// address space (the Go runtime's, here) and for guard pages: an invalid
// system-space address is a bugcheck even inside Try.
//
// except runs after the flag is restored, so a fault inside except itself
// goes to an outer Try or stops the system.
func Try(body func(), except func(*Exception)) (ok bool) {
	e := catch(body)
	if e == nil {
		return true
	}
	if except != nil {
		except(e)
	}
	return false
}

// catch runs body with faults raised and returns what it raised.
func catch(body func()) (raised *Exception) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if raised = asException(r); raised == nil {
				panic(r)
			}
		}
	}()
	body()
	return nil
}

// nilDereference is the Go runtime's message for a fault below its
// nil-check limit, which it reports without an address.
const nilDereference = "runtime error: invalid memory address or nil pointer dereference"

// asException is the Exception a recovered panic value stands for, or nil:
// an Exception itself, or the Go runtime's panic for a memory fault (on a
// host), an access violation.
func asException(r any) *Exception {
	switch v := r.(type) {
	case *Exception:
		return v
	case interface{ Addr() uintptr }:
		return &Exception{Status: AccessViolation, Address: v.Addr()}
	case runtime.Error:
		if v.Error() == nilDereference {
			return &Exception{Status: AccessViolation}
		}
	}
	return nil
}
