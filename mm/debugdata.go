// What the debugger's memory-manager views (kernel/kd/mmext: !vm,
// !memusage, !pfn, !pte, !address and the pool views) read of the live
// memory manager. The views themselves live in the kd layer, written once
// for the running kernel and for a crash dump; mm only hands out its data.
//
// Each reader copies what it returns under the lock that guards it (the
// PFN lock inside pfn's Stats and Decode; kernelSpace and tableLock around
// a page-table walk, so no table is freed under it; tableLock around the
// runtime's reservations, searched in place), so the views format afterwards and nothing
// allocates with interrupts off. !vm's own counters are single words read
// without a lock, as the bugcheck path reads them for a crash dump.

package mm

import (
	"ntgo/mm/layout"
	"ntgo/mm/pte"
	"ntgo/mm/vmstat"
)

// VMReport is !vm of the running system.
func VMReport() vmstat.Report {
	r := vmstat.Report{PFN: PFN.Stats(), Pools: poolSummary()}
	readVMCounters(&r.Counters)
	return r
}

// Lookup walks the live page tables for va, safely against concurrent
// edits.
func Lookup(va uintptr) pte.Walk {
	kernelSpace.Lock()
	tableLock.Acquire()
	walk := Tables.Lookup(va)
	tableLock.Release()
	kernelSpace.Unlock()
	return walk
}

// RuntimeReservation is the Go runtime's reservation holding va. It
// searches under tableLock and writes nothing there: a copy of the table
// could touch a stack or heap page not yet resident, a demand-zero fault
// with interrupts off. The release is explicit (a defer would bring the
// runtime's deferreturn, which has a stack check, under the lock).
func RuntimeReservation(va uintptr) (layout.Reservation, bool) {
	tableLock.Acquire()
	r, ok := findReservation(va)
	tableLock.Release()
	return layout.Reservation{Start: uint64(r.start), End: uint64(r.end)}, ok
}

// reservationsOf converts the trap-side records to the debugger's.
func reservationsOf(rs []reservation) []layout.Reservation {
	out := make([]layout.Reservation, len(rs))
	for i, r := range rs {
		out[i] = layout.Reservation{Start: uint64(r.start), End: uint64(r.end)}
	}
	return out
}
