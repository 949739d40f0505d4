package mm

import "ntgo/mm/physmem"

// ChargeCommit is chargeCommit, for the commit-limit test.
var ChargeCommit = chargeCommit

// PoolCommitted is the pools' commit charge.
func PoolCommitted() int64 { return poolCommitted.Load() }

// FixedMdlBytes is the block every MDL of up to mdlFixedPages pages takes.
const FixedMdlBytes = mdlFixedSize

// StopReserve is the frames boot holds for a stop, and whether the
// reserve has been opened.
func StopReserve() ([]physmem.PFN, bool) {
	return stopReserve[:stopReserveHeld], stopReserveOpen.Load()
}

// StopReservePages is stopReservePages.
const StopReservePages = stopReservePages

// StopReserveSize is the reserve boot holds on this machine.
func StopReserveSize() int { return stopReserveSize(databaseLen) }
