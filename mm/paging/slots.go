// Paging-file slots: which pages of the paging file hold a page's contents.
//
// A bitmap with one bit per page of the file, as NT's paging file bitmap.
// Slot 0 is never handed out, so that a paging-file PTE's slot is never
// zero (pte.NewPageFile: a zero PageFileHigh is demand-zero). The modified
// page writer allocates runs (clusters) so that one device write carries
// many pages; a run is searched first fit from a roving hint, so that
// successive clusters land one after the other and the device sees
// sequential writes.
//
// Locking: Alloc takes mu (goroutines only: the writer); Free is one
// atomic AND, so a trimmer may free a slot with the page-table lock held.
// used and peak are atomics, read without the lock by !vm.

package paging

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"ntgo/mm/physmem"
)

// SlotFreedTwice is ntgo's MEMORY_MANAGEMENT (0x1A) subtype for a paging
// file slot freed that was not in use: P2 the slot, P3 the file's pages.
const SlotFreedTwice = 0x5F01

// Slots is the slot bitmap of one paging file.
type Slots struct {
	mu   sync.Mutex
	bits []atomic.Uint64
	n    int // slots, slot 0 included
	hint int
	used atomic.Int64
	peak atomic.Int64
}

// NewSlots manages a paging file of n pages.
func NewSlots(n int) *Slots {
	s := &Slots{bits: make([]atomic.Uint64, (n+63)/64), n: n, hint: 1}
	for i := 0; i < len(s.bits); i += int(physmem.PageSize / 8) {
		s.bits[i].Store(0) // resident: Free runs under the page-table lock
	}
	if n > 0 {
		s.bits[0].Store(1) // slot 0: never handed out
	}
	return s
}

// Size is the number of usable slots (the file's pages but slot 0).
func (s *Slots) Size() int { return max(s.n-1, 0) }

// Used is how many slots hold a page.
func (s *Slots) Used() int { return int(s.used.Load()) }

// Peak is the most slots ever in use at once.
func (s *Slots) Peak() int { return int(s.peak.Load()) }

// InUse reports whether slot i is allocated.
func (s *Slots) InUse(i uint32) bool {
	return int(i) < s.n && s.bits[i/64].Load()&(1<<(i%64)) != 0
}

// Alloc hands out a run of up to n consecutive free slots, the first run
// found from the hint, and returns its first slot and length; 0, 0 if the
// file is full.
func (s *Slots) Alloc(n int) (first uint32, got int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, start := range [...]int{s.hint, 1} {
		for i := start; i < s.n; i++ {
			if s.InUse(uint32(i)) {
				continue
			}
			j := i
			for j < s.n && j-i < n && !s.InUse(uint32(j)) {
				s.bits[j/64].Or(1 << (j % 64))
				j++
			}
			s.hint = j
			s.note(int64(j - i))
			return uint32(i), j - i
		}
	}
	return 0, 0
}

// note adds d to the slots in use and raises the peak.
func (s *Slots) note(d int64) {
	u := s.used.Add(d)
	for p := s.peak.Load(); u > p && !s.peak.CompareAndSwap(p, u); p = s.peak.Load() {
	}
}

// count recounts the bitmap, slot 0 excluded (tests).
func (s *Slots) count() int {
	n := 0
	for i := range s.bits {
		n += bits.OnesCount64(s.bits[i].Load())
	}
	return n - 1
}
