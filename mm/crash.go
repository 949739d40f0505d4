// The memory manager's part of a crash dump (kernel/kd/dump).
//
// The bugcheck path runs when the failing code may hold any lock of the
// memory manager, so nothing here takes one. ReserveCrashDump runs at boot
// when dumps are enabled and makes the copy of the PFN database the
// bugcheck path fills, resident from the start (pfn's NewSnapshot).
// CaptureCrash then copies the database before anything allocates, so the
// dump's page lists are the machine's at the stop; the !vm counters, the
// pool's tag counters and the pool image (pool.System.Capture) follow,
// and those allocate.

package mm

import (
	"ntgo/kernel/kd/dump"
	"ntgo/mm/ex"
	"ntgo/mm/pfn"
)

// crashPFN is the copy of the PFN database a crash dump holds.
var crashPFN *pfn.Database

// ReserveCrashDump reserves what CaptureCrash must not allocate.
func ReserveCrashDump() { crashPFN = PFN.NewSnapshot() }

// CaptureCrash fills the memory manager's part of c, reading pool pages
// through read (the debugger's memory, which refuses pages that are not
// present). ReserveCrashDump must have run.
func CaptureCrash(c *dump.Crash, read func(addr uintptr, b []byte) bool) {
	PFN.Snapshot(crashPFN)
	c.PFN = crashPFN
	counters := vmCounters()
	c.Counters = &counters
	c.PoolTags = ex.Pools().PoolMon()
	c.Pool = ex.Pools().Capture(read)
}
