// The simulated frame source.
//
// Frames hands out frames of the simulated memory from a LIFO free list and
// records each frame's use, so that tests can account for every frame the
// page tables and the VA manager hold. It zeroes each frame it hands out,
// as the PFN database's zeroed list would, and keeps each page frame's PTE
// back-pointer as the PFN database does, refusing a free that names another
// PTE.

package ptesim

import (
	"fmt"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

// Use is what a simulated frame is for.
type Use uint8

// Frame uses.
const (
	Free  Use = iota
	Table     // handed out by AllocTable
	Page      // handed out by AllocZeroedPage
	Fixed     // never handed out (frame 0, so a zero frame number stands out)
)

func (u Use) String() string {
	return [...]string{"free", "table", "page", "fixed"}[u]
}

// Frames is a frame source over simulated memory, standing in for the PFN
// database: a LIFO free list and each frame's use, so tests can account for
// every frame. It implements pte.FrameSource and mm/va's PageSource.
type Frames struct {
	mem  *physmem.Sim
	free []physmem.PFN
	use  []Use
	back []uintptr      // page frames: the self-map address of the mapping PTE
	n    [Fixed + 1]int // frames per use
	// Limit, if positive, makes allocation fail once this many frames are
	// handed out (tables and pages together): resource-exhaustion tests.
	Limit int
}

// NewFrames returns a frame source owning all of mem but frame 0.
func NewFrames(mem *physmem.Sim) *Frames {
	f := &Frames{mem: mem, use: make([]Use, mem.Frames), back: make([]uintptr, mem.Frames)}
	f.use[0] = Fixed
	f.n[Fixed] = 1
	for p := mem.Frames - 1; p > 0; p-- {
		f.free = append(f.free, p)
	}
	f.n[Free] = len(f.free)
	return f
}

func (f *Frames) alloc(u Use) (physmem.PFN, bool) {
	if len(f.free) == 0 || (f.Limit > 0 && f.n[Table]+f.n[Page] >= f.Limit) {
		return 0, false
	}
	p := f.free[len(f.free)-1]
	f.free = f.free[:len(f.free)-1]
	f.mem.ZeroFrame(p)
	f.set(p, u)
	return p, true
}

func (f *Frames) release(p physmem.PFN, u Use) {
	if p >= physmem.PFN(len(f.use)) || f.use[p] != u {
		panic(fmt.Sprintf("ptesim: freeing frame %#x as a %v frame", p, u))
	}
	f.set(p, Free)
	f.free = append(f.free, p)
}

func (f *Frames) set(p physmem.PFN, u Use) {
	f.n[f.use[p]]--
	f.use[p] = u
	f.n[u]++
}

// AllocTable hands out a zeroed frame for a table.
func (f *Frames) AllocTable() (physmem.PFN, bool) { return f.alloc(Table) }

// FreeTable takes back a table frame; freeing any other frame panics.
func (f *Frames) FreeTable(p physmem.PFN) { f.release(p, Table) }

// AllocZeroedPage hands out a zeroed frame for the page whose PTE is at
// pteAddr. The original PTE is not kept: nothing here takes frames back
// from their PTEs.
func (f *Frames) AllocZeroedPage(pteAddr uintptr, _ pte.PTE) (physmem.PFN, bool) {
	p, ok := f.alloc(Page)
	if ok {
		f.back[p] = pteAddr
	}
	return p, ok
}

// FreePage takes back a page frame from the PTE at pteAddr; freeing any
// other frame, or naming another PTE, panics.
func (f *Frames) FreePage(p physmem.PFN, pteAddr uintptr) {
	if p < physmem.PFN(len(f.back)) && f.use[p] == Page && f.back[p] != pteAddr {
		panic(fmt.Sprintf("ptesim: frame %#x freed by the PTE at %#x, mapped by the one at %#x", p, pteAddr, f.back[p]))
	}
	f.release(p, Page)
}

// BackPointer is the self-map address of the PTE page frame p was handed
// out for.
func (f *Frames) BackPointer(p physmem.PFN) uintptr { return f.back[p] }

// Use is frame p's use.
func (f *Frames) Use(p physmem.PFN) Use { return f.use[p] }

// Count is how many frames have use u.
func (f *Frames) Count(u Use) int { return f.n[u] }

var _ pte.FrameSource = (*Frames)(nil)
