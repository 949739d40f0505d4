package ntstatus

import (
	"runtime/debug"
	"testing"
	"unsafe"
)

func TestSeverity(t *testing.T) {
	if !Success.IsSuccess() || Success.IsError() {
		t.Fatal("STATUS_SUCCESS misclassified")
	}
	if InsufficientResources.IsSuccess() || !InsufficientResources.IsError() {
		t.Fatal("STATUS_INSUFFICIENT_RESOURCES misclassified")
	}
	if DatatypeMisalignment.IsSuccess() || DatatypeMisalignment.IsError() {
		t.Fatal("a warning is neither success nor error")
	}
	if got := QuotaExceeded.String(); got != "STATUS_QUOTA_EXCEEDED" {
		t.Fatalf("String = %q", got)
	}
	if got := Status(0xC0FFEE00).String(); got != "NTSTATUS(0xC0FFEE00)" {
		t.Fatalf("String = %q", got)
	}
}

func TestTryCatchesRaise(t *testing.T) {
	var caught *Exception
	ok := Try(func() { Raise(InsufficientResources) }, func(e *Exception) { caught = e })
	if ok || caught == nil || caught.Status != InsufficientResources {
		t.Fatalf("ok=%v caught=%v", ok, caught)
	}
	if !Try(func() {}, func(*Exception) { t.Fatal("except ran without a raise") }) {
		t.Fatal("Try reported a raise for a clean body")
	}
}

func TestTryPassesOtherPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != "not an exception" {
			t.Fatalf("recovered %v", r)
		}
	}()
	Try(func() { panic("not an exception") }, func(*Exception) { t.Fatal("caught a plain panic") })
}

// unmapped addresses in the lower half, mapped neither by a host's Linux
// (below its mmap_min_addr) nor by the kernel: one in the Go runtime's
// nil-check range, one above it.
const (
	nilPageAddress = 0x100
	lowAddress     = 0x8000
)

// A fault inside Try is a caught access violation carrying the address, on
// the host (the runtime's panic on fault) and in the kernel (its fault
// dispatch); the flag Try sets is restored afterwards.
func TestTryCatchesFault(t *testing.T) {
	for _, addr := range []uintptr{nilPageAddress, lowAddress} {
		var caught *Exception
		var sink byte
		ok := Try(func() { sink = *byteAt(addr) }, func(e *Exception) { caught = e })
		if ok || caught == nil || caught.Status != AccessViolation {
			t.Fatalf("read of %#x: ok=%v caught=%v (read %d)", addr, ok, caught, sink)
		}
		if addr >= lowAddress && caught.Address != addr {
			t.Errorf("read of %#x raised at %#x", addr, caught.Address)
		}
	}
	if debug.SetPanicOnFault(false) {
		t.Fatal("Try left the panic-on-fault flag set")
	}
}

// A write fault in a nested Try goes to the inner one; the outer body goes on.
func TestTryNested(t *testing.T) {
	inner, outer := false, false
	ok := Try(func() {
		inner = !Try(func() { *byteAt(lowAddress) = 1 }, nil)
	}, func(*Exception) { outer = true })
	if !ok || !inner || outer {
		t.Fatalf("ok=%v inner caught=%v outer caught=%v", ok, inner, outer)
	}
}

// byteAt turns an address that never was a Go pointer into one (the
// indirection keeps vet's unsafe.Pointer check for real misuse).
func byteAt(addr uintptr) *byte { return *(**byte)(unsafe.Pointer(&addr)) }
