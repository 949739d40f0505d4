package kernel_test

// Fault dispatch (dispatch_trap.go) in the kernel: a fault a goroutine takes
// is raised into its Try or becomes a bugcheck on its own stack, which
// bugcheck.Catch sees in a test binary. On a host these faults would be the
// Go runtime's business, so the tests are bare-metal only.

import (
	"sync"
	"testing"
	"unsafe"

	"ntgo/mm/layout"
	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// Addresses no one maps: one in the Go runtime's (NT's user) half, between
// the heap's hints and mmap's placement and above the kernel image, one in
// session space, which stays reserved.
const (
	unmappedLow    = 0x6000_0000_0000
	unmappedSystem = layout.SessionSpaceStart + 0x1000
)

func requireBare(t *testing.T) {
	if !arch.Bare() {
		t.Skip("fault dispatch is the kernel's; on a host faults are the Go runtime's")
	}
}

// byteAt turns an address that never was a Go pointer into one.
func byteAt(addr uintptr) *byte { return *(**byte)(unsafe.Pointer(&addr)) }

// Outside Try a fault is PAGE_FAULT_IN_NONPAGED_AREA with NT's parameters:
// the address, read or write, and the faulting instruction.
func TestFaultOutsideTryBugchecks(t *testing.T) {
	requireBare(t)
	for _, c := range []struct {
		addr   uintptr
		write  bool
		access uintptr
	}{{unmappedLow, false, 0}, {unmappedLow, true, 1}, {unmappedSystem, false, 0}} {
		rec := bugcheck.Catch(func() {
			if c.write {
				*byteAt(c.addr) = 1
			} else {
				_ = *byteAt(c.addr)
			}
		})
		if rec == nil || rec.Code != bugcheck.PageFaultInNonpagedArea {
			t.Fatalf("access to %#x: bugcheck %v", c.addr, rec)
		}
		if rec.Params[0] != c.addr || rec.Params[1] != c.access || rec.Params[2] == 0 {
			t.Errorf("access to %#x: parameters %#x", c.addr, rec.Params)
		}
	}
}

// As in NT, an invalid system-space address is a bugcheck even inside Try.
func TestTryDoesNotCatchSystemAddress(t *testing.T) {
	requireBare(t)
	excepted := false
	rec := bugcheck.Catch(func() {
		ntstatus.Try(func() { _ = *byteAt(unmappedSystem) }, func(*ntstatus.Exception) { excepted = true })
	})
	if rec == nil || rec.Code != bugcheck.PageFaultInNonpagedArea || rec.Params[0] != unmappedSystem || excepted {
		t.Fatalf("bugcheck %v, except ran: %v", rec, excepted)
	}
}

// Many goroutines faulting at once each get their own fault back.
func TestConcurrentFaults(t *testing.T) {
	requireBare(t)
	const goroutines, faults = 16, 200
	var wg sync.WaitGroup
	errs := make(chan string, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range faults {
				addr := uintptr(unmappedLow + 0x1000*(g*faults+i))
				var got *ntstatus.Exception
				if ntstatus.Try(func() { _ = *byteAt(addr) }, func(e *ntstatus.Exception) { got = e }) {
					errs <- "no fault"
					return
				}
				if got.Status != ntstatus.AccessViolation || got.Address != addr {
					errs <- got.Error()
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
