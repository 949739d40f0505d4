package dump

// The viewer's commands over a Dump, as kd> console commands so that the
// host viewer runs them through the same registry and dispatcher as the
// kernel's console: !pfn and !memusage from the reopened PFN database,
// !pte from the dumped page tables, poolmon from the tag counters, and kd's
// own r and k over the dumped thread context.

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

// noMemory is the dump's address space: it holds no memory contents, so
// every read is refused and memory commands say so.
type noMemory struct{}

func (noMemory) Read(uintptr, []byte) bool { return false }

// noSymbols: the dump carries no symbol table, and the viewer's own
// (kd.RuntimeSymbols) would name the viewer's functions, not the kernel's.
type noSymbols struct{}

func (noSymbols) Frames(uintptr) []kd.Frame { return nil }

// Target is the debugger's view of the dump.
func (d *Dump) Target() *kd.Target {
	return &kd.Target{Memory: noMemory{}, Symbols: noSymbols{},
		Context: func() (kd.Context, bool) { return d.Context, true }}
}

// Commands returns the viewer's commands: kd's over Target, and the
// memory manager's views.
func (d *Dump) Commands() []console.Command {
	return append(kd.Commands(d.Target()),
		console.Command{Name: "!pfn", Args: "<frame>", Help: "PFN database entry of a frame (hex)", Run: d.pfnEntry},
		console.Command{Name: "!memusage", Help: "frames per page list", Run: d.memUsage},
		console.Command{Name: "!pte", Args: "<va>", Help: "page-table entries on the path of va", Run: d.pteWalk},
		console.Command{Name: "poolmon", Help: "pool usage per tag", Run: d.poolMon},
	)
}

func (d *Dump) pfnEntry(w io.Writer, args []string) error {
	if len(args) != 1 {
		return console.ErrUsage
	}
	if d.PFN == nil {
		return errMissing
	}
	p, err := kd.Evaluate(args[0], &d.Context.Registers)
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
	if len(args) != 0 {
		return console.ErrUsage
	}
	if d.PFN == nil {
		return errMissing
	}
	fmt.Fprint(w, d.PFN.Stats())
	return nil
}

func (d *Dump) pteWalk(w io.Writer, args []string) error {
	if len(args) != 1 {
		return console.ErrUsage
	}
	if d.Tables == nil {
		return errMissing
	}
	va, err := kd.Evaluate(args[0], &d.Context.Registers)
	if err != nil {
		return err
	}
	fmt.Fprint(w, d.Tables.Lookup(uintptr(va)))
	return nil
}

func (d *Dump) poolMon(w io.Writer, args []string) error {
	if len(args) != 0 {
		return console.ErrUsage
	}
	if d.PoolTags == nil {
		return errMissing
	}
	pool.WritePoolMon(w, d.PoolTags)
	return nil
}
