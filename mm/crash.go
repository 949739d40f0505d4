// The memory manager's part of a crash dump (the kd layer's
// kernel/kd/dump writes the dump; mm only hands over its data).
//
// The bugcheck path runs when the failing code may hold any lock of the
// memory manager, so nothing here takes one. ReserveCrashDump runs at boot
// when dumps are enabled and makes the copy of the PFN database the
// bugcheck path fills, resident from the start (pfn's NewSnapshot).
// CaptureCrash then copies the database before anything allocates, so the
// dump's page lists are the machine's at the stop; the !vm counters, the
// runtime's reservations (a fixed array, copied without tableLock), the
// pool's tag counters and the pool image (pool.System.Capture) follow, and
// those allocate. The lookaside lists' counters stay out: each is read
// under its list's lock, which the failing code may hold.

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

// CaptureCrash copies the memory manager's state, reading pool pages
// through read (the debugger's memory, which refuses pages that are not
// present). ReserveCrashDump must have run.
func CaptureCrash(read func(addr uintptr, b []byte) bool) CrashParts {
	PFN.Snapshot(crashPFN)
	c := CrashParts{PFN: crashPFN, Counters: vmCounters()}
	c.Reservations = reservationsOf(reservations[:nreserved])
	c.PoolTags = ex.Pools().PoolMon()
	c.Pool = ex.Pools().Capture(read)
	if s := ex.SecurePools(); s != nil {
		c.Secure = s.TryCapture()
	}
	return c
}
