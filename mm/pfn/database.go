// Package pfn is NT's PFN database: one entry per physical frame, the page
// lists that hold every frame nobody uses (zeroed, free, standby, modified,
// modified-no-write, bad), and the moves between them.
//
// # Structure
//
// The database is an array of Entry indexed by frame number, from frame 0 to
// the highest RAM frame of the boot memory map. Holes and firmware ranges
// below that frame have Reserved entries, so a frame's entry is always at its
// index. The array's memory belongs to the caller (Size says how much): in
// the kernel it is the PFN-database region of the address space backed by
// boot frames, on the host an ordinary slice. A Database holds the list
// heads (Zeroed and Free per NUMA node), the per-state counts, the node
// table (node.go), the lock, the Memory used to zero frames and the
// TransitionHook.
//
// # Life of a frame
//
//	Free ──ZeroSome──▶ Zeroed
//	Zeroed, Free, Standby ──AllocateZeroed/AllocateAny──▶ Active (ref 1, share 1)
//	Active ──AddShare, Reference──▶ Active
//	Active ──Free (owner deletes its PTE) or Unmap (owner keeps a transition PTE)──▶
//	    the last share gone: Transition while still locked, then at ref 0:
//	    PTE deleted → Free;  clean → Standby;  dirty → Modified or ModifiedNoWrite
//	Standby, Modified*, Transition ──Reclaim (soft fault)──▶ Active
//	Standby, Modified* ──DeleteTransition──▶ Free
//	ModifiedNoWrite ──AllowWrite──▶ Modified ──ModifiedToStandby (written)──▶ Standby
//	Standby ──StandbyToFree or reuse by an allocation──▶ owner told through the TransitionHook
//	any RAM frame ──MarkBad──▶ Bad: at once if unused, on release if in use
//	Zeroed, Free, Standby runs ──AllocateContiguous──▶ Active ──FreeContiguous──▶ Free
//
// # Large memory
//
// InitLazy builds only the first frames' entries (the kernel: 256 MiB
// worth) and leaves the rest of the storage for GrowSome, which the idle
// loop calls and an allocation that finds nothing calls first (grow_trap.go):
// a frame beyond Frames is not yet in the database, its RAM counted as
// Deferred. Boot time then does not grow with memory.
//
// # Allocation order
//
// As NT's MiRemoveZeroPage and MiRemoveAnyPage:
//
//	zeroed page: Zeroed, then Free (zeroed on the spot), then Standby (zeroed)
//	any page:    Free, then Zeroed, then Standby
//
// A request that does not need zeros prefers Free so the zeroing already done
// stays available to requests that do. Standby comes last because its frames
// still hold data an owner may want back. Modified frames are never taken:
// their contents exist nowhere else until written.
//
// Zeroed and Free are tried on the preferred node first (the current
// processor's, ke.GetCurrentNodeNumber, unless the caller names one), then
// on the other nodes in turn from the next one up, then Standby; a request
// that requires its node takes nothing from another (from Standby only a
// frame on that node). Contiguous runs likewise look on the node first.
//
// # Locking and context
//
// One lock (ke.SpinLock, the PFN lock) guards every entry, list and
// count; each exported method that touches them takes it (ZeroSome twice
// per frame, clearing the frame in between) and calls no other that does.
// The operations on single frames are trap-context safe (//go:nosplit, no Go-heap allocation,
// no Go pointer stores) and live in *_trap.go files: AllocateZeroed,
// AllocateAny, Reclaim, Free, Unmap, AddShare, Reference, Dereference and
// ZeroSome. Their only dynamic calls are Memory.ZeroFrame and the
// TransitionHook, which in the kernel must be trap-safe as well. Init,
// AllocateContiguous and FreeContiguous (they scan), the explicit moves of
// transition.go, Decode/String and Check are for goroutines.
//
// Those keep the trap-context rule for as long as they hold the lock:
// everything that runs between Acquire and Release, in any file, is
// //go:nosplit and allocates nothing from the Go heap. With interrupts off,
// a stack check may grow the stack and an allocation may assist the garbage
// collector, and either can wait on what the one CPU no longer runs (mm's
// package comment, "Interfaces in trap context"). Their own stack check runs
// before they take the lock, and what allocates (Check's error, the text of
// Info and Stats) after they release it. lockheld_test.go holds the package
// to this, in the sources and in the compiled code.
//
// # Errors
//
// Running out of frames is not an error of the database: allocations report
// it and the caller decides. Misuse and corruption bugcheck with NT's codes;
// bugcheck_trap.go lists the subtypes.
package pfn

import (
	"unsafe"

	"ntgo/mm/physmem"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// RangeType says what a range of the boot memory map holds.
type RangeType uint8

const (
	// RangeFree is RAM nobody uses yet; its frames start on the free list.
	RangeFree RangeType = iota
	// RangeInUse is RAM already in use when the database is built (kernel
	// image, boot page tables, the database itself): its frames start
	// Active with one reference and one share, so they can be freed later.
	RangeInUse
	// RangeReserved is not RAM the memory manager may hand out (firmware,
	// ACPI, MMIO). Its frames are Reserved.
	RangeReserved
)

// Range is one entry of the boot memory map, in bytes.
type Range struct {
	Base, Length uint64
	Type         RangeType
}

// TransitionHook tells the owner of a transition PTE that the standby (or
// bad-marked) frame it names is being taken away: the owner writes
// originalPte back into the PTE at pte, as NT's MiRestoreTransitionPte does.
// It runs with the PFN lock held, possibly in trap context.
type TransitionHook func(p physmem.PFN, pte uintptr, originalPte uint64)

// Database is the PFN database. Its zero value is unusable; call Init.
type Database struct {
	lock    ke.SpinLock
	entries []Entry
	lists   [numHeads]listHead
	count   [NumStates]uint64
	nodes   nodeTable
	// ranges is the memory map, and deferred the frames of RAM above
	// Frames that GrowSome has yet to add (InitLazy).
	ranges   []Range
	deferred uint64
	mem      physmem.Memory
	hook     TransitionHook
}

// Size returns how many entries, and how many bytes of storage, the database
// for memory map m needs: one entry per frame up to the highest frame of a
// RangeFree or RangeInUse range. Reserved ranges above that frame cost
// nothing. It fails with STATUS_INVALID_PARAMETER for a range that wraps
// around or has an unknown type, and STATUS_NOT_SUPPORTED if the highest
// frame does not fit a 32-bit link.
func Size(m []Range) (frames physmem.PFN, bytes uintptr, st ntstatus.Status) {
	for _, r := range m {
		if r.Type > RangeReserved || r.Base+r.Length < r.Base {
			return 0, 0, ntstatus.InvalidParameter
		}
		if r.Type == RangeReserved {
			continue
		}
		first, end := r.frames()
		if first < end && end > frames {
			frames = end
		}
	}
	if frames > noLink {
		return 0, 0, ntstatus.NotSupported
	}
	return frames, uintptr(frames) * EntrySize, ntstatus.Success
}

// frames is the frame range [first, end) that r covers: only whole frames of
// free RAM count as free, while a frame partly in use or reserved is wholly so.
//
//go:nosplit
func (r Range) frames() (first, end physmem.PFN) {
	last := r.Base + r.Length
	if r.Type == RangeFree {
		return frameAbove(r.Base), physmem.FrameOf(last)
	}
	return physmem.FrameOf(r.Base), frameAbove(last)
}

// frameAbove is the first frame starting at or above physical address a.
//
//go:nosplit
func frameAbove(a uint64) physmem.PFN {
	f := physmem.FrameOf(a)
	if a&physmem.PageMask != 0 {
		f++
	}
	return f
}

// Init builds the database for memory map m in storage, which must hold at
// least Size(m) entries, and zeroes frames through mem. Where ranges overlap,
// reserved beats in-use beats free. Frames that no range covers are Reserved.
// Init replaces any earlier contents, TransitionHook and nodes included:
// every frame is on node 0 until SetNodes.
//
// It writes each entry once, in one pass over the frames: the memory map
// cuts the frames into segments that no range starts or ends inside, each
// segment's state is decided once (segment), and a free segment is linked
// onto the tail of its node's free list as it is written, so boot time
// grows with memory by one entry store per frame.
func (db *Database) Init(storage []Entry, m []Range, mem physmem.Memory) ntstatus.Status {
	return db.InitLazy(storage, m, mem, noLink)
}

// InitLazy is Init that writes the entries of the first eager frames only,
// as NT defers most of a large machine's PFN database: the frames above
// are not yet in the database (Frames counts the written ones), their RAM
// is counted as Deferred, and GrowSome writes them later, a chunk at a
// time, from the idle loop; an allocation that finds no frame grows the
// database itself first. m must stay unchanged until the database is
// whole.
func (db *Database) InitLazy(storage []Entry, m []Range, mem physmem.Memory, eager physmem.PFN) ntstatus.Status {
	n, _, st := Size(m)
	if st != ntstatus.Success {
		return st
	}
	if physmem.PFN(len(storage)) < n {
		return ntstatus.BufferTooSmall
	}
	*db = Database{entries: storage[:0:n], ranges: m, mem: mem, nodes: oneNode}
	for i := range db.lists {
		db.lists[i] = listHead{first: noLink, last: noLink}
	}
	// Every frame of RAM is deferred until grow adds it.
	for p := physmem.PFN(0); p < n; {
		t, end := segment(m, p, n)
		if t != RangeReserved {
			db.deferred += uint64(end - p)
		}
		p = end
	}
	db.grow(min(eager, n))
	return ntstatus.Success
}

// segment is the type that frame p takes (the strongest of the ranges that
// cover it, RangeReserved if none does) and the end of the run of frames
// from p, at most n, that the same ranges cover.
//
//go:nosplit
func segment(m []Range, p, n physmem.PFN) (RangeType, physmem.PFN) {
	t, covered, end := RangeFree, false, n
	for _, r := range m {
		first, last := r.frames()
		if first >= last {
			continue
		}
		switch {
		case p < first:
			end = min(end, first)
		case p < last:
			end = min(end, last)
			t, covered = max(t, r.Type), true
		}
	}
	if !covered {
		t = RangeReserved
	}
	return t, end
}

// fill writes the entries of frames [p, end) for type t, counts them, and
// links free ones at the tail of the free list of p's node (the frames of
// one node: grow cuts at node boundaries).
//
//go:nosplit
func (db *Database) fill(p, end uint32, t RangeType) {
	e := db.entries[p:end]
	switch t {
	case RangeReserved:
		for i := range e {
			e[i] = reservedEntry
		}
		db.count[StateReserved] += uint64(len(e))
	case RangeInUse:
		for i := range e {
			e[i] = inUseEntry
		}
		db.count[StateActive] += uint64(len(e))
	case RangeFree:
		// The entries as words: one store each, the links in the first
		// (flink low, blink high), the state and cache attribute in the
		// last, which is how boot time stays one entry store per frame
		// under TCG, where every store is a softmmu lookup.
		w := unsafe.Slice((*[entryWords]uint64)(unsafe.Pointer(&e[0])), len(e))
		for i := range w {
			q := uint64(p) + uint64(i)
			w[i] = [entryWords]uint64{(q + 1) | (q-1)<<32, 0, 0, freeEntryTail}
		}
		h := &db.lists[nodeList(db.nodes.nodeOf(p), StateFree)]
		e[0].blink = h.last
		if h.last == noLink {
			h.first = p
		} else {
			db.entries[h.last].flink = p
		}
		e[len(e)-1].flink = noLink
		h.last = end - 1
		h.n += uint64(len(e))
		db.count[StateFree] += uint64(len(e))
	}
}

// entryWords is an Entry in 64-bit words, and freeEntryTail the last word
// of a free frame's entry: share and reference 0, state Free, NotMapped.
const (
	entryWords    = EntrySize / 8
	freeEntryTail = uint64(StateFree)<<48 | uint64(NotMapped)<<56
)

// reservedEntry is the entry of a frame that is not RAM; a free frame's
// differs only in state and links.
var reservedEntry = Entry{flink: noLink, blink: noLink, state: StateReserved, flags: uint8(NotMapped)}

// inUseEntry is the entry of a frame in use at boot: Active, with the one
// reference and share that its eventual Free releases.
var inUseEntry = Entry{flink: noLink, blink: noLink, refCount: 1, shareCount: 1, state: StateActive, flags: uint8(Cached)}

// SetTransitionHook installs h, called whenever a frame that a transition PTE
// still names is taken from its owner. Without a hook such frames are simply
// reused (host tests that have no page tables).
func (db *Database) SetTransitionHook(h TransitionHook) {
	db.lock.Acquire()
	db.hook = h
	db.lock.Release()
}

// Move tells the database that its entries are now reached at storage (the
// same memory under a new mapping: the kernel moves them from the boot
// identity map to the PFN-database region) and frame contents through mem.
// Entries link by index, so nothing inside them changes.
//
//go:nosplit
func (db *Database) Move(storage []Entry, mem physmem.Memory) {
	db.lock.Acquire()
	db.entries = storage[:len(db.entries)]
	db.mem = mem
	db.lock.Release()
}

// Frames is the number of entries: the highest frame plus one.
//
//go:nosplit
func (db *Database) Frames() physmem.PFN { return physmem.PFN(len(db.entries)) }
