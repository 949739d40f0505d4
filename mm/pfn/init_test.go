package pfn

import (
	"math/rand/v2"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/mm/pool/interleave"
)

// referenceInit is the database Init built before the one-pass version: a
// reserved entry everywhere, then the ranges marked free, in use and
// reserved in that order (so the stronger type wins), then every free frame
// inserted at the tail of the free list in frame order. Init must build
// exactly this.
func referenceInit(db *Database, storage []Entry, m []Range) {
	n, _, _ := Size(m)
	*db = Database{entries: storage[:n], nodes: oneNode}
	for i := range db.lists {
		db.lists[i] = listHead{first: noLink, last: noLink}
	}
	for i := range db.entries {
		db.entries[i] = reservedEntry
	}
	for _, t := range [...]RangeType{RangeFree, RangeInUse, RangeReserved} {
		for _, r := range m {
			if r.Type != t {
				continue
			}
			first, end := r.frames()
			for p := first; p < min(end, n); p++ {
				switch t {
				case RangeFree:
					db.entries[p].state = StateFree
				case RangeInUse:
					db.entries[p] = inUseEntry
				default:
					db.entries[p] = reservedEntry
				}
			}
		}
	}
	for p := range db.entries {
		e := &db.entries[p]
		if e.state != StateFree {
			db.count[e.state]++
			continue
		}
		e.state = StateReserved
		db.count[StateReserved]++
		db.insert(uint32(p), StateFree)
	}
}

// randomMap is up to 12 ranges of every type over 600 frames, overlapping,
// with unaligned ends.
func randomMap(r *rand.Rand) []Range {
	m := make([]Range, r.IntN(12))
	for i := range m {
		m[i] = Range{Base: uint64(r.IntN(600*page)) &^ uint64(r.IntN(2)*physmem.PageMask),
			Length: uint64(r.IntN(200 * page)), Type: RangeType(r.IntN(3))}
	}
	return m
}

// The one-pass Init builds the same entries, lists and counts as the
// reference for random memory maps.
func TestInitMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 4))
	for i := range 2000 {
		m := randomMap(r)
		n, _, _ := Size(m)
		var got, want Database
		if st := got.Init(make([]Entry, n), m, nil); st != 0 {
			t.Fatalf("map %d %+v: Init: %v", i, m, st)
		}
		referenceInit(&want, make([]Entry, n), m)
		if got.lists != want.lists || got.count != want.count {
			t.Fatalf("map %d %+v:\nlists %v counts %v\nwant  %v counts %v", i, m, got.lists, got.count, want.lists, want.count)
		}
		for p := range got.entries {
			if got.entries[p] != want.entries[p] {
				t.Fatalf("map %d %+v: frame %d: %+v, want %+v", i, m, p, got.entries[p], want.entries[p])
			}
		}
	}
}

// BenchmarkInit is Init of a 256 MiB database (65536 frames) with holes,
// per frame, next to the reference (the previous Init), interleaved.
func BenchmarkInit(b *testing.B) {
	const frames = 65536
	m := []Range{{Base: 0, Length: 1 << 20, Type: RangeReserved},
		{Base: 1 << 20, Length: frames*page - 1<<20, Type: RangeFree},
		{Base: 3 << 20, Length: 1 << 20, Type: RangeInUse},
		{Base: 100 << 20, Length: 1 << 20, Type: RangeReserved}}
	storage := make([]Entry, frames)
	var db Database
	interleave.Run(b,
		interleave.Variant{Name: "onepass", Run: func(k int) {
			for range k {
				db.Init(storage, m, nil)
			}
		}},
		interleave.Variant{Name: "reference", Run: func(k int) {
			for range k {
				referenceInit(&db, storage, m)
			}
		}})
}
