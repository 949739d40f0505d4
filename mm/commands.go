// The memory manager's kd commands: !vm, !memusage, !pfn, !pte, !address.
//
// Each copies what it shows under the lock that guards it (the PFN lock
// inside Stats and Decode; kernelSpace and tableLock around a page-table
// walk, so no table is freed under it) and formats afterwards, so nothing
// allocates with interrupts off. !vm's own counters are single words read
// without a lock, as the bugcheck path reads them for a crash dump.

package mm

import (
	"errors"
	"fmt"
	"io"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/vmstat"
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

func cmdVM(w io.Writer, args []string) error {
	if len(args) != 0 {
		return console.ErrUsage
	}
	r := vmstat.Report{PFN: PFN.Stats(), Counters: vmCounters(), Pools: poolSummary()}
	r.Write(w)
	return nil
}

// vmCounters reads !vm's counters without a lock, for the bugcheck path,
// which may run with kernelSpace held: each is one word (the system PTE
// total is fixed at boot), so a racing edit shows whole or not at all.
func vmCounters() vmstat.Counters {
	c := vmstat.Counters{CommittedPages: uint64(committedPages.Load())}
	if SystemPtes != nil {
		c.SystemPtesFree, c.SystemPtesTotal = uint64(SystemPtes.Free()), uint64(SystemPtes.Total())
	}
	return c
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

// runtimeReservation is the runtime reservation holding va. (No defer
// under the lock: the runtime's deferreturn has a stack check.)
func runtimeReservation(va uintptr) (found reservation, ok bool) {
	tableLock.Acquire()
	for _, r := range reservations[:nreserved] {
		if va >= r.start && va < r.end {
			found, ok = r, true
			break
		}
	}
	tableLock.Release()
	return found, ok
}
