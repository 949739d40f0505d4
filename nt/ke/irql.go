// Package ke is the part of NT's kernel layer the memory manager needs: the
// interrupt request level (IRQL) and spin locks.
//
// IRQL. On x86-64 NT keeps the current IRQL in CR8 (the task-priority
// register): the local APIC then holds back every interrupt whose priority
// class (vector >> 4) is not above it. ntgo does the same on bare metal, so
// RaiseIrql to DISPATCH_LEVEL really defers the timer (vector class above
// DISPATCH_LEVEL would not be deferred; ntgo's timer and serial vectors are
// above it, as NT's device interrupts are, so raising to DISPATCH_LEVEL
// alone does not stop them: spin locks also clear RFLAGS.IF, see
// spinlock_trap.go). On the host, where CR8 cannot be written, the level is
// the per-processor software copy alone (irqlcopy_trap.go), enough for unit
// tests of IRQL rules.
//
// Misuse stops the system as NT does: RaiseIrql to a lower level is
// IRQL_NOT_GREATER_OR_EQUAL (0x09), LowerIrql to a higher level
// IRQL_NOT_LESS_OR_EQUAL (0x0A). Driver Verifier (mm/verifier) installs
// an IrqlVerifier while it verifies a driver: it sees every raise and
// lower first, and stops a verified caller's misuse with its own codes.
package ke

import (
	"sync/atomic"

	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
)

// IrqlVerifier is Driver Verifier's view of IRQL changes: Raise and Lower
// see the current and requested level before RaiseIrql and LowerIrql
// check them, and may stop the system or prepare for the new level.
type IrqlVerifier interface {
	Raise(current, requested KIRQL)
	Lower(current, requested KIRQL)
}

type irqlVerifierBox struct{ v IrqlVerifier }

var irqlVerifier atomic.Pointer[irqlVerifierBox]

// SetIrqlVerifier installs v (nil: none).
func SetIrqlVerifier(v IrqlVerifier) {
	if v == nil {
		irqlVerifier.Store(nil)
		return
	}
	irqlVerifier.Store(&irqlVerifierBox{v})
}

// KIRQL is an interrupt request level.
type KIRQL uint8

// The levels NT defines on x64 that ntgo uses.
const (
	PassiveLevel  KIRQL = 0  // PASSIVE_LEVEL: threads
	ApcLevel      KIRQL = 1  // APC_LEVEL
	DispatchLevel KIRQL = 2  // DISPATCH_LEVEL: no thread switches
	ClockLevel    KIRQL = 13 // CLOCK_LEVEL
	HighLevel     KIRQL = 15 // HIGH_LEVEL: everything masked

	// cr8Mask is the bits of CR8 that hold the task priority.
	cr8Mask = 0xF
)

// GetCurrentIrql returns the current IRQL.
//
//go:nosplit
func GetCurrentIrql() KIRQL {
	if arch.Bare() {
		return KIRQL(arch.ReadCR8() & cr8Mask)
	}
	return CurrentIrql()
}

// RaiseIrql raises the IRQL to newIrql and returns the old level, for
// LowerIrql. newIrql below the current level bugchecks
// IRQL_NOT_GREATER_OR_EQUAL (current level, requested level).
func RaiseIrql(newIrql KIRQL) (old KIRQL) {
	old = GetCurrentIrql()
	if h := irqlVerifier.Load(); h != nil {
		h.v.Raise(old, newIrql)
	}
	if newIrql < old || newIrql > HighLevel {
		bugcheck.KeBugCheckEx(bugcheck.IrqlNotGreaterOrEqual, uintptr(old), uintptr(newIrql), 0, 0)
	}
	setIrql(newIrql)
	return old
}

// LowerIrql returns to newIrql, which must not be above the current level
// (IRQL_NOT_LESS_OR_EQUAL: requested level, current level, 0 read, caller).
// Leaving DISPATCH_LEVEL for below it, a goroutine first runs the
// processor's queued DPCs (dpc_trap.go), as NT's DISPATCH software
// interrupt would at that moment.
func LowerIrql(newIrql KIRQL) {
	cur := GetCurrentIrql()
	if h := irqlVerifier.Load(); h != nil {
		h.v.Lower(cur, newIrql)
	}
	if newIrql > cur {
		bugcheck.KeBugCheckEx(bugcheck.IrqlNotLessOrEqual, uintptr(newIrql), uintptr(cur), 0, 0)
	}
	if newIrql < DispatchLevel && cur >= DispatchLevel && inGoroutine() {
		setIrql(DispatchLevel)
		if DpcQueueDepth(CurrentProcessorNumber()) != 0 {
			RetireDpcList()
		}
	}
	setIrql(newIrql)
}

// String is the level's NT name.
func (l KIRQL) String() string {
	switch l {
	case PassiveLevel:
		return "PASSIVE_LEVEL"
	case ApcLevel:
		return "APC_LEVEL"
	case DispatchLevel:
		return "DISPATCH_LEVEL"
	case ClockLevel:
		return "CLOCK_LEVEL"
	case HighLevel:
		return "HIGH_LEVEL"
	}
	return "DIRQL"
}
