// Decoding a translation: the walker's read side, for `!pte <va>` and for
// Translate.
//
// Lookup reads the entries on va's path top-down through the Tables, as the
// CPU would, stopping at the first entry that is not present or that maps a
// large page. It works for any canonical address, PTE space included: there
// the recursion simply decodes the tables' own mappings.

package pte

import (
	"fmt"
	"strings"
)

// Walk is the decoded path of one virtual address.
type Walk struct {
	VA uintptr
	// Depth is how many levels were read, from PML4 down: 4 for a path that
	// reached a PT, fewer where it stopped, 0 for a non-canonical address.
	Depth int
	// Entries holds the entries read, indexed by Level.
	Entries [PML4 + 1]PTE
}

// Lookup decodes va's translation. It is nosplit, as is all it calls: the
// kernel's debugger view runs it in a goroutine holding the interrupt-
// disabling page-table lock, where a stack check could yield to a
// preemption request with the lock held.
//
//go:nosplit
func (p *PageTables) Lookup(va uintptr) Walk {
	w := Walk{VA: va}
	if !IsCanonical(va) {
		return w
	}
	for l := PML4; ; l-- {
		e := p.tables.Load(l, va)
		w.Entries[l] = e
		w.Depth++
		if l == PT || !e.Valid() || (l != PML4 && e.Large()) {
			return w
		}
	}
}

// Last is the lowest level read and its entry: the leaf of a full walk, the
// large-page entry, or the entry that was not present. Depth must be > 0.
// Like Lookup it is nosplit, as are PhysAddr and Protection: the MDL code
// calls them under the page-table lock.
//
//go:nosplit
func (w Walk) Last() (Level, PTE) {
	l := PML4 + 1 - Level(w.Depth)
	return l, w.Entries[l]
}

// PhysAddr is the physical address va translates to, if a present leaf (of
// a 4 KiB or large page) maps it.
//
//go:nosplit
func (w Walk) PhysAddr() (uint64, bool) {
	if w.Depth == 0 {
		return 0, false
	}
	l, e := w.Last()
	if !e.Valid() {
		return 0, false
	}
	// A large leaf's frame field also holds its PAT bit (LargePAT); the
	// page offset mask drops it.
	offset := uint64(1)<<l.Shift() - 1
	return uint64(e&FrameMask)&^offset | uint64(w.VA)&offset, true
}

// Protection is the effective protection of a translated page: writable
// only if every level allows writes, executable only if none has NX, as the
// CPU combines them. Zero if va is not mapped.
//
//go:nosplit
func (w Walk) Protection() Protection {
	if _, ok := w.PhysAddr(); !ok {
		return 0
	}
	combined := Write
	for i := range w.Depth {
		e := w.Entries[PML4-Level(i)]
		combined &^= Write &^ e
		combined |= NX & e
	}
	return hardwareProtection(combined)
}

// Translate is the physical address of va, if it is mapped.
func (p *PageTables) Translate(va uintptr) (uint64, bool) { return p.Lookup(va).PhysAddr() }

// String prints the walk as `!pte` does: each level's entry address and
// decoded contents, and for a present leaf the effective protection and the
// cache type.
func (w Walk) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "VA %016x\n", w.VA)
	if w.Depth == 0 {
		s.WriteString("not a canonical address\n")
		return s.String()
	}
	last, e := w.Last()
	for i := range w.Depth {
		l := PML4 - Level(i)
		fmt.Fprintf(&s, "%v at %016x  %v", l, EntryAddress(l, w.VA), w.Entries[l])
		if l == last && e.Valid() {
			if l != PT {
				s.WriteString(" large page")
			}
			fmt.Fprintf(&s, " %v %v", w.Protection(), e.Cache())
		}
		s.WriteByte('\n')
	}
	return s.String()
}
