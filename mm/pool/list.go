// ListHeads: a descriptor's free lists.
//
// ListHeads[i] is a circular doubly linked list (NT's LIST_ENTRY) of the
// free blocks of exactly i+1 units; the links live in each free block's body,
// right after its header. Blocks of one unit (header only) have no room for
// links and are not listed; they rejoin the pool when a neighbour is freed
// and coalesces with them.
//
// The list heads themselves occupy one page taken from the descriptor's own
// page source (256 heads of 16 bytes), so every Flink and Blink, heads
// included, is a pool address and nothing in pool memory points into the Go
// heap. A bitmap of non-empty lists, in Go memory, finds the smallest list
// that can serve a request without walking empty heads.
//
// Safe unlinking: before a block leaves a list, and before anything is
// inserted next to a head, the links are checked both ways (Flink->Blink and
// Blink->Flink must be the entry). A link that does not even point into a
// mapped pool page is reported as DRIVER_CORRUPTED_EXPOOL before it is
// followed; links that point into the pool but not back are
// BAD_POOL_HEADER HeaderFreeListCorrupt.
//
// Locking: the owning descriptor's lock.

package pool

import "math/bits"

// LIST_ENTRY layout.
const (
	listFlink     = 0
	listBlink     = 8
	listEntrySize = 16
	listHeadsSize = pageUnits * listEntrySize
)

type freeLists struct {
	sys      *System
	src      PageSource
	heads    uintptr                         // page of pageUnits list heads
	nonEmpty [pageUnits / bitsPerWord]uint64 // bit i: ListHeads[i] has entries
}

func (l *freeLists) init(sys *System, src PageSource, page uintptr) {
	l.sys, l.src, l.heads = sys, src, page
	for i := uintptr(0); i < pageUnits; i++ {
		h := page + i*listEntrySize
		storePtr(h+listFlink, h)
		storePtr(h+listBlink, h)
	}
}

func (l *freeLists) head(u uintptr) uintptr { return l.heads + (u-1)*listEntrySize }

// follow vets a link read from pool memory before it is dereferenced. No
// valid link is page-aligned: a listed body follows its header, and the
// head at the page start (blocks of one unit) is never used.
func (l *freeLists) follow(link uintptr) uintptr {
	if link&(listEntrySize-1) != 0 || link&pageMask == 0 || !l.src.Mapped(link) {
		l.sys.CorruptedExpool(link)
	}
	return link
}

// check verifies that e's neighbours both point back at e.
func (l *freeLists) check(e uintptr) (flink, blink uintptr) {
	flink = l.follow(loadPtr(e + listFlink))
	blink = l.follow(loadPtr(e + listBlink))
	fb, bf := loadPtr(flink+listBlink), loadPtr(blink+listFlink)
	if fb != e || bf != e {
		badPoolHeader(HeaderFreeListCorrupt, e, fb, bf)
	}
	return flink, blink
}

// insert lists the free block with header b and u units (u >= minBlockUnits),
// at the head or, for atTail, the tail of its list.
func (l *freeLists) insert(b, u uintptr, atTail bool) {
	h := l.head(u)
	e := b + HeaderSize
	flink, blink := l.check(h)
	prev, next := h, flink
	if atTail {
		prev, next = blink, h
	}
	storePtr(e+listFlink, next)
	storePtr(e+listBlink, prev)
	storePtr(prev+listFlink, e)
	storePtr(next+listBlink, e)
	l.nonEmpty[(u-1)/bitsPerWord] |= 1 << ((u - 1) % bitsPerWord)
}

// remove unlinks the free block with header b and u units.
func (l *freeLists) remove(b, u uintptr) {
	e := b + HeaderSize
	flink, blink := l.check(e)
	storePtr(blink+listFlink, flink)
	storePtr(flink+listBlink, blink)
	if h := l.head(u); loadPtr(h+listFlink) == h {
		l.nonEmpty[(u-1)/bitsPerWord] &^= 1 << ((u - 1) % bitsPerWord)
	}
}

// first is the header of the first block on the smallest non-empty list of
// blocks of at least u units, with that list's size; ok is false when none.
func (l *freeLists) first(u uintptr) (b, size uintptr, ok bool) {
	for i := (u - 1) / bitsPerWord; i < uintptr(len(l.nonEmpty)); i++ {
		w := l.nonEmpty[i]
		if i == (u-1)/bitsPerWord {
			w &= ^uint64(0) << ((u - 1) % bitsPerWord)
		}
		if w != 0 {
			size = i*bitsPerWord + uintptr(bits.TrailingZeros64(w)) + 1
			e := l.follow(loadPtr(l.head(size) + listFlink))
			return e - HeaderSize, size, true
		}
	}
	return 0, 0, false
}
