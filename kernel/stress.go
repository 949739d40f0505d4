// stress paged: more paged pool than RAM, every byte checked.
//
// The command allocates the asked-for MiB of paged pool in big-page
// blocks, writes into every 8-byte word a value that encodes its address,
// reads every word back, frees everything and prints what the memory
// manager did meanwhile (faults by kind, pages read and written, pages
// trimmed, the standby and modified lists before and after). Pages the
// working-set manager trims and the modified page writer writes out are
// faulted back by the loops below as by any code touching pageable memory
// (kernel/inpage_trap.go).

package kernel

import (
	"fmt"
	"io"
	"unsafe"

	"ntgo/kernel/console"
	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/vmstat"
)

// stressBlock is the size of one allocation: 16 pages, a big-page block.
const stressBlock = 64 << 10

// stressProgress is how many blocks pass between progress lines (16 MiB).
const stressProgress = 256

// stressRoomPages is how many available pages, beyond the frames a
// pageable fault leaves to everything else (the pager's Reserve), the
// command wants before it starts: room for a working set of a few blocks
// beside what the Go heap takes meanwhile. With less (a -m 10M machine),
// its faults would find no frame and wait for nothing (the stop after
// them is NO_PAGES_AVAILABLE), so it refuses.
const stressRoomPages = 8 * stressBlock / physmem.PageSize

// stressLists is a progress line's state of the page lists.
func stressLists() string {
	s := mm.PFN.Stats()
	p := mm.SystemPager()
	return fmt.Sprintf("available %d, standby %d, modified %d, working set %d, hard faults %d, pages written %d",
		s.Available(), s.ByState[pfn.StateStandby], s.ByState[pfn.StateModified], p.WsPages(), p.HardFaults.Load(), p.PagesWritten.Load())
}

var stressTag = pool.MakeTag("Strs")

func init() {
	console.Register(console.Command{Name: "stress", Args: "paged <MiB>",
		Help: "allocate MiB (decimal; 0x for hex) of paged pool, write every word with its address, check every byte, free it; prints what moved", Run: cmdStress})
}

// stressPattern is the word stored at address a.
func stressPattern(a uintptr) uint64 { return uint64(a)*0x9E3779B97F4A7C15 ^ 0x5A5A5A5A }

func cmdStress(w io.Writer, args []string) error {
	if len(args) != 2 || args[0] != "paged" {
		return console.ErrUsage
	}
	mib, err := console.Decimal(args[1], 1, 1<<16)
	if err != nil {
		return err
	}
	if avail, reserve := mm.PFN.Stats().Available(), mm.SystemPager().Reserve; avail < reserve+stressRoomPages {
		return fmt.Errorf("%d pages available: paged pool's working set needs %d beyond the %d left to the rest of the system (give the machine more memory)",
			avail, stressRoomPages, reserve)
	}
	before, lists := mm.VMReport(), mm.PFN.Stats().ByState
	var blocks []unsafe.Pointer
	refused := false
	for len(blocks)*stressBlock < int(mib)<<20 {
		p := ex.AllocatePoolWithTag(pool.PagedPool, stressBlock, stressTag)
		if p == nil {
			refused = true
			break
		}
		blocks = append(blocks, p)
		fillStress(uintptr(p))
		if len(blocks)%stressProgress == 0 {
			fmt.Fprintf(w, "  %d MiB written (%v)\n", len(blocks)*stressBlock>>20, stressLists())
		}
	}
	total := uint64(len(blocks)) * stressBlock
	if refused {
		fmt.Fprintf(w, "paged pool refused a block after %d MiB (commit %d of %d pages)\n",
			total>>20, mm.VMReport().CommittedPages, mm.CommitLimit())
	}
	mid := mm.PFN.Stats().ByState
	bad, at := uint64(0), uintptr(0)
	for _, p := range blocks {
		if a, ok := checkStress(uintptr(p)); !ok && bad == 0 {
			bad, at = 1, a
		}
	}
	for _, p := range blocks {
		ex.FreePoolWithTag(p, stressTag)
	}
	after := mm.VMReport()
	d := func(f func(vmstat.Paging) uint64) uint64 { return f(after.Paging) - f(before.Paging) }
	fmt.Fprintf(w, "faults: demand-zero %d, transition %d, hard %d (collided %d); pages read %d, written %d in %d writes; trimmed %d, repurposed %d\n",
		d(func(p vmstat.Paging) uint64 { return p.DemandZeroFaults }), d(func(p vmstat.Paging) uint64 { return p.TransitionFaults }),
		d(func(p vmstat.Paging) uint64 { return p.HardFaults }), d(func(p vmstat.Paging) uint64 { return p.CollidedFaults }),
		d(func(p vmstat.Paging) uint64 { return p.PagesRead }), d(func(p vmstat.Paging) uint64 { return p.PagesWritten }),
		d(func(p vmstat.Paging) uint64 { return p.Writes }), d(func(p vmstat.Paging) uint64 { return p.Trimmed }),
		d(func(p vmstat.Paging) uint64 { return p.Repurposed }))
	fmt.Fprintf(w, "standby %d -> %d -> %d, modified %d -> %d -> %d pages (start, after writing, end)\n",
		lists[pfn.StateStandby], mid[pfn.StateStandby], mm.PFN.Stats().ByState[pfn.StateStandby],
		lists[pfn.StateModified], mid[pfn.StateModified], mm.PFN.Stats().ByState[pfn.StateModified])
	if bad != 0 {
		return fmt.Errorf("first mismatch at %#x: %#x, want %#x", at, *(*uint64)(unsafePointerAt(at)), stressPattern(at))
	}
	fmt.Fprintf(w, "all %d bytes matched\n", total)
	return nil
}

// fillStress writes a block's words.
func fillStress(base uintptr) {
	for a := base; a < base+stressBlock; a += 8 {
		*(*uint64)(unsafePointerAt(a)) = stressPattern(a)
	}
}

// checkStress reads a block's words back; false and the address at the
// first that differs.
func checkStress(base uintptr) (uintptr, bool) {
	for a := base; a < base+stressBlock; a += 8 {
		if *(*uint64)(unsafePointerAt(a)) != stressPattern(a) {
			return a, false
		}
	}
	return 0, true
}
