// Arena: a page source for host tests and benchmarks.
//
// An Arena is one anonymous mapping carved into pages and handed out in
// contiguous runs, first fit from a roving cursor. It stands in for the
// kernel's pool regions wherever the allocator runs as an ordinary process
// (go test, go test -fuzz, benchmarks) and works unchanged in the kernel,
// whose Linux-ABI layer provides mmap.
//
// A limit below the arena's size makes AllocPages refuse early, so tests can
// exhaust a source independently of the pool's own maximum. With protection
// on, returned pages are made inaccessible, so any touch of a page the pool
// gave back faults at once instead of corrupting silently.
//
// Locking: one mutex guards the allocation state; the in-use bitmap is also
// read with atomic loads so Mapped, which the pool calls on every free, does
// not take it.

package pool

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Arena is an mmap'ed page source.
type Arena struct {
	mu      sync.Mutex
	mem     []byte
	base    uintptr
	pages   int
	inUse   []atomic.Uint64 // bit per page, set while handed out
	runs    map[uintptr]arenaRun
	cursor  int
	used    int
	limit   int
	protect bool
}

type arenaRun struct {
	pages int
	exec  bool
}

const bitsPerWord = 64

// NewArena maps pages pages of zeroed memory.
func NewArena(pages int) *Arena {
	mem, err := syscall.Mmap(-1, 0, pages*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(fmt.Sprintf("pool: mmap arena of %d pages: %v", pages, err))
	}
	return &Arena{
		mem:   mem,
		base:  uintptr(unsafe.Pointer(&mem[0])),
		pages: pages,
		inUse: make([]atomic.Uint64, (pages+bitsPerWord-1)/bitsPerWord),
		runs:  make(map[uintptr]arenaRun),
		limit: pages,
	}
}

// Close unmaps the arena.
func (a *Arena) Close() { syscall.Munmap(a.mem) }

// SetLimit caps the pages handed out at once; it cannot exceed the arena.
func (a *Arena) SetLimit(pages int) {
	a.mu.Lock()
	a.limit = min(pages, a.pages)
	a.mu.Unlock()
}

// SetProtect makes returned pages inaccessible (and handed-out ones
// accessible again).
func (a *Arena) SetProtect(on bool) {
	a.mu.Lock()
	a.protect = on
	a.mu.Unlock()
}

// InUse is the number of pages handed out.
func (a *Arena) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}

// Executable reports whether the run starting at va was asked for executable.
func (a *Arena) Executable(va uintptr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.runs[va].exec
}

// Region is the arena's address range.
func (a *Arena) Region() (base, size uintptr) { return a.base, uintptr(a.pages) * pageSize }

// InUseBits is the in-use bitmap (PageBitmap).
func (a *Arena) InUseBits() []atomic.Uint64 { return a.inUse }

// Mapped reports whether the page holding va is handed out.
func (a *Arena) Mapped(va uintptr) bool {
	if va < a.base || va-a.base >= uintptr(a.pages)*pageSize {
		return false
	}
	i := int((va - a.base) >> pageShift)
	return a.inUse[i/bitsPerWord].Load()&(1<<(i%bitsPerWord)) != 0
}

// AllocPages hands out n contiguous pages.
func (a *Arena) AllocPages(n int, executable bool) (uintptr, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n <= 0 || a.used+n > a.limit {
		return 0, false
	}
	start, ok := a.findRun(n)
	if !ok {
		return 0, false
	}
	a.mark(start, n, true)
	a.cursor = (start + n) % a.pages
	a.used += n
	va := a.base + uintptr(start)<<pageShift
	a.runs[va] = arenaRun{pages: n, exec: executable}
	if a.protect {
		a.mprotect(start, n, syscall.PROT_READ|syscall.PROT_WRITE)
	}
	return va, true
}

// FreePages takes back a run; anything but a whole run handed out is a bug
// in the pool and panics.
func (a *Arena) FreePages(va uintptr, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.runs[va]
	if !ok || r.pages != n {
		panic(fmt.Sprintf("pool: arena: FreePages(%#x, %d) does not match a run handed out (%+v)", va, n, r))
	}
	delete(a.runs, va)
	start := int((va - a.base) >> pageShift)
	a.mark(start, n, false)
	a.used -= n
	if a.protect {
		a.mprotect(start, n, syscall.PROT_NONE)
	}
}

// findRun finds n free pages in a row, first fit from the cursor.
func (a *Arena) findRun(n int) (int, bool) {
	for pass, i := 0, a.cursor; pass < 2; pass, i = pass+1, 0 {
		run := 0
		for ; i < a.pages; i++ {
			if a.inUse[i/bitsPerWord].Load() == ^uint64(0) && i%bitsPerWord == 0 {
				run = 0
				i += bitsPerWord - 1
				continue
			}
			if a.inUse[i/bitsPerWord].Load()&(1<<(i%bitsPerWord)) != 0 {
				run = 0
				continue
			}
			if run++; run == n {
				return i - n + 1, true
			}
		}
	}
	return 0, false
}

func (a *Arena) mark(start, n int, used bool) {
	for i := start; i < start+n; i++ {
		w := &a.inUse[i/bitsPerWord]
		bit := uint64(1) << (i % bitsPerWord)
		if used {
			w.Or(bit)
		} else {
			w.And(^bit)
		}
	}
}

func (a *Arena) mprotect(start, n, prot int) {
	if err := syscall.Mprotect(a.mem[start<<pageShift:(start+n)<<pageShift], prot); err != nil {
		panic(fmt.Sprintf("pool: arena: mprotect: %v", err))
	}
}
