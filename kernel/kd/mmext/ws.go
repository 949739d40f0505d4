// !ws: the system working set (paged pool), read from the page tables so
// that a dump shows it as the live kernel does.
//
// Every PTE of paged pool's region says where its page is (mm/paging's
// package comment): valid (in the working set; the accessed bit says
// whether it was used since the trimmer last looked), transition (trimmed:
// its frame on Standby, Modified or in Transition, from the PFN database),
// page-file (only in the paging file) or demand-zero (never touched). The
// walk skips the ranges whose page tables do not exist. `!ws trim` takes
// every unlocked page out first, on a live target only.

package mmext

import (
	"fmt"
	"io"

	"ntgo/kernel/console"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

// wsCounts is where paged pool's pages are.
type wsCounts struct {
	valid, accessed, dirty          uint64
	transition                      uint64
	byState                         [pfn.NumStates]uint64
	pageFile, demandZero, otherKind uint64
}

func (v views) ws(w io.Writer, args []string) error {
	switch {
	case len(args) == 1 && args[0] == "trim":
		n, err := v.t.TrimWorkingSet()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "trimmed %d pages\n", n)
	case len(args) != 0:
		return console.ErrUsage
	}
	r, err := v.t.VM()
	if err != nil {
		return err
	}
	if r.Pools == nil {
		return errNoPools
	}
	pages := r.Pools.Paged.Max
	db, _ := v.t.PFN() // without it, transition frames are not split by list
	var c wsCounts
	end := layout.PagedPoolStart + uintptr(pages)*physmem.PageSize
	for va := layout.PagedPoolStart; va < end; {
		walk, err := v.t.Lookup(va)
		if err != nil {
			return err
		}
		l, e := walk.Last()
		if l != pte.PT {
			// No table below: skip what this entry would map.
			span := uintptr(physmem.PageSize) << (9 * uint(l))
			va = (va + span) &^ (span - 1)
			continue
		}
		c.add(e, db)
		va += physmem.PageSize
	}
	fmt.Fprintf(w, "System working set: paged pool %016x-%016x (%d pages, %d handed out)\n",
		layout.PagedPoolStart, end-1, pages, r.Pools.Paged.InUse)
	fmt.Fprintf(w, "  working set   %8d pages (peak %d; %d accessed since the trimmer looked, %d dirty)\n",
		c.valid, r.Paging.WsPeak, c.accessed, c.dirty)
	fmt.Fprintf(w, "  trimmed       %8d pages (transition: standby %d, modified %d, modified-no-write %d, in I/O %d)\n",
		c.transition, c.byState[pfn.StateStandby], c.byState[pfn.StateModified],
		c.byState[pfn.StateModifiedNoWrite], c.byState[pfn.StateTransition])
	fmt.Fprintf(w, "  paging file   %8d pages\n", c.pageFile)
	fmt.Fprintf(w, "  demand-zero   %8d pages (committed, never touched)\n", c.demandZero)
	if c.otherKind != 0 {
		fmt.Fprintf(w, "  other         %8d PTEs (reserved, freed)\n", c.otherKind)
	}
	return nil
}

// add counts the leaf e.
func (c *wsCounts) add(e pte.PTE, db *pfn.Database) {
	switch e.Kind() {
	case pte.KindValid:
		c.valid++
		if e&pte.Accessed != 0 {
			c.accessed++
		}
		if e&pte.Dirty != 0 {
			c.dirty++
		}
	case pte.KindTransition:
		c.transition++
		if db != nil {
			if info, ok := db.Decode(e.Frame()); ok {
				c.byState[info.State]++
			}
		}
	case pte.KindPageFile:
		c.pageFile++
	case pte.KindDemandZero:
		c.demandZero++
	case pte.KindFree:
	default:
		c.otherKind++
	}
}
