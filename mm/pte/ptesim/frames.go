// The simulated frame source.
//
// Frames hands out frames of the simulated memory from a LIFO free list and
// records each frame's use, so that tests can account for every frame the
// page tables and the VA manager hold. It zeroes each frame it hands out,
// as the PFN database's zeroed list would.

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
	n    [Fixed + 1]int // frames per use
	// Limit, if positive, makes allocation fail once this many frames are
	// handed out (tables and pages together): resource-exhaustion tests.
	Limit int
}

// NewFrames returns a frame source owning all of mem but frame 0.
func NewFrames(mem *physmem.Sim) *Frames {
	f := &Frames{mem: mem, use: make([]Use, mem.Frames)}
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

// AllocZeroedPage hands out a zeroed frame for a page.
func (f *Frames) AllocZeroedPage() (physmem.PFN, bool) { return f.alloc(Page) }

// FreePage takes back a page frame; freeing any other frame panics.
func (f *Frames) FreePage(p physmem.PFN) { f.release(p, Page) }

// Use is frame p's use.
func (f *Frames) Use(p physmem.PFN) Use { return f.use[p] }

// Count is how many frames have use u.
func (f *Frames) Count(u Use) int { return f.n[u] }

var _ pte.FrameSource = (*Frames)(nil)
