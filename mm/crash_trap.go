// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// What a crash dump's capture takes with the other processors stalled
// (crash.go), and the !vm counters, which it reads there.

package mm

import "ntgo/mm/vmstat"

var (
	crashCounters     vmstat.Counters
	crashReservations [maxRuntimeReservations]reservation
	crashReserved     int
)

// SnapshotForCrash copies the PFN database, the !vm counters and the
// runtime's reservations for CaptureCrash. ReserveCrashDump must have run.
//
//go:nosplit
func SnapshotForCrash() {
	PFN.Snapshot(crashPFN)
	readVMCounters(&crashCounters)
	crashReservations = reservations
	crashReserved = nreserved
}

// readVMCounters reads !vm's counters into c without a lock, for the
// bugcheck path, which may run with kernelSpace held: each is one word
// (the system PTE total is fixed at boot), so a racing edit shows whole
// or not at all.
//
//go:nosplit
func readVMCounters(c *vmstat.Counters) {
	*c = vmstat.Counters{CommittedPages: uint64(committedPages.Load())}
	if SystemPtes != nil {
		c.SystemPtesFree, c.SystemPtesTotal = uint64(SystemPtes.Free()), uint64(SystemPtes.Total())
	}
	p := pager
	if p == nil {
		return
	}
	g := &c.Paging
	g.WsPages, g.WsPeak = uint64(p.WsPages()), uint64(max(p.WsPeak(), 1))
	g.DemandZeroFaults, g.TransitionFaults = p.DemandZeroFaults.Load(), p.TransitionFaults.Load()
	g.HardFaults, g.CollidedFaults = p.HardFaults.Load(), p.CollidedFaults.Load()
	g.PagesRead, g.PagesWritten = p.PagesRead.Load(), p.PagesWritten.Load()
	g.Writes, g.WriteErrors = p.Writes.Load(), p.WriteErrors.Load()
	g.Trimmed, g.Repurposed = p.Trimmed.Load(), p.Repurposed.Load()
	g.FreePageWaits = p.FreePageWaits.Load()
	if s := p.Slots(); s != nil {
		g.PagingFilePages = uint64(pagingFilePages.Load())
		g.PagingFileUsed, g.PagingFilePeak = uint64(s.Used()), uint64(s.Peak())
	}
}
