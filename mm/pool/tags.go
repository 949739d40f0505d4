// Pool tag tracking.
//
// Every allocation and free is counted against its tag, per pool Kind:
// allocations, frees and bytes in use (block sizes including the header for
// small blocks, whole pages for big ones). This is NT's PoolTrackTable,
// which poolmon, !poolused and leak checks read.
//
// The table is a fixed array of TagTableSize slots, open-addressed by a
// hash of the tag. A slot's key is claimed once with a CAS and never
// released, and its counters are atomics, so the hot path (including
// lookaside hits) takes no lock: one probe sequence and two atomic adds.
// When every slot is taken, further tags are counted under TagOverflow, as
// NT does.
//
// Readers see each counter atomically but not the table as one snapshot;
// a report taken during activity is approximate, as poolmon's is.

package pool

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
)

const (
	tagTableShift = 11
	TagTableSize  = 1 << tagTableShift
	tagKeyUsed    = 1 << 32    // key bit marking a claimed slot; tag in the low half
	tagHashMul    = 0x9E3779B1 // 2^32 / golden ratio
	tagHashBits   = 32
)

// TagOverflow ("Ovfl") collects tags that found the table full.
const TagOverflow Tag = 0x6C66764F

// TagCounts are one tag's counters in one pool.
type TagCounts struct {
	Allocs, Frees uint64
	Bytes         int64 // in use
}

// TagStat is one tag's counters in every pool.
type TagStat struct {
	Tag   Tag
	Kinds [NumKinds]TagCounts
}

// Bytes is the tag's bytes in use across pools.
func (t TagStat) Bytes() int64 {
	var n int64
	for _, c := range t.Kinds {
		n += c.Bytes
	}
	return n
}

// Outstanding is the tag's allocations not yet freed across pools.
func (t TagStat) Outstanding() int64 {
	var n int64
	for _, c := range t.Kinds {
		n += int64(c.Allocs - c.Frees)
	}
	return n
}

type tagCounters struct {
	allocs, frees atomic.Uint64
	bytes         atomic.Int64
}

type tagEntry struct {
	key    atomic.Uint64
	counts [NumKinds]tagCounters
}

type tagTable struct {
	slots    [TagTableSize]tagEntry
	overflow tagEntry
}

func newTagTable() *tagTable {
	t := new(tagTable)
	t.overflow.key.Store(tagKeyUsed | uint64(TagOverflow))
	return t
}

func tagHash(tag Tag) uint32 { return uint32(tag) * tagHashMul >> (tagHashBits - tagTableShift) }

// entry is tag's slot, claimed on first use.
func (t *tagTable) entry(tag Tag) *tagEntry {
	want := tagKeyUsed | uint64(tag)
	i := tagHash(tag)
	for range TagTableSize {
		e := &t.slots[i]
		k := e.key.Load()
		if k == 0 && (e.key.CompareAndSwap(0, want) || e.key.Load() == want) || k == want {
			return e
		}
		i = (i + 1) & (TagTableSize - 1)
	}
	return &t.overflow
}

// find is tag's slot if it has one.
func (t *tagTable) find(tag Tag) *tagEntry {
	want := tagKeyUsed | uint64(tag)
	i := tagHash(tag)
	for range TagTableSize {
		switch e := &t.slots[i]; e.key.Load() {
		case want:
			return e
		case 0:
			return nil
		}
		i = (i + 1) & (TagTableSize - 1)
	}
	if tag == TagOverflow {
		return &t.overflow
	}
	return nil
}

func (t *tagTable) alloc(tag Tag, k Kind, bytes uintptr) {
	c := &t.entry(tag).counts[k]
	c.allocs.Add(1)
	c.bytes.Add(int64(bytes))
}

func (t *tagTable) free(tag Tag, k Kind, bytes uintptr) {
	c := &t.entry(tag).counts[k]
	c.frees.Add(1)
	c.bytes.Add(-int64(bytes))
}

func (e *tagEntry) stat() TagStat {
	s := TagStat{Tag: Tag(e.key.Load())}
	for k := range e.counts {
		c := &e.counts[k]
		s.Kinds[k] = TagCounts{Allocs: c.allocs.Load(), Frees: c.frees.Load(), Bytes: c.bytes.Load()}
	}
	return s
}

// all is every tag seen so far, including TagOverflow if it was used.
func (t *tagTable) all() []TagStat {
	var out []TagStat
	for i := range t.slots {
		if t.slots[i].key.Load() != 0 {
			out = append(out, t.slots[i].stat())
		}
	}
	if o := t.overflow.stat(); o.Kinds != ([NumKinds]TagCounts{}) {
		out = append(out, o)
	}
	return out
}

// PoolMon is every tag's counters, most bytes in use first (ties by tag),
// as poolmon sorts them.
func (s *System) PoolMon() []TagStat {
	out := s.tags.all()
	slices.SortFunc(out, func(a, b TagStat) int {
		if c := cmp.Compare(b.Bytes(), a.Bytes()); c != 0 {
			return c
		}
		return cmp.Compare(a.Tag, b.Tag)
	})
	return out
}

// PoolUsed is !poolused for one tag; ok is false for a tag never used.
func (s *System) PoolUsed(tag Tag) (TagStat, bool) {
	if e := s.tags.find(tag); e != nil {
		return e.stat(), true
	}
	return TagStat{}, false
}

// Leaks reports the tags with allocations outstanding, most bytes first,
// restricted to tags when any are given (the tags a driver owns).
func (s *System) Leaks(tags ...Tag) []TagStat {
	var out []TagStat
	for _, t := range s.PoolMon() {
		if t.Outstanding() != 0 && (len(tags) == 0 || slices.Contains(tags, t.Tag)) {
			out = append(out, t)
		}
	}
	return out
}

// WritePoolMon prints stats as PoolMon does: one row per tag and pool with
// allocations, frees, their difference and bytes in use, in the order
// given (PoolMon's is by bytes, descending).
func WritePoolMon(w io.Writer, stats []TagStat) {
	fmt.Fprintf(w, "%-4s %-18s %10s %10s %10s %12s\n", "Tag", "Pool", "Allocs", "Frees", "Diff", "Bytes")
	for _, t := range stats {
		for k, c := range t.Kinds {
			if c.Allocs == 0 && c.Frees == 0 {
				continue
			}
			fmt.Fprintf(w, "%-4v %-18v %10d %10d %10d %12d\n", t.Tag, Kind(k), c.Allocs, c.Frees, int64(c.Allocs-c.Frees), c.Bytes)
		}
	}
}
