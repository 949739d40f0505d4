// The executive pools on the machine: page sources over NT's pool regions,
// ex.Init, the periodic lookaside tuning, and the pool kd commands
// (poolmon, !poolused, !pool, !poolfind) and !vm section.
//
// Pool maxima are derived from RAM, as NT sizes its pools at boot: each
// pool may take three eighths of physical memory, so both full leave a
// quarter to the Go runtime and the kernel (ntgo has no paging file: paged
// pool is demand-zero RAM that is never paged out, and its maximum bounds
// what it may commit).

package mm

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"ntgo/kernel/console"
	"ntgo/kernel/ke"
	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/vmstat"
)

// Pool sizing, in parts of RAM.
const (
	poolShareNumerator   = 3
	poolShareDenominator = 8
	// lookasideAdjustPeriod is how often the depth policy runs (NT's
	// balance-set manager: about once a second).
	lookasideAdjustPeriod = time.Second
)

// The pools' page sources; the pools themselves are ex.Pools().
var nonPagedPages, pagedPages *PoolPages

// initPools sizes the pools from RAM, builds their page sources and the
// executive pools over them, and starts the lookaside tuning.
func initPools() {
	ram := uintptr(PFN.Stats().RAM()) * physmem.PageSize
	max := ram * poolShareNumerator / poolShareDenominator &^ physmem.PageMask
	nonPagedPages = NewPoolPages(layout.NonPagedPoolStart, max, false)
	pagedPages = NewPoolPages(layout.PagedPoolStart, max, true)
	_, err := ex.Init(ex.Config{Pool: pool.Config{
		NonPaged: nonPagedPages, Paged: pagedPages,
		MaxNonPagedBytes: max, MaxPagedBytes: max,
		IRQL: func() uint8 { return uint8(ke.KeGetCurrentIrql()) },
	}})
	if err != nil {
		panic("mm: pools: " + err.Error())
	}
	go func() {
		for range time.Tick(lookasideAdjustPeriod) {
			ex.AdjustLookasideDepths()
		}
	}()
}

func init() {
	for _, c := range []console.Command{
		{Name: "poolmon", Args: "[seconds]", Help: "pool tags by bytes in use: allocations, frees, difference (refresh every seconds, 3 times)", Run: cmdPoolmon},
		{Name: "!poolused", Args: "[tag]", Help: "bytes and allocations per tag (one tag, or all)", Run: cmdPoolused},
		{Name: "!pool", Args: "<addr>", Help: "the pool page holding addr: every block header, the one asked for marked", Run: cmdPool},
		{Name: "!poolfind", Args: "<tag>", Help: "every allocated pool block with tag", Run: cmdPoolfind},
	} {
		console.Register(c)
	}
}

// poolSummary is !vm's pool section, nil before the pools exist.
func poolSummary() *vmstat.Pools {
	if nonPagedPages == nil {
		return nil
	}
	return vmstat.NewPools(ex.Pools(), nonPagedPages.summary(), pagedPages.summary())
}

// poolmonRefreshes is how many tables a refreshing poolmon prints.
const poolmonRefreshes = 3

func cmdPoolmon(w io.Writer, args []string) error {
	switch len(args) {
	case 0:
		pool.WritePoolMon(w, ex.Pools().PoolMon())
		return nil
	case 1:
		secs, err := strconv.Atoi(args[0])
		if err != nil || secs <= 0 {
			return console.ErrUsage
		}
		for i := 0; i < poolmonRefreshes; i++ {
			if i > 0 {
				time.Sleep(time.Duration(secs) * time.Second)
			}
			pool.WritePoolMon(w, ex.Pools().PoolMon())
		}
		return nil
	}
	return console.ErrUsage
}

func cmdPoolused(w io.Writer, args []string) error {
	switch len(args) {
	case 0:
		pool.WritePoolMon(w, ex.Pools().PoolMon())
	case 1:
		t, ok := ex.Pools().PoolUsed(pool.MakeTag(args[0]))
		if !ok {
			return fmt.Errorf("no allocations with tag %q", args[0])
		}
		pool.WritePoolMon(w, []pool.TagStat{t})
	default:
		return console.ErrUsage
	}
	return nil
}

func cmdPool(w io.Writer, args []string) error {
	if len(args) != 1 {
		return console.ErrUsage
	}
	addr, err := parseAddress(args[0])
	if err != nil {
		return err
	}
	r, ok := ex.Pools().Inspect(addr)
	if !ok {
		return errors.New("not in a pool page")
	}
	fmt.Fprint(w, r)
	return nil
}

func cmdPoolfind(w io.Writer, args []string) error {
	if len(args) != 1 {
		return console.ErrUsage
	}
	blocks := ex.Pools().Find(pool.MakeTag(args[0]))
	for _, b := range blocks {
		fmt.Fprintf(w, "%016x  size %6d  %v  %v\n", b.Addr, b.Bytes, b.Tag, b.State)
	}
	fmt.Fprintf(w, "%d blocks\n", len(blocks))
	return nil
}
