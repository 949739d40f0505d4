// The memory manager's kd commands: !vm, !memusage, !pfn, !pte, !address.
//
// Each copies what it shows under the lock that guards it (the PFN lock
// inside Stats and Decode; kernelSpace and tableLock around a page-table
// walk, so no table is freed under it) and formats afterwards, so nothing
// allocates with interrupts off.

package mm

import (
	"errors"
	"fmt"
	"io"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

func init() {
	for _, c := range []console.Command{
		{Name: "!vm", Help: "physical memory, page lists, commit charge and limit, system PTEs, pools", Run: cmdVM},
		{Name: "!memusage", Help: "page frames by state (the PFN database's lists)", Run: cmdMemusage},
		{Name: "!pfn", Args: "<frame>", Help: "decode one PFN database entry (frame number in hex)", Run: cmdPfn},
		{Name: "!pte", Args: "<va>", Help: "the PXE, PPE, PDE and PTE that map va, decoded", Run: cmdPte},
		{Name: "!address", Args: "<va>", Help: "which region of the kernel address space holds va", Run: cmdAddress},
	} {
		console.Register(c)
	}
}

// parseAddress reads a debugger expression (kd's syntax: hex with or
// without 0x, ` separators, 0n decimal, + and -).
func parseAddress(s string) (uintptr, error) {
	v, err := kd.Evaluate(s, nil)
	return uintptr(v), err
}

func kib(pages uint64) uint64 { return pages * physmem.PageSize / 1024 }

func cmdVM(w io.Writer, args []string) error {
	if len(args) != 0 {
		return console.ErrUsage
	}
	s := PFN.Stats()
	ram := s.RAM()
	fmt.Fprintf(w, "Physical memory:   %8d pages (%d KiB)\n", ram, kib(ram))
	fmt.Fprintf(w, "Available pages:   %8d (%d KiB)\n", s.Available(), kib(s.Available()))
	for st := pfn.State(0); st < pfn.NumStates; st++ {
		fmt.Fprintf(w, "  %-16s %8d\n", st.String()+":", s.ByState[st])
	}
	charge := uint64(committedPages.Load())
	fmt.Fprintf(w, "Commit charge:     %8d pages (%d KiB), limit %d pages (physical memory, no paging file)\n", charge, kib(charge), ram)
	fmt.Fprintf(w, "PFN database:      %8d entries x %d bytes = %d KiB at %#x (%.2f%% of RAM)\n",
		s.Frames, pfn.EntrySize, s.DatabaseBytes()/1024, layout.PfnDatabaseStart, s.DatabasePercentOfRAM())
	if SystemPtes != nil {
		kernelSpace.Lock()
		free, total := SystemPtes.Free(), SystemPtes.Total()
		kernelSpace.Unlock()
		fmt.Fprintf(w, "System PTEs:       %8d free of %d\n", free, total)
	}
	if nonPagedPages != nil {
		writePoolUsage(w)
	}
	return nil
}

func cmdMemusage(w io.Writer, args []string) error {
	if len(args) != 0 {
		return console.ErrUsage
	}
	fmt.Fprint(w, PFN.Stats())
	return nil
}

func cmdPfn(w io.Writer, args []string) error {
	if len(args) != 1 {
		return console.ErrUsage
	}
	p, err := parseAddress(args[0])
	if err != nil {
		return err
	}
	info, ok := PFN.Decode(physmem.PFN(p))
	if !ok {
		return fmt.Errorf("frame %#x is beyond the PFN database (%#x frames)", p, uint64(PFN.Frames()))
	}
	fmt.Fprintln(w, info)
	return nil
}

// Lookup walks the live page tables for va, safely against concurrent
// edits.
func Lookup(va uintptr) pte.Walk {
	kernelSpace.Lock()
	tableLock.Acquire()
	walk := Tables.Lookup(va)
	tableLock.Release()
	kernelSpace.Unlock()
	return walk
}

func cmdPte(w io.Writer, args []string) error {
	if len(args) != 1 {
		return console.ErrUsage
	}
	va, err := parseAddress(args[0])
	if err != nil {
		return err
	}
	fmt.Fprint(w, Lookup(va))
	return nil
}

func cmdAddress(w io.Writer, args []string) error {
	if len(args) != 1 {
		return console.ErrUsage
	}
	va, err := parseAddress(args[0])
	if err != nil {
		return err
	}
	if va < lowerHalfEnd {
		fmt.Fprintf(w, "%#x: Go runtime memory (the lower half)", va)
		if r, ok := runtimeReservation(va); ok {
			fmt.Fprintf(w, ", reservation %#x-%#x", r.start, r.end-1)
		} else {
			fmt.Fprint(w, ", not reserved")
		}
		fmt.Fprintln(w)
	} else if r, ok := layout.Find(va); ok {
		fmt.Fprintf(w, "%#x: %s (%#x-%#x)\n", va, r.Name, r.Start, r.Last)
	} else {
		return errors.New("not a canonical address")
	}
	walk := Lookup(va)
	_, e := walk.Last()
	fmt.Fprintf(w, "PTE: %v\n", e)
	return nil
}

// runtimeReservation is the runtime reservation holding va.
func runtimeReservation(va uintptr) (reservation, bool) {
	tableLock.Acquire()
	defer tableLock.Release()
	for _, r := range reservations[:nreserved] {
		if va >= r.start && va < r.end {
			return r, true
		}
	}
	return reservation{}, false
}
