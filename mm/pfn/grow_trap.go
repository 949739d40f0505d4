// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The lazily built part of the database (InitLazy).
//
// Boot writes the entries of the first frames only; the rest of the
// storage is mapped but unwritten, and Frames (the entries slice's length)
// stops below it, so to every other routine those frames are simply beyond
// the database, as memory not yet added is. GrowSome writes the next chunk
// of entries, in memory-map order, linking free frames onto their node's
// free list, and then lengthens the slice: a frame is inside the database
// only once its entry is whole. The idle loop calls it before zeroing
// (mm.ZeroPages), one bounded chunk per call, so the interrupts-off time
// is a few hundred entry stores; an allocation that finds every list
// empty grows the database by a chunk before giving up (grown), so no
// request fails while deferred memory remains.
//
// The length is stored alone (setLen): storing the whole slice would store
// its pointer, which needs a write barrier, and this runs in trap context.

package pfn

import (
	"unsafe"

	"ntgo/mm/physmem"
)

// GrowChunk is how many frames one GrowSome call adds at most by default
// (the idle loop's step).
const GrowChunk = 1024

// GrowSome adds up to max frames to the database and reports whether frames
// remain to be added.
//
//go:nosplit
func (db *Database) GrowSome(max int) bool {
	db.lock.Acquire()
	more := db.growBy(max)
	db.lock.Release()
	return more
}

// growBy adds up to max frames under the lock; it reports whether frames
// remain.
//
//go:nosplit
func (db *Database) growBy(max int) bool {
	n := physmem.PFN(cap(db.entries))
	db.grow(min(db.Frames()+physmem.PFN(max), n))
	return db.Frames() < n
}

// grow writes the entries of frames [Frames, end) and adds them.
//
//go:nosplit
func (db *Database) grow(end physmem.PFN) {
	n := physmem.PFN(cap(db.entries))
	for p := db.Frames(); p < end; {
		t, segEnd := segment(db.ranges, p, n)
		segEnd = min(segEnd, end, db.nodes.next(uint32(p)))
		db.setLen(segEnd)
		db.fill(uint32(p), uint32(segEnd), t)
		if t != RangeReserved {
			db.deferred -= uint64(segEnd - p)
		}
		p = segEnd
	}
}

// setLen makes the database's first n entries of its storage (n at most
// its capacity) the ones in use, storing the length alone.
//
//go:nosplit
func (db *Database) setLen(n physmem.PFN) {
	(*sliceHeader)(unsafe.Pointer(&db.entries)).len = int(n)
}

// sliceHeader is a slice's layout.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// next is the first frame above p where a node range starts or ends (the
// end of p's run of one node), noLink if none does.
//
//go:nosplit
func (t *nodeTable) next(p uint32) physmem.PFN {
	next := physmem.PFN(noLink)
	for i := 0; i < t.n && i < len(t.ranges); i++ {
		r := &t.ranges[i]
		switch {
		case physmem.PFN(p) < r.First:
			return min(next, r.First)
		case physmem.PFN(p) < r.End:
			next = min(next, r.End)
		}
	}
	return next
}
