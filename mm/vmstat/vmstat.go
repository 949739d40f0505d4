// Package vmstat is !vm: the memory manager's summary, the numbers it is
// made of and how it prints them. The kernel's console fills a Report from
// the live memory manager (mm), the crash-dump viewer from a dump
// (kernel/kd/dump), so that both print the same lines for the same state;
// a test compares the two.
package vmstat

import (
	"fmt"
	"io"

	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
)

// Report is what !vm prints.
type Report struct {
	PFN pfn.Stats
	Counters
	// Pools is nil before the pools exist.
	Pools *Pools
}

// Counters are the numbers of !vm that neither the PFN database nor the
// pools hold. Fixed-size, so that a dump stores them as is.
type Counters struct {
	CommittedPages uint64
	// SystemPtesTotal is 0 before the system PTE region exists.
	SystemPtesFree, SystemPtesTotal uint64
	Paging
}

// Paging is !vm's paging section: the paging file, the system working
// set and the pager's counters (mm/paging). PagingFilePages is 0 without
// a paging file; WsPeak 0 before the pager exists.
type Paging struct {
	PagingFilePages, PagingFileUsed, PagingFilePeak uint64
	WsPages, WsPeak                                 uint64
	DemandZeroFaults, TransitionFaults              uint64
	HardFaults, CollidedFaults                      uint64
	PagesRead, PagesWritten, Writes, WriteErrors    uint64
	Trimmed, Repurposed                             uint64
	FreePageWaits                                   uint64
}

// Pools is !vm's pool section.
type Pools struct {
	Usage           [pool.NumKinds]pool.Usage
	NonPaged, Paged PoolPages
}

// PoolPages is how many pages of a pool region are handed out, of its
// maximum.
type PoolPages struct {
	InUse, Max uint64
}

// UsageSource is a pool whose pages can be walked: the live pool.System,
// or a dump's pool.Image.
type UsageSource interface {
	Usage(pool.Kind) pool.Usage
}

// NewPools walks every pool of src for the pool section.
func NewPools(src UsageSource, nonPaged, paged PoolPages) *Pools {
	p := &Pools{NonPaged: nonPaged, Paged: paged}
	for k := range pool.NumKinds {
		p.Usage[k] = src.Usage(k)
	}
	return p
}

func kib(pages uint64) uint64 { return pages * physmem.PageSize / 1024 }

// Write prints r as !vm does.
func (r *Report) Write(w io.Writer) {
	s := r.PFN
	ram := s.RAM()
	fmt.Fprintf(w, "Physical memory:   %8d pages (%d KiB)\n", ram, kib(ram))
	fmt.Fprintf(w, "Available pages:   %8d (%d KiB)\n", s.Available(), kib(s.Available()))
	for st := pfn.State(0); st < pfn.NumStates; st++ {
		fmt.Fprintf(w, "  %-16s %8d\n", st.String()+":", s.ByState[st])
	}
	charge, pg := r.CommittedPages, r.Paging
	if pg.PagingFilePages == 0 {
		fmt.Fprintf(w, "Commit charge:     %8d pages (%d KiB), limit %d pages (physical memory, no paging file)\n", charge, kib(charge), ram)
	} else {
		limit := ram + pg.PagingFilePages
		fmt.Fprintf(w, "Commit charge:     %8d pages (%d KiB), limit %d pages (%d KiB: physical memory + paging file)\n", charge, kib(charge), limit, kib(limit))
		fmt.Fprintf(w, "Paging file:       %8d pages (%d KiB), %d in use, peak %d\n", pg.PagingFilePages, kib(pg.PagingFilePages), pg.PagingFileUsed, pg.PagingFilePeak)
	}
	if pg.WsPeak != 0 {
		fmt.Fprintf(w, "System working set:%8d pages, peak %d (paged pool)\n", pg.WsPages, pg.WsPeak)
		fmt.Fprintf(w, "Page faults:       demand-zero %d, transition (soft) %d, hard %d (collided %d); %d waits for a free page\n",
			pg.DemandZeroFaults, pg.TransitionFaults, pg.HardFaults, pg.CollidedFaults, pg.FreePageWaits)
		fmt.Fprintf(w, "Paging I/O:        %d pages read, %d pages written in %d writes (%d failed); %d trimmed, %d repurposed\n",
			pg.PagesRead, pg.PagesWritten, pg.Writes, pg.WriteErrors, pg.Trimmed, pg.Repurposed)
	}
	fmt.Fprintf(w, "PFN database:      %8d entries x %d bytes = %d KiB at %#x (%.2f%% of RAM)\n",
		s.Frames, pfn.EntrySize, s.DatabaseBytes()/1024, layout.PfnDatabaseStart, s.DatabasePercentOfRAM())
	if r.SystemPtesTotal != 0 {
		fmt.Fprintf(w, "System PTEs:       %8d free of %d\n", r.SystemPtesFree, r.SystemPtesTotal)
	}
	if p := r.Pools; p != nil {
		for k := range pool.NumKinds {
			u := p.Usage[k]
			fmt.Fprintf(w, "%-18s %6d pages + %6d big pages: %10d bytes allocated, %8d cached, %8d free\n",
				k.String()+":", u.Pages, u.BigPages, u.Allocated, u.Cached, u.Free)
		}
		fmt.Fprintf(w, "Pool pages:        non-paged %d of %d, paged %d of %d\n",
			p.NonPaged.InUse, p.NonPaged.Max, p.Paged.InUse, p.Paged.Max)
	}
}
