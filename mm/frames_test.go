package mm_test

// The PFN database and demand-zero memory on the machine: frames move
// between the real lists as NT's do, demand-zero pages read zero and take
// exactly one frame each, unmapping gives exactly those frames back, and
// the database is mapped where boot put it. Counts are read inside
// uninterrupted windows, so they are checked exactly.

import (
	"syscall"
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

// moved is s with one frame moved from list from to list to.
func moved(s pfn.Stats, from, to pfn.State) pfn.Stats {
	s.ByState[from]--
	s.ByState[to]++
	return s
}

// A frame's life on the real database: zeroed list, Active, free list (the
// only frame there), zeroed list again by the zero-page thread's step.
func TestFrameListTransitions(t *testing.T) {
	requireBare(t)
	var (
		start, allocated, freed, rezeroed pfn.Stats
		active, onFree, onZeroed          pfn.Info
		p                                 physmem.PFN
		ok                                bool
		zeroedOne                         int
	)
	uninterrupted(func() {
		// Empty the free list so the frame's moves are the only ones.
		mm.ZeroPages(int(mm.PFN.Stats().ByState[pfn.StateFree]))
		start = mm.PFN.Stats()
		if p, ok = mm.PFN.AllocateZeroed(0, 0); !ok {
			return
		}
		allocated = mm.PFN.Stats()
		active, _ = mm.PFN.Decode(p)
		mm.PFN.Free(p, 0)
		freed = mm.PFN.Stats()
		onFree, _ = mm.PFN.Decode(p)
		zeroedOne = mm.ZeroPages(1)
		rezeroed = mm.PFN.Stats()
		onZeroed, _ = mm.PFN.Decode(p)
	})
	if !ok {
		t.Fatalf("no frame for AllocateZeroed: %v", start)
	}
	if start.ByState[pfn.StateFree] != 0 || start.ByState[pfn.StateZeroed] == 0 {
		t.Fatalf("after zeroing the free list: %v", start)
	}
	if want := moved(start, pfn.StateZeroed, pfn.StateActive); allocated != want {
		t.Errorf("after AllocateZeroed:\n%vwant\n%v", allocated, want)
	}
	if active.State != pfn.StateActive || active.RefCount != 1 || active.ShareCount != 1 || active.Cache != pfn.Cached {
		t.Errorf("allocated frame: %v", active)
	}
	if want := moved(allocated, pfn.StateActive, pfn.StateFree); freed != want {
		t.Errorf("after Free:\n%vwant\n%v", freed, want)
	}
	if onFree.State != pfn.StateFree || onFree.Flink != pfn.NoFrame || onFree.Blink != pfn.NoFrame {
		t.Errorf("freed frame, alone on the free list: %v", onFree)
	}
	if zeroedOne != 1 || rezeroed != start {
		t.Errorf("ZeroPages(1) = %d, then:\n%vwant\n%v", zeroedOne, rezeroed, start)
	}
	if onZeroed.State != pfn.StateZeroed || onZeroed.Flink != pfn.NoFrame {
		t.Errorf("rezeroed frame, at the zeroed list's tail: %v", onZeroed)
	}
}

// demandZeroPages is the number of pages the demand-zero tests map.
const demandZeroPages = 64

// mapDemandZero maps pages committed, readable and writable, as the Go
// runtime's own memory is: every page starts as a demand-zero PTE.
func mapDemandZero(t *testing.T, pages int) []byte {
	t.Helper()
	m, err := syscall.Mmap(-1, 0, pages*physmem.PageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(m) })
	return m
}

// frameOf is the frame mapping the page at va, if one does.
func frameOf(va uintptr) (physmem.PFN, bool) {
	pa, ok := mm.Lookup(va).PhysAddr()
	return physmem.FrameOf(pa), ok
}

// Reading demand-zero pages faults in one zeroed frame per page, owned by
// the page's PTE, and every byte reads zero.
func TestDemandZeroPagesReadZero(t *testing.T) {
	requireBare(t)
	m := mapDemandZero(t, demandZeroPages)
	var before, after pfn.Stats
	nonzero := 0
	uninterrupted(func() {
		before = mm.PFN.Stats()
		for _, c := range m {
			if c != 0 {
				nonzero++
			}
		}
		after = mm.PFN.Stats()
	})
	if nonzero != 0 {
		t.Errorf("%d bytes of fresh demand-zero pages are not zero", nonzero)
	}
	if got := after.ByState[pfn.StateActive] - before.ByState[pfn.StateActive]; got != demandZeroPages {
		t.Errorf("reading %d demand-zero pages made %d frames active", demandZeroPages, got)
	}
	if got := before.Available() - after.Available(); got != demandZeroPages {
		t.Errorf("reading %d demand-zero pages took %d available frames", demandZeroPages, got)
	}
	for off := 0; off < len(m); off += physmem.PageSize {
		va := uintptr(unsafe.Pointer(&m[off]))
		f, ok := frameOf(va)
		if !ok {
			t.Fatalf("page %#x read but not mapped", va)
		}
		info, _ := mm.PFN.Decode(f)
		if info.State != pfn.StateActive || info.ShareCount != 1 || info.Pte != pte.PteAddress(va) {
			t.Errorf("page %#x: %v, want Active with one share and PTE %#x", va, info, pte.PteAddress(va))
		}
	}
}

// framesOf is the frames mapping the n written pages from va.
func framesOf(t *testing.T, va uintptr, n int) []physmem.PFN {
	t.Helper()
	frames := make([]physmem.PFN, n)
	for i := range frames {
		f, ok := frameOf(va + uintptr(i)*page)
		if !ok {
			t.Fatalf("page %#x written but not mapped", va+uintptr(i)*page)
		}
		frames[i] = f
	}
	return frames
}

// givenBack runs call, a system call that gives back the pages of frames,
// in an uninterrupted window, and checks that exactly those frames went
// from Active to the free list, owned by no PTE.
func givenBack(t *testing.T, what string, frames []physmem.PFN, call func() syscall.Errno) {
	t.Helper()
	var before, after pfn.Stats
	infos := make([]pfn.Info, len(frames))
	var errno syscall.Errno
	uninterrupted(func() {
		before = mm.PFN.Stats()
		errno = call()
		after = mm.PFN.Stats()
		for i, f := range frames {
			infos[i], _ = mm.PFN.Decode(f)
		}
	})
	if errno != 0 {
		t.Fatalf("%s: %v", what, errno)
	}
	want := before
	want.ByState[pfn.StateActive] -= uint64(len(frames))
	want.ByState[pfn.StateFree] += uint64(len(frames))
	if after != want {
		t.Errorf("after %s of %d pages:\n%vwant\n%v", what, len(frames), after, want)
	}
	for _, info := range infos {
		if info.State != pfn.StateFree || info.Pte != 0 {
			t.Errorf("frame of a page after %s: %v", what, info)
		}
	}
}

// Unmapping touched pages (munmap, served in trap context by
// mm.RuntimeUnmap) returns exactly their frames to the free list. The first
// and last page stay mapped, so every page table the unmapped pages use
// keeps an entry and no table frame is freed with them.
func TestUnmapReturnsFrames(t *testing.T) {
	requireBare(t)
	const anchors = 2
	m := mapDemandZero(t, demandZeroPages+anchors)
	// Numbered from 1: a page that lost its frame would read 0.
	for off := 0; off < len(m); off += physmem.PageSize {
		m[off] = byte(off/physmem.PageSize + 1)
	}
	middle := uintptr(unsafe.Pointer(&m[page]))
	givenBack(t, "munmap", framesOf(t, middle, demandZeroPages), func() syscall.Errno {
		_, _, errno := syscall.RawSyscall(syscall.SYS_MUNMAP, middle, demandZeroPages*page, 0)
		return errno
	})
	if m[0] != 1 || m[len(m)-physmem.PageSize] != byte(demandZeroPages+anchors) {
		t.Error("the pages left mapped lost their contents")
	}
}

// madvise(MADV_DONTNEED) (mm.RuntimeDiscard) returns exactly the frames of
// the touched pages, which then read zero again on fresh frames. The count
// is not a multiple of the shootdown batch (pte.FlushAllThreshold), so the
// last, partial batch is released too.
func TestDiscardReturnsFrames(t *testing.T) {
	requireBare(t)
	const pages = pte.FlushAllThreshold + 13
	m := mapDemandZero(t, pages)
	for off := 0; off < len(m); off += physmem.PageSize {
		m[off] = 1
	}
	base := uintptr(unsafe.Pointer(&m[0]))
	givenBack(t, "madvise", framesOf(t, base, pages), func() syscall.Errno {
		_, _, errno := syscall.RawSyscall(syscall.SYS_MADVISE, base, pages*page, syscall.MADV_DONTNEED)
		return errno
	})
	for off := 0; off < len(m); off += physmem.PageSize {
		if m[off] != 0 {
			t.Fatalf("discarded page %#x reads %d, not zero", base+uintptr(off), m[off])
		}
	}
}

// The PFN database's region maps exactly the pages its entries fill, each
// on a frame the database records as in use.
func TestPFNDatabaseMapping(t *testing.T) {
	requireBare(t)
	s := mm.PFN.Stats()
	size := uintptr(s.DatabaseBytes()+physmem.PageMask) &^ physmem.PageMask
	for va := layout.PfnDatabaseStart; va < layout.PfnDatabaseStart+size; va += page {
		f, ok := frameOf(va)
		if !ok {
			t.Fatalf("database page %#x not mapped", va)
		}
		if info, _ := mm.PFN.Decode(f); info.State != pfn.StateActive {
			t.Fatalf("database page %#x on a frame that is not in use: %v", va, info)
		}
	}
	if _, ok := frameOf(layout.PfnDatabaseStart + size); ok {
		t.Errorf("page %#x past the database is mapped", layout.PfnDatabaseStart+size)
	}
	t.Logf("PFN database: %d entries of %d bytes = %d KiB for %d frames of RAM (%d MiB): %.2f%% of RAM",
		s.Frames, pfn.EntrySize, s.DatabaseBytes()>>10, s.RAM(), s.RAM()*physmem.PageSize>>20, s.DatabasePercentOfRAM())
}
