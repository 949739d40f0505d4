// The executive pools on the machine: page sources over NT's pool regions,
// ex.Init, the periodic lookaside tuning, and !vm's pool section (the pool
// views themselves are kernel/kd/mmext's).
//
// Pool maxima are derived from RAM, as NT sizes its pools at boot: each
// pool may take three eighths of physical memory, so both full leave a
// quarter to the Go runtime and the kernel. Paged pool is pageable
// (paging.go): its address range is fixed (pagedPoolBytes), and a paging
// file raises its maximum by the file's size; the commit limit, RAM plus
// the paging file, bounds what it commits.

package mm

import (
	"time"

	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/verifier"
	"ntgo/mm/vmstat"
)

// Pool sizing, in parts of RAM.
const (
	poolShareNumerator   = 3
	poolShareDenominator = 8
	// specialPoolShare: Driver Verifier's special pool may map one page
	// in this many of RAM before allocations fall back to normal pool.
	specialPoolShare = 16
	// lookasideAdjustPeriod is how often the depth policy runs (NT's
	// balance-set manager: about once a second).
	lookasideAdjustPeriod = time.Second
	// pagedPoolBytes is paged pool's address range.
	pagedPoolBytes = 512 << 20
)

// The pools' page sources; the pools themselves are ex.Pools().
var nonPagedPages, pagedPages *PoolPages

// pagedPoolMax is paged pool's maximum without a paging file.
var pagedPoolMax uintptr

// initPools sizes the pools from RAM, builds their page sources and the
// executive pools over them, and starts the lookaside tuning.
func initPools() {
	ram := uintptr(PFN.Stats().RAM()) * physmem.PageSize
	max := ram * poolShareNumerator / poolShareDenominator &^ physmem.PageMask
	// Paged pool's address range is fixed (pagedPoolBytes); its maximum
	// starts at RAM's share and grows by the paging file's size when one
	// is added (AddPagingFile).
	nonPagedPages = NewPoolPages(layout.NonPagedPoolStart, max, false)
	pagedPages = NewPoolPages(layout.PagedPoolStart, pagedPoolBytes, true)
	pagedPages.pager = pager
	pagedPoolMax = max
	securePages = newSecurePages(ram / securePoolShare &^ physmem.PageMask)
	pools, err := ex.Init(ex.Config{Pool: pool.Config{
		NonPaged: nonPagedPages, Paged: pagedPages,
		MaxNonPagedBytes: max, MaxPagedBytes: max,
	}, Secure: securePages})
	if err != nil {
		panic("mm: pools: " + err.Error())
	}
	verifier.Init(pools, &SpecialPages{}, int(ram/physmem.PageSize/specialPoolShare))
	go func() {
		for range time.Tick(lookasideAdjustPeriod) {
			ex.AdjustLookasideDepths()
		}
	}()
}

// AddProcessor gives processor n its own pool lookasides and tag counters
// (NT's per-processor lookaside lists in the KPRCB). The kernel calls it
// for each processor it starts, in order, before starting it.
func AddProcessor(n int) error { return ex.Pools().AddCPU(n) }

// poolSummary is !vm's pool section, nil before the pools exist.
func poolSummary() *vmstat.Pools {
	if nonPagedPages == nil {
		return nil
	}
	return vmstat.NewPools(ex.Pools(), nonPagedPages.summary(), pagedPages.summary())
}
