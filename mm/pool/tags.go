// Pool tag tracking.
//
// Every allocation and free is counted against its tag, per pool Kind:
// allocations, frees and bytes in use (block sizes including the header for
// small blocks, whole pages for big ones). This is NT's PoolTrackTable,
// which poolmon, !poolused and leak checks read.
//
// The table is a fixed array of TagTableSize slots, open-addressed by a
// hash of the tag. A slot's key is claimed once with a CAS and never
// released. Each slot has counters in two places: atomics in the shared
// table, which the full allocation and free paths add to, and plain words
// in every processor's PerCPU under its busy word, which the lookaside hits
// add to (NT also keeps a tag table per processor). A tag's figures are the
// sum (SumTags, which poolmon, !poolused, !vm, the descriptors' counters
// and the crash dump read), exact when nothing runs. When every slot is
// taken, further tags are counted under TagOverflow, as NT does.
//
// Readers see each counter whole but not the table as one snapshot; a
// report taken during activity is approximate, as poolmon's is.

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

// overflowSlot is the slot number of the overflow entry.
const overflowSlot = TagTableSize

// firstProbe is tag's slot number if tag holds the first slot its hash
// probes, else -1 (then ask slot): the tag counters' common case, inlined.
func (t *tagTable) firstProbe(tag Tag) int {
	if i := tagHash(tag); t.slots[i].key.Load() == tagKeyUsed|uint64(tag) {
		return int(i)
	}
	return -1
}

// slotOf is tag's slot number, claimed on first use.
func (t *tagTable) slotOf(tag Tag) int {
	if i := t.firstProbe(tag); i >= 0 {
		return i
	}
	return t.slot(tag)
}

// slot is tag's slot number, claimed on first use; overflowSlot when the
// table is full.
func (t *tagTable) slot(tag Tag) int {
	want := tagKeyUsed | uint64(tag)
	i := tagHash(tag)
	for range TagTableSize {
		e := &t.slots[i]
		k := e.key.Load()
		if k == 0 && (e.key.CompareAndSwap(0, want) || e.key.Load() == want) || k == want {
			return int(i)
		}
		i = (i + 1) & (TagTableSize - 1)
	}
	return overflowSlot
}

// find is tag's slot number if it has one.
func (t *tagTable) find(tag Tag) (int, bool) {
	want := tagKeyUsed | uint64(tag)
	i := tagHash(tag)
	for range TagTableSize {
		switch t.slots[i].key.Load() {
		case want:
			return int(i), true
		case 0:
			return 0, false
		}
		i = (i + 1) & (TagTableSize - 1)
	}
	return overflowSlot, tag == TagOverflow
}

// at is the shared entry of slot i.
func (t *tagTable) at(i int) *tagEntry {
	if i == overflowSlot {
		return &t.overflow
	}
	return &t.slots[i]
}

func (t *tagTable) alloc(tag Tag, k Kind, bytes uintptr) {
	c := &t.at(t.slotOf(tag)).counts[k]
	c.allocs.Add(1)
	c.bytes.Add(int64(bytes))
}

func (t *tagTable) free(tag Tag, k Kind, bytes uintptr) {
	c := &t.at(t.slotOf(tag)).counts[k]
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

// sum is the counters of the given slots, the shared table's plus every
// processor's.
func (s *System) sum(slots []int) []TagStat {
	out := make([]TagStat, len(slots))
	for j, i := range slots {
		out[j] = s.tags.at(i).stat()
	}
	for _, c := range s.allCPUs() {
		held := c.wait()
		for j, i := range slots {
			for k := range out[j].Kinds {
				o, p := &out[j].Kinds[k], &c.tags[i][k]
				o.Allocs += p.Allocs
				o.Frees += p.Frees
				o.Bytes += p.Bytes
			}
		}
		if held {
			c.release()
		}
	}
	return out
}

// SumTags is every tag seen so far, including TagOverflow if it was used,
// with its counters summed over the shared table and every processor: what
// poolmon, !poolused, !vm and the crash dump report. Unsorted.
func (s *System) SumTags() []TagStat {
	var slots []int
	for i := range s.tags.slots {
		if s.tags.slots[i].key.Load() != 0 {
			slots = append(slots, i)
		}
	}
	out := s.sum(append(slots, overflowSlot))
	if o := out[len(out)-1]; o.Kinds == ([NumKinds]TagCounts{}) {
		out = out[:len(out)-1]
	}
	return out
}

// PoolMon is every tag's counters (SumTags), most bytes in use first (ties
// by tag), as poolmon sorts them.
func (s *System) PoolMon() []TagStat {
	out := s.SumTags()
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
	if i, ok := s.tags.find(tag); ok {
		return s.sum([]int{i})[0], true
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
