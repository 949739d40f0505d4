package kernel

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/usbarmory/tamago/amd64/lapic"

	"ntgo/nt/arch"
	"ntgo/nt/ntstatus"
)

// TestPlatformVectorsAreNotDevices: a platform vector among the ones
// IoConnectInterrupt hands out would take a device's interrupts.
func TestPlatformVectorsAreNotDevices(t *testing.T) {
	seen := map[uint64]string{}
	for name, v := range map[string]uint64{"timer": vecTimer, "serial": vecSerial, "reschedule": vecReschedule,
		"IPI": vecIPI, "stall": vecStall, "spurious": vecSpurious, "syscall": syscallVector} {
		if v >= vecDeviceFirst && v < vecDeviceFirst+deviceVectors {
			t.Errorf("%s vector %#x is among the device vectors %#x..%#x", name, v, vecDeviceFirst, vecDeviceFirst+deviceVectors-1)
		}
		if other, dup := seen[v]; dup {
			t.Errorf("%s and %s share vector %#x", name, other, v)
		}
		seen[v] = name
	}
}

var testServiced atomic.Uint32

// testService claims the interrupt when its context says so.
//
//go:nosplit
func testService(claim uintptr) bool {
	testServiced.Add(1)
	return claim != 0
}

// TestConnectInterrupt connects two unused lines of the first I/O APIC and
// raises their vectors with self-IPIs: a claimed interrupt wakes the
// goroutine asleep in Wait, an unclaimed one wakes nobody.
func TestConnectInterrupt(t *testing.T) {
	for _, c := range []struct {
		gsi uint32
		s   ServiceRoutine
	}{{ioapic2GSIBase + ioapicPins, testService}, {10, nil}} {
		if _, st := IoConnectInterrupt(c.gsi, c.s, 1); st != ntstatus.InvalidParameter {
			t.Errorf("IoConnectInterrupt(%d, service %v) = %v, want STATUS_INVALID_PARAMETER", c.gsi, c.s != nil, st)
		}
	}
	if !arch.Bare() {
		t.Skip("the rest programs the I/O APIC and sends IPIs: run with `make ktest PKG=./kernel`")
	}
	claimed, st := IoConnectInterrupt(10, testService, 1)
	if st != ntstatus.Success {
		t.Fatalf("IoConnectInterrupt: %v", st)
	}
	if _, st := IoConnectInterrupt(10, testService, 1); st != ntstatus.InvalidParameter {
		t.Errorf("second connection of GSI 10: %v, want STATUS_INVALID_PARAMETER", st)
	}
	unclaimed, st := IoConnectInterrupt(11, testService, 0)
	if st != ntstatus.Success {
		t.Fatalf("IoConnectInterrupt: %v", st)
	}
	woke := make(chan uint32)
	go func() { woke <- claimed.Wait(0) }()
	time.Sleep(20 * time.Millisecond)
	select {
	case c := <-woke:
		t.Fatalf("Wait returned %d before any interrupt", c)
	default:
	}
	apic.IPI(0, int(unclaimed.Vector()), lapic.ICR_DST_SELF)
	time.Sleep(20 * time.Millisecond)
	if unclaimed.Count() != 0 || unclaimed.spurious != 1 || testServiced.Load() != 1 {
		t.Errorf("unclaimed interrupt: count %d, spurious %d, service ran %d times", unclaimed.Count(), unclaimed.spurious, testServiced.Load())
	}
	select {
	case c := <-woke:
		t.Fatalf("an unclaimed interrupt woke the waiter (%d)", c)
	default:
	}
	apic.IPI(0, int(claimed.Vector()), lapic.ICR_DST_SELF)
	select {
	case c := <-woke:
		if c != 1 {
			t.Errorf("Wait returned %d, want 1", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the claimed interrupt did not wake the waiter")
	}
	if got := claimed.Wait(0); got != 1 {
		t.Errorf("Wait(0) after the interrupt = %d, want 1 at once", got)
	}
}
