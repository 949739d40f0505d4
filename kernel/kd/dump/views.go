// The viewer's commands over a Dump, as kd> console commands so that the
// host viewer runs them through the same registry and dispatcher as the
// kernel's console: kd's own (db/dw/dd/dq, u, r, k, ln) over the dump's
// memory and thread context, and the memory manager's views
// (kernel/kd/mmext) over the dump's copies, the same code the live console
// runs. A view whose data the dump lacks says so (mmext.ErrNotHeld).

package dump

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/kernel/kd/dt"
	"ntgo/kernel/kd/mmext"
	"ntgo/kernel/ldr"
	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/securepool"
	"ntgo/mm/verifier"

	"ntgo/mm/vmstat"
	"ntgo/nt/bugcheck"
)

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

// noSymbols: without the kernel's ELF the dump has no symbol table, and
// the viewer's own (kd.RuntimeSymbols) would name the viewer's functions,
// not the kernel's.
type noSymbols struct{}

func (noSymbols) Frames(uintptr) []kd.Frame { return nil }

// withText reads the dump's pages, then the kernel's read-only segments.
type withText struct{ dump, text kd.Memory }

func (m withText) Read(addr uintptr, b []byte) bool {
	return m.dump.Read(addr, b) || m.text.Read(addr, b)
}

// Target is the debugger's view of the dump (with Kernel's symbols and
// text when it is set).
func (d *Dump) Target() *kd.Target {
	t := &kd.Target{Memory: d.memory, Symbols: noSymbols{},
		Context: func() (kd.Context, bool) { return d.Context, true },
		Stop:    func() (*bugcheck.Record, kd.Context) { return &d.Record, d.Context },
		Modules: func() []ldr.Module { return d.Modules }}
	if d.Kernel != nil {
		t.Memory, t.Symbols = withText{d.memory, d.Kernel}, d.Kernel
	}
	return t
}

// Commands returns the viewer's commands: kd's, dt and !thread over
// Target, and the memory manager's views.
func (d *Dump) Commands() []console.Command {
	t := d.Target()
	threads := func() ([]kd.Thread, error) { return held(d.Threads, d.Threads != nil) }
	processors := func() ([]kd.Processor, error) { return held(d.Processors, d.Processors != nil) }
	return slices.Concat(kd.Commands(t), dt.Commands(t), mmext.Commands(mmTarget{d}),
		[]console.Command{kd.ThreadsCommand(t, threads), kd.ProcessorsCommand(t, processors)})
}

// mmTarget is the memory manager's views' Target over the dump: a still
// picture, with the stopped thread's registers for @register arguments.
type mmTarget struct{ d *Dump }

func (t mmTarget) Names() console.Names { return kd.Names(&t.d.Context.Registers, nil) }
func (mmTarget) Live() bool             { return false }

// held is v, or ErrNotHeld if the dump lacks it.
func held[T any](v T, ok bool) (T, error) {
	if !ok {
		return v, mmext.ErrNotHeld
	}
	return v, nil
}

func (t mmTarget) PFN() (*pfn.Database, error) { return held(t.d.PFN, t.d.PFN != nil) }

func (t mmTarget) Lookup(va uintptr) (pte.Walk, error) {
	if t.d.PageTables == nil {
		return pte.Walk{}, mmext.ErrNotHeld
	}
	return t.d.PageTables.Lookup(va), nil
}

func (t mmTarget) VM() (vmstat.Report, error) { return held(t.d.VMReport()) }

func (t mmTarget) Reservation(va uintptr) (layout.Reservation, bool, error) {
	if t.d.Reservations == nil {
		return layout.Reservation{}, false, mmext.ErrNotHeld
	}
	r, ok := layout.FindReservation(t.d.Reservations, va)
	return r, ok, nil
}

func (t mmTarget) Pool() (mmext.Pool, error) {
	if t.d.Pool == nil {
		return nil, mmext.ErrNotHeld
	}
	return t.d.Pool, nil
}

func (t mmTarget) PoolTags() ([]pool.TagStat, error) { return held(t.d.PoolTags, t.d.PoolTags != nil) }

// Lookasides: a dump never holds them (each list's counters are read
// under its lock, which the failing code may hold).
func (mmTarget) Lookasides() ([]ex.LookasideInfo, error) { return nil, mmext.ErrNotHeld }

func (t mmTarget) SecurePools() (*securepool.Image, error) {
	return held(t.d.Secure, t.d.Secure != nil)
}

func (t mmTarget) Modules() ([]ldr.Module, error) { return held(t.d.Modules, t.d.Modules != nil) }

// TrimWorkingSet: a dump is a still picture.
func (mmTarget) TrimWorkingSet() (int, error) { return 0, mmext.ErrNotHeld }

// SpecialPool and Verifier: Driver Verifier's bookkeeping is not in a dump
// (it lives in the Go heap, under the verifier's lock).
func (mmTarget) SpecialPool() ([]verifier.Allocation, error) { return nil, mmext.ErrNotHeld }
func (mmTarget) Verifier(io.Writer) error                    { return mmext.ErrNotHeld }

// MatchKernel checks that k is the kernel that wrote the dump: its bytes
// at each code page the dump holds must be the dump's. checked is false
// when the dump holds no code to compare (written without Code).
func (d *Dump) MatchKernel(k KernelImage) (checked bool, err error) {
	for _, a := range slices.Sorted(maps.Keys(d.Code)) {
		var b [physmem.PageSize]byte
		if !k.Read(a, b[:]) || b != *d.Code[a] {
			return true, fmt.Errorf("the kernel ELF is not the one that wrote this dump: its code at %s differs", kd.FormatAddress(uint64(a)))
		}
	}
	return len(d.Code) > 0, nil
}
