package mm_test

import (
	"sync"
	"testing"
	"time"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/paging/pagingtest"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// ramPagingFile is a paging file in the Go heap: a PagingDevice whose
// transfers map the MDL's frames and copy.
type ramPagingFile struct {
	mu         sync.Mutex
	pages      map[uint64]*[physmem.PageSize]byte
	size       uint64
	failWrites bool
}

func (d *ramPagingFile) Name() string { return "ram0" }
func (d *ramPagingFile) Size() uint64 { return d.size }

func (d *ramPagingFile) transfer(off uint64, m *mm.Mdl, write bool) ntstatus.Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	if write && d.failWrites {
		return ntstatus.IoDeviceError
	}
	va := mm.MapLockedPagesSpecifyCache(m, pte.Cached, false, mm.NormalPagePriority)
	if va == 0 {
		return ntstatus.InsufficientResources
	}
	defer mm.UnmapLockedPages(va, m)
	for i := range m.Pages() {
		frame := (*[physmem.PageSize]byte)(unsafe.Pointer(at(va + uintptr(i)*physmem.PageSize)))
		slot := off/physmem.PageSize + uint64(i)
		if write {
			b := new([physmem.PageSize]byte)
			*b = *frame
			d.pages[slot] = b
		} else if b, ok := d.pages[slot]; ok {
			*frame = *b
		} else {
			return ntstatus.DeviceDataError
		}
	}
	return ntstatus.Success
}

func (d *ramPagingFile) ReadPages(off uint64, m *mm.Mdl) ntstatus.Status {
	return d.transfer(off, m, false)
}

func (d *ramPagingFile) WritePages(off uint64, m *mm.Mdl) ntstatus.Status {
	return d.transfer(off, m, true)
}

var (
	testPagingFile     = &ramPagingFile{pages: map[uint64]*[physmem.PageSize]byte{}, size: 8 << 20}
	testPagingFileOnce sync.Once
)

// withPagingFile registers the test's paging file once per boot.
func withPagingFile(t *testing.T) {
	t.Helper()
	testPagingFileOnce.Do(func() {
		if st := mm.AddPagingFile(testPagingFile); st != ntstatus.Success {
			t.Fatalf("AddPagingFile: %v", st)
		}
	})
	if mm.PagingFile() != mm.PagingDevice(testPagingFile) {
		t.Skip("another paging file is registered")
	}
}

var pagingTag = pool.MakeTag("PgT ")

// pagedBlock is paged pool of pages pages, each word holding its address
// xor salt.
func pagedBlock(t *testing.T, pages int, salt uintptr) uintptr {
	t.Helper()
	p := ex.AllocatePoolWithTag(pool.PagedPool, uintptr(pages)*physmem.PageSize, pagingTag)
	if p == nil {
		t.Fatal("paged pool refused")
	}
	base := uintptr(p)
	for a := base; a < base+uintptr(pages)*physmem.PageSize; a += 8 {
		*at(a) = uint64(a ^ salt)
	}
	return base
}

// checkBlock reads every word back.
func checkBlock(t *testing.T, base uintptr, pages int, salt uintptr) {
	t.Helper()
	for a := base; a < base+uintptr(pages)*physmem.PageSize; a += 8 {
		if got := *at(a); got != uint64(a^salt) {
			t.Fatalf("%#x holds %#x, want %#x", a, got, a^salt)
		}
	}
}

// wantValid fails t unless the block's pages are all valid.
func wantValid(t *testing.T, base uintptr, pages int, what string) {
	t.Helper()
	for i := range pages {
		if k := leafKind(base + uintptr(i)*physmem.PageSize); k != pte.KindValid {
			t.Fatalf("%s page %d: %v", what, i, k)
		}
	}
}

// leafKind is the kind of va's PTE.
func leafKind(va uintptr) pte.Kind {
	_, e := mm.Lookup(va).Last()
	return e.Kind()
}

func TestPagedPoolTrimAndSoftFault(t *testing.T) {
	requireBare(t)
	const pages = 16
	base := pagedBlock(t, pages, 0x1234)
	defer ex.FreePoolWithTag(unsafe.Pointer(at(base)), pagingTag)
	p := mm.SystemPager()
	soft := p.TransitionFaults.Load()
	if n := mm.TrimAllPageable(); n < pages {
		t.Fatalf("TrimAllPageable took %d pages, want at least %d", n, pages)
	}
	for i := range pages {
		if k := leafKind(base + uintptr(i)*physmem.PageSize); k != pte.KindTransition && k != pte.KindPageFile {
			t.Fatalf("page %d after the trim: %v", i, k)
		}
	}
	checkBlock(t, base, pages, 0x1234)
	if got := p.TransitionFaults.Load() - soft; got < pages && p.HardFaults.Load() == 0 {
		t.Fatalf("%d transition faults reading %d trimmed pages", got, pages)
	}
}

// pageOut trims the block, waits for the modified page writer and takes
// its standby frames away, so that only the paging file holds it.
func pageOut(t *testing.T, base uintptr, pages int) {
	t.Helper()
	mm.TrimAllPageable()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		written := 0
		for i := range pages {
			_, e := mm.Lookup(base + uintptr(i)*physmem.PageSize).Last()
			if e.Kind() == pte.KindTransition {
				if info, _ := mm.PFN.Decode(e.Frame()); info.State == pfn.StateStandby {
					mm.PFN.StandbyToFree(e.Frame())
				}
			}
			if leafKind(base+uintptr(i)*physmem.PageSize) == pte.KindPageFile {
				written++
			}
		}
		if written == pages {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d pages reached the paging file", written, pages)
		}
	}
}

// fileBlock is a pagedBlock on a machine with the test's paging file,
// freed when the test ends.
func fileBlock(t *testing.T, pages int, salt uintptr) uintptr {
	t.Helper()
	requireBare(t)
	withPagingFile(t)
	base := pagedBlock(t, pages, salt)
	t.Cleanup(func() { ex.FreePoolWithTag(unsafe.Pointer(at(base)), pagingTag) })
	return base
}

func TestPagedPoolHardFaults(t *testing.T) {
	const pages = 32
	base := fileBlock(t, pages, 0x5678)
	p := mm.SystemPager()
	hard, read := p.HardFaults.Load(), p.PagesRead.Load()
	pageOut(t, base, pages)
	checkBlock(t, base, pages, 0x5678)
	if p.HardFaults.Load()-hard < pages || p.PagesRead.Load()-read < pages {
		t.Fatalf("%d hard faults, %d pages read for %d paged-out pages",
			p.HardFaults.Load()-hard, p.PagesRead.Load()-read, pages)
	}
}

func TestProbeAndLockPagedOutPool(t *testing.T) {
	const pages = 8
	base := fileBlock(t, pages, 0x9abc)
	pageOut(t, base, pages)
	m := mm.AllocateMdl(unsafe.Pointer(at(base)), pages*physmem.PageSize)
	defer mm.FreeMdl(m)
	if !ntstatus.Try(func() { mm.ProbeAndLockPages(m, mm.IoWriteAccess) }, nil) {
		t.Fatal("ProbeAndLockPages raised")
	}
	wantValid(t, base, pages, "locked")
	mm.TrimAllPageable()
	wantValid(t, base, pages, "locked, after a trim,")
	mm.UnlockPages(m)
	mm.TrimAllPageable()
	if k := leafKind(base); k == pte.KindValid {
		t.Fatalf("unlocked page not trimmed: %v", k)
	}
	checkBlock(t, base, pages, 0x9abc)
}

// Hard faults in code the Go runtime would not preempt: `copy` (the
// runtime's memmove) into a paged-out block and RtlCopyMemory out of one
// wait for their pages (kernel/inpage_trap.go) instead of stopping, and
// every byte arrives. This boot's paging file (ramPagingFile) starts no
// reads in trap context, so these faults nap while the in-page worker reads;
// drivers/virtioblk/pagingbench runs the same over the virtio disk, whose
// reads the fault handler starts itself.
func TestCopyWithPagedOutPool(t *testing.T) {
	const pages = 8
	base := fileBlock(t, pages, 0x1111)
	pagingtest.CheckCopy(t, base, pages, func() { pageOut(t, base, pages) })
}

func TestCommitLimit(t *testing.T) {
	requireBare(t)
	c, limit := mm.PoolCommitted(), int64(mm.CommitLimit())
	if c > limit {
		t.Fatalf("pool commit %d beyond the limit %d", c, limit)
	}
	if mm.ChargeCommit(limit - c + 1) {
		mm.ChargeCommit(-(limit - c + 1))
		t.Fatalf("a charge past the limit %d was accepted", limit)
	}
	if !mm.ChargeCommit(1) {
		t.Fatal("a one-page charge within the limit was refused")
	}
	mm.ChargeCommit(-1)
}
