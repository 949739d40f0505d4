// Statistics and entry decoding, for the debugger's !memusage and !pfn.
//
// Both copy what they report under the lock and format it afterwards, so the
// formatting, which allocates, never runs with interrupts off.

package pfn

import (
	"fmt"
	"strings"

	"ntgo/mm/physmem"
)

// Stats is a snapshot of the database's counts.
type Stats struct {
	// Frames is the number of entries: RAM, holes and reserved ranges up
	// to the highest RAM frame.
	Frames uint64
	// ByState counts the frames in each state; for a list state it is the
	// list's length.
	ByState [NumStates]uint64
	// Deferred is the RAM above Frames not yet in the database
	// (InitLazy), nearly all of it free: it joins the lists as the
	// database grows.
	Deferred uint64
}

// Stats returns the current counts.
func (db *Database) Stats() Stats {
	db.lock.Acquire()
	s := Stats{Frames: uint64(len(db.entries)), ByState: db.count, Deferred: db.deferred}
	db.lock.Release()
	return s
}

// RAM is the number of frames of RAM: every frame but the reserved ones,
// and the deferred ones to come.
func (s Stats) RAM() uint64 { return s.Frames - s.ByState[StateReserved] + s.Deferred }

// Available is the number of frames an allocation can take (NT's
// MmAvailablePages): zeroed, free and standby.
func (s Stats) Available() uint64 { return available(&s.ByState) }

// DatabaseBytes is the size of the database's entries: one per frame up to
// the highest RAM frame, holes included.
func (s Stats) DatabaseBytes() uint64 { return s.Frames * uint64(EntrySize) }

// DatabasePercentOfRAM is what the database costs, in percent of RAM.
func (s Stats) DatabasePercentOfRAM() float64 {
	return float64(s.DatabaseBytes()) * percent / float64(s.RAM()*physmem.PageSize)
}

const percent = 100

// String is a !memusage-style table of frames and kilobytes per state.
func (s Stats) String() string {
	var b strings.Builder
	row := func(name string, n uint64) {
		fmt.Fprintf(&b, "%-16s %10d (%12d kb)\n", name+":", n, n*physmem.PageSize/1024)
	}
	for st := range State(NumStates) {
		row(st.String(), s.ByState[st])
	}
	row("Available", s.Available())
	if s.Deferred != 0 {
		row("Deferred", s.Deferred)
	}
	row("Total", s.Frames)
	return b.String()
}

// NoFrame is the link value Info reports for "no neighbour".
const NoFrame physmem.PFN = noLink

// Info is one decoded entry.
type Info struct {
	Frame       physmem.PFN
	State       State
	RefCount    uint16
	ShareCount  uint32
	Pte         uintptr // VA of the PTE mapping the frame, 0 if none
	OriginalPte uint64  // restored into Pte if the frame is taken away
	Cache       Cache
	// Flags.
	Modified, NoWrite, RemovalRequested, Contiguous, StartOfRun bool
	// List neighbours, NoFrame at a list end or off the lists.
	Flink, Blink physmem.PFN
}

// Decode returns frame p's entry, or false if p is beyond the database.
func (db *Database) Decode(p physmem.PFN) (Info, bool) {
	if p >= db.Frames() {
		return Info{}, false
	}
	db.lock.Acquire()
	e := db.entries[p]
	db.lock.Release()
	return Info{
		Frame:            p,
		State:            e.state,
		RefCount:         e.refCount,
		ShareCount:       e.shareCount,
		Pte:              e.pte,
		OriginalPte:      e.originalPte,
		Cache:            e.cache(),
		Modified:         e.flags&flagModified != 0,
		NoWrite:          e.flags&flagNoWrite != 0,
		RemovalRequested: e.flags&flagRemovalRequested != 0,
		Contiguous:       e.flags&flagContiguous != 0,
		StartOfRun:       e.flags&flagStartOfRun != 0,
		Flink:            physmem.PFN(e.flink),
		Blink:            physmem.PFN(e.blink),
	}, true
}

// String formats the entry as !pfn does, flags as letters: M modified,
// W no-write, R removal requested, C contiguous, S start of run.
func (i Info) String() string {
	flags := ""
	for _, f := range [...]struct {
		on     bool
		letter string
	}{{i.Modified, "M"}, {i.NoWrite, "W"}, {i.RemovalRequested, "R"}, {i.Contiguous, "C"}, {i.StartOfRun, "S"}} {
		if f.on {
			flags += f.letter
		}
	}
	if flags == "" {
		flags = "-"
	}
	return fmt.Sprintf("PFN %08x  %s  flink %s  blink %s  share %d  ref %d  pte %016x  original %016x  %v  flags %s",
		uint64(i.Frame), i.State, link(i.Flink), link(i.Blink), i.ShareCount, i.RefCount, i.Pte, i.OriginalPte, i.Cache, flags)
}

// link formats a list link.
func link(p physmem.PFN) string {
	if p == NoFrame {
		return "--------"
	}
	return fmt.Sprintf("%08x", uint64(p))
}
