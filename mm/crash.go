// The memory manager's part of a crash dump (the kd layer's
// kernel/kd/dump writes the dump; mm only hands over its data).
//
// The bugcheck path runs when the failing code may hold any lock of the
// memory manager, so nothing here takes one. ReserveCrashDump runs at boot
// when dumps are enabled and makes the copy of the PFN database the
// bugcheck path fills, resident from the start (pfn's NewSnapshot).
// Capture is in two steps:
//   - SnapshotForCrash (crash_trap.go) runs while the kernel holds the
//     other processors stalled, so that what it copies holds still: the PFN
//     database, the !vm counters and the runtime's reservations (a fixed
//     array, copied without tableLock). It cannot allocate or wait (a
//     stalled processor may hold a lock of the Go runtime's);
//   - CaptureCrash runs once they are let go, and allocates: it turns those
//     copies into plain data and adds the pool's tag counters and the pool
//     image (pool.System.Capture), read while the others run: a block in
//     the middle of a change may show as it was or as it will be.
//
// The lookaside lists' counters stay out: each is read under its list's
// lock, which the failing code may hold.

package mm

import (
	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/pool"
	"ntgo/mm/securepool"
	"ntgo/mm/vmstat"
)

// crashPFN is the copy of the PFN database a crash dump holds.
var crashPFN *pfn.Database

// ReserveCrashDump reserves what CaptureCrash must not allocate.
func ReserveCrashDump() { crashPFN = PFN.NewSnapshot() }

// CrashParts is the memory manager's state at a stop, as plain data.
type CrashParts struct {
	PFN          *pfn.Database // the reserved copy
	Counters     vmstat.Counters
	Reservations []layout.Reservation
	PoolTags     []pool.TagStat
	Pool         *pool.Image
	// Secure is the secure pools, nil if the stop came with their lock
	// held (from inside a secure-pool routine) or there are none.
	Secure *securepool.Image
}

// CaptureCrash returns the memory manager's state: what SnapshotForCrash
// copied, and the pool's, reading pool pages through read (the debugger's
// memory, which refuses pages that are not present). ReserveCrashDump and
// SnapshotForCrash must have run.
func CaptureCrash(read func(addr uintptr, b []byte) bool) CrashParts {
	c := CrashParts{PFN: crashPFN, Counters: crashCounters}
	c.Reservations = reservationsOf(crashReservations[:crashReserved])
	c.PoolTags = ex.Pools().PoolMon()
	c.Pool = ex.Pools().Capture(read)
	if s := ex.SecurePools(); s != nil {
		c.Secure = s.TryCapture()
	}
	return c
}
