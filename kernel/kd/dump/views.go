package dump

// The viewer's commands over a Dump, as kd> console commands so that the
// host viewer runs them through the same registry and dispatcher as the
// kernel's console: !pfn and !memusage from the reopened PFN database,
// !pte from the dumped page tables, poolmon from the tag counters, !pool
// and !vm from the pool image and the counters, db/dw/dd/dq over the
// dump's raw pages, and kd's own r and k over the dumped thread context.

import (
	"errors"
	"fmt"
	"io"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
)

// errMissing is returned by a command whose data the dump does not hold.
var errMissing = errors.New("the dump does not hold this")

// pageMemory is the dump's address space: the raw pages it holds, by
// address; every other read is refused and memory commands say so.
type pageMemory map[uintptr]*[physmem.PageSize]byte

func (m pageMemory) Read(addr uintptr, b []byte) bool {
	for off := 0; off < len(b); {
		a := addr + uintptr(off)
		page, ok := m[a&^physmem.PageMask]
		if !ok {
			return false
		}
		off += copy(b[off:], page[a&physmem.PageMask:])
	}
	return true
}

// noSymbols: the dump carries no symbol table, and the viewer's own
// (kd.RuntimeSymbols) would name the viewer's functions, not the kernel's.
type noSymbols struct{}

func (noSymbols) Frames(uintptr) []kd.Frame { return nil }

// Target is the debugger's view of the dump.
func (d *Dump) Target() *kd.Target {
	return &kd.Target{Memory: d.memory, Symbols: noSymbols{},
		Context: func() (kd.Context, bool) { return d.Context, true }}
}

// Commands returns the viewer's commands: kd's over Target, and the
// memory manager's views.
func (d *Dump) Commands() []console.Command {
	return append(kd.Commands(d.Target()),
		console.Command{Name: "!pfn", Args: "<frame>", Help: "PFN database entry of a frame (hex)", Run: d.pfnEntry},
		console.Command{Name: "!memusage", Help: "frames per page list", Run: d.memUsage},
		console.Command{Name: "!pte", Args: "<va>", Help: "page-table entries on the path of va", Run: d.pteWalk},
		console.Command{Name: "!vm", Help: "physical memory, page lists, commit charge, system PTEs, pools", Run: d.vm},
		console.Command{Name: "!pool", Args: "<addr>", Help: "the pool page holding addr: every block header", Run: d.poolPage},
		console.Command{Name: "poolmon", Help: "pool usage per tag", Run: d.poolMon},
	)
}

// addressArg is the one argument of a command that takes an address (or
// a frame number), over data the dump may lack (held false).
func (d *Dump) addressArg(args []string, held bool) (uint64, error) {
	switch {
	case len(args) != 1:
		return 0, console.ErrUsage
	case !held:
		return 0, errMissing
	}
	return kd.Evaluate(args[0], &d.Context.Registers)
}

// noArgs checks a command that takes no argument, over data the dump may
// lack (held false).
func noArgs(args []string, held bool) error {
	switch {
	case len(args) != 0:
		return console.ErrUsage
	case !held:
		return errMissing
	}
	return nil
}

func (d *Dump) pfnEntry(w io.Writer, args []string) error {
	p, err := d.addressArg(args, d.PFN != nil)
	if err != nil {
		return err
	}
	info, ok := d.PFN.Decode(physmem.PFN(p))
	if !ok {
		return fmt.Errorf("frame %#x is beyond the database (%#x frames)", p, uint64(d.PFN.Frames()))
	}
	fmt.Fprintln(w, info)
	return nil
}

func (d *Dump) memUsage(w io.Writer, args []string) error {
	if err := noArgs(args, d.PFN != nil); err != nil {
		return err
	}
	fmt.Fprint(w, d.PFN.Stats())
	return nil
}

func (d *Dump) pteWalk(w io.Writer, args []string) error {
	va, err := d.addressArg(args, d.PageTables != nil)
	if err != nil {
		return err
	}
	fmt.Fprint(w, d.PageTables.Lookup(uintptr(va)))
	return nil
}

func (d *Dump) vm(w io.Writer, args []string) error {
	r, held := d.VMReport()
	if err := noArgs(args, held); err != nil {
		return err
	}
	r.Write(w)
	return nil
}

func (d *Dump) poolPage(w io.Writer, args []string) error {
	addr, err := d.addressArg(args, d.Pool != nil)
	if err != nil {
		return err
	}
	r, ok := d.Pool.Inspect(uintptr(addr))
	if !ok {
		return errors.New("not in a pool page")
	}
	fmt.Fprint(w, r)
	return nil
}

func (d *Dump) poolMon(w io.Writer, args []string) error {
	if err := noArgs(args, d.PoolTags != nil); err != nil {
		return err
	}
	pool.WritePoolMon(w, d.PoolTags)
	return nil
}
