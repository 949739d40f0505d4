// Big allocations and the big-page table.
//
// A request larger than MaxSmallRequest (or a cache-aligned one too large to
// align inside a page) gets whole pages straight from its region: the
// caller's pointer is the page-aligned start of the run and there is no
// header. What a header would say is kept instead in the big-page table
// (NT's PoolBigPageTable): an open-addressed hash table keyed by the
// address, holding the tag, the size in pages, the pool type and the quota
// owner. Free finds the run by its address; a page-aligned address the table
// does not hold was never a live big allocation.
//
// Slots are empty (va 0) or deleted (va bigDeleted, NT's
// POOL_BIG_TABLE_ENTRY_FREE bit) or live. The table doubles, rehashing
// live entries, when live plus deleted slots pass three quarters; it lives
// in Go memory and holds only integers.
//
// Locking: its own mutex; big allocations never take a descriptor lock.

package pool

import "sync"

const (
	bigDeleted          = 1 // va of a deleted slot; never page-aligned
	bigTableInitialSize = 1 << 10
	bigTableLoadNum     = 3 // grow past 3/4 occupancy
	bigTableLoadDen     = 4
	fibonacciHash       = 0x9E3779B97F4A7C15 // 2^64 / golden ratio
)

type bigEntry struct {
	va    uintptr
	pages uintptr
	owner uintptr // quota owner, 0 if none was charged
	tag   Tag
	typ   PoolType // as the caller asked
	kind  Kind
}

type bigTable struct {
	mu       sync.Mutex
	slots    []bigEntry
	live     int
	occupied int // live + deleted
}

func (t *bigTable) init() { t.slots = make([]bigEntry, bigTableInitialSize) }

func (t *bigTable) slot(va uintptr) uintptr {
	return uintptr(uint64(va>>pageShift)*fibonacciHash) & uintptr(len(t.slots)-1)
}

func (t *bigTable) insert(e bigEntry) {
	t.mu.Lock()
	if (t.occupied+1)*bigTableLoadDen > len(t.slots)*bigTableLoadNum {
		t.grow()
	}
	t.place(e)
	t.mu.Unlock()
}

// place puts e in the first empty or deleted slot of its probe sequence.
func (t *bigTable) place(e bigEntry) {
	mask := uintptr(len(t.slots) - 1)
	for i := t.slot(e.va); ; i = (i + 1) & mask {
		if s := &t.slots[i]; s.va == 0 || s.va == bigDeleted {
			if s.va == 0 {
				t.occupied++
			}
			*s = e
			t.live++
			return
		}
	}
}

func (t *bigTable) grow() {
	old := t.slots
	t.slots = make([]bigEntry, len(old)*2)
	t.live, t.occupied = 0, 0
	for _, e := range old {
		if e.va != 0 && e.va != bigDeleted {
			t.place(e)
		}
	}
}

// find is the slot holding va, or nil. The lock is held.
func (t *bigTable) find(va uintptr) *bigEntry {
	mask := uintptr(len(t.slots) - 1)
	for i := t.slot(va); ; i = (i + 1) & mask {
		switch s := &t.slots[i]; s.va {
		case va:
			return s
		case 0:
			return nil
		}
	}
}

func (t *bigTable) lookup(va uintptr) (bigEntry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.find(va); s != nil {
		return *s, true
	}
	return bigEntry{}, false
}

func (t *bigTable) remove(va uintptr) (bigEntry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.find(va)
	if s == nil {
		return bigEntry{}, false
	}
	e := *s
	*s = bigEntry{va: bigDeleted}
	t.live--
	return e, true
}

// each calls f on every live entry under the lock.
func (t *bigTable) each(f func(bigEntry)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.visit(f)
}

// tryEach is each if the lock is free; it reports whether it was.
func (t *bigTable) tryEach(f func(bigEntry)) bool {
	if !t.mu.TryLock() {
		return false
	}
	defer t.mu.Unlock()
	t.visit(f)
	return true
}

// visit calls f on every live entry. The lock is held.
func (t *bigTable) visit(f func(bigEntry)) {
	for _, e := range t.slots {
		if e.va != 0 && e.va != bigDeleted {
			f(e)
		}
	}
}
