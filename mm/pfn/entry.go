// PFN database entries.
//
// One Entry describes one 4 KiB physical frame; the database is an array of
// them indexed by frame number, like NT's MmPfnDatabase of _MMPFN. The array
// lives outside the Go heap (in the kernel, in the PFN-database region of the
// address space), so an Entry holds no Go pointers: list links are 32-bit
// frame numbers and the PTE that maps the frame is kept as its virtual
// address.
//
// Layout, 32 bytes (NT's _MMPFN is 48):
//
//	flink, blink  uint32   list links (frame numbers), noLink when off a list
//	pte           uintptr  VA of the PTE that maps the frame, 0 if none
//	originalPte   uint64   what that PTE must hold again if the frame is taken away
//	shareCount    uint32   PTEs that map the frame validly
//	refCount      uint16   one while shareCount > 0, plus one per lock (MDL, I/O)
//	state         State    which list the frame is on, or Active/Transition/Reserved
//	flags         uint8    cache attribute (bits 0-1) and the flag bits below
//
// NT overlays the links with the share count, since a frame on a list has no
// sharers; here every field has its own slot, which 32 bytes allow, and Check
// can verify that fields meaningless in a state are clear.
//
// Invariants per state (Check enforces them):
//
//	state            on a list  ref  share  pte  flags
//	Zeroed           yes        0    0      0    none; contents are all zeros
//	Free             yes        0    0      0    none
//	Standby          yes        0    0      ≠0   clean: a copy exists elsewhere
//	Modified         yes        0    0      ≠0   modified (+removal requested)
//	ModifiedNoWrite  yes        0    0      ≠0   modified, noWrite (+removal requested)
//	Bad              yes        0    0      0    none; never allocated again
//	Active           no         ≥1   ≥1     any  any
//	Transition       no         ≥1   0      any  not contiguous
//	Reserved         no         0    0      0    none; not RAM (hole, firmware)
//
// A Standby or Modified frame is what NT calls a transition page: its owner's
// PTE is invalid but still names the frame, so a later touch can take it back
// (Reclaim) without I/O. The Transition state proper is a frame whose last
// mapping is gone while a lock (MDL, I/O) still holds it; it reaches a list
// when the last lock is dropped. A pte of 0 in Active or Transition means the
// owner deleted its PTE: the frame goes to the free list, not standby.
//
// The cache attribute is NotMapped exactly in the states nobody can map the
// frame from (Zeroed, Free, Bad, Reserved); Standby and Modified frames keep
// the attribute their owner will map them with again.

package pfn

import (
	"fmt"
	"unsafe"
)

// State is a frame's page location. The values of the list states and of
// Active and Transition are NT's MMLISTS numbers, so they read the same as in
// NT's `!pfn` output.
type State uint8

const (
	StateZeroed          State = 0 // ZeroedPageList
	StateFree            State = 1 // FreePageList
	StateStandby         State = 2 // StandbyPageList
	StateModified        State = 3 // ModifiedPageList
	StateModifiedNoWrite State = 4 // ModifiedNoWritePageList
	StateBad             State = 5 // BadPageList
	StateActive          State = 6 // ActiveAndValid
	StateTransition      State = 7 // TransitionPage
	StateReserved        State = 8 // ntgo: not RAM; NT leaves such frames out of the database

	// NumStates is one more than the highest state.
	NumStates = 9
	// numLists is the number of page lists: the states below it each have one.
	numLists = StateActive
)

var stateNames = [NumStates]string{
	StateZeroed:          "Zeroed",
	StateFree:            "Free",
	StateStandby:         "Standby",
	StateModified:        "Modified",
	StateModifiedNoWrite: "ModifiedNoWrite",
	StateBad:             "Bad",
	StateActive:          "Active",
	StateTransition:      "Transition",
	StateReserved:        "Reserved",
}

func (s State) String() string {
	if s < NumStates {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// listed reports whether frames in state s are on a page list.
//
//go:nosplit
func (s State) listed() bool { return s < numLists }

// Cache is a frame's caching attribute, with NT's MI_PFN_CACHE_ATTRIBUTE
// values (the first three equal MEMORY_CACHING_TYPE's MmNonCached, MmCached
// and MmWriteCombined).
type Cache uint8

const (
	Uncached      Cache = 0
	Cached        Cache = 1
	WriteCombined Cache = 2
	NotMapped     Cache = 3 // frames that nobody maps: everything off Active/Transition/Standby/Modified*

	numCaches = 4
)

var cacheNames = [numCaches]string{"Uncached", "Cached", "WriteCombined", "NotMapped"}

func (c Cache) String() string { return cacheNames[c&cacheMask] }

// Entry flag bits.
const (
	cacheMask    = 3      // bits 0-1: the Cache attribute
	flagModified = 1 << 2 // contents differ from any backing copy
	flagNoWrite  = 1 << 3 // modified, but may not be written out yet (ModifiedNoWrite)
	// flagRemovalRequested marks a frame found bad while in use; it goes to
	// the bad list instead of a reusable one when released.
	flagRemovalRequested = 1 << 4
	flagContiguous       = 1 << 5 // part of an AllocateContiguous run
	flagStartOfRun       = 1 << 6 // first frame of that run
)

// Entry is one frame's record. Its fields are private: the database changes
// them only under its lock, and Decode reports them.
type Entry struct {
	flink, blink uint32
	pte          uintptr
	originalPte  uint64
	shareCount   uint32
	refCount     uint16
	state        State
	flags        uint8
}

// EntrySize is the bytes of one Entry: what each frame up to the highest
// RAM frame costs the database.
const EntrySize = unsafe.Sizeof(Entry{})

// refLimit caps refCount below the field's maximum, leaving room for the one
// reference a reclaimed Transition frame gains when it is mapped again.
const refLimit = 1<<16 - 2

// maxShare is the largest share count the field holds.
const maxShare = 1<<32 - 1

// cache is the entry's cache attribute, setCache changes it.
//
//go:nosplit
func (e *Entry) cache() Cache { return Cache(e.flags & cacheMask) }

//go:nosplit
func (e *Entry) setCache(c Cache) { e.flags = e.flags&^cacheMask | uint8(c) }
