package virtioblk

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/arch"
	"ntgo/nt/ntstatus"
)

// The pages testdata/blkdebug.conf fails reads and writes of.
const (
	readErrorPage  = 1000
	writeErrorPage = 1001
)

// testDisk is the test boot's page file disk (ntgo-qemu -test attaches one
// to every test boot, behind blkdebug with testdata's config).
func testDisk(t testing.TB) *Disk {
	t.Helper()
	if !arch.Bare() {
		t.Skip("needs the kernel and its virtio disk: run with `make ktest PKG=./drivers/virtioblk`")
	}
	ds, err := Probe()
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) == 0 {
		t.Fatal("no virtio disk: the test boot has none (PAGEFILE=0?)")
	}
	return ds[0]
}

// pagesMdl is an MDL over pages frames from the PFN database (not
// necessarily contiguous, so one request may need several descriptors),
// with its system mapping as a byte slice.
func pagesMdl(t testing.TB, pages int) (*mm.Mdl, []byte) {
	t.Helper()
	m := mm.AllocatePagesForMdl(0, mm.MaxPhysicalAddress, 0, uintptr(pages)*physmem.PageSize)
	if m == nil {
		t.Fatal("AllocatePagesForMdl failed")
	}
	va := mm.MapLockedPagesSpecifyCache(m, pte.Cached, false, 0)
	if va == 0 {
		t.Fatal("MapLockedPagesSpecifyCache failed")
	}
	t.Cleanup(func() {
		mm.UnmapLockedPages(va, m)
		mm.FreePagesFromMdl(m)
		mm.FreeMdl(m)
	})
	return m, unsafe.Slice((*byte)(unsafe.Add(nil, va)), pages*physmem.PageSize)
}

// pattern fills b with bytes that name the disk page and offset they
// belong at and the pass (seed) that wrote them.
func pattern(b []byte, firstPage uint64, seed byte) {
	for i := range b {
		page := firstPage + uint64(i/physmem.PageSize)
		b[i] = byte(page) ^ byte(page>>8)*3 ^ byte(i)*7 ^ seed
	}
}

func TestWriteReadBack(t *testing.T) {
	d := testDisk(t)
	const pages, first = 16, 64
	w, wb := pagesMdl(t, pages)
	pattern(wb, first, 0x5A)
	if st := d.WritePages(first*physmem.PageSize, w); st != ntstatus.Success {
		t.Fatalf("WritePages: %v", st)
	}
	r, rb := pagesMdl(t, pages)
	clear(rb)
	if st := d.ReadPages(first*physmem.PageSize, r); st != ntstatus.Success {
		t.Fatalf("ReadPages: %v", st)
	}
	if i := mismatch(rb, wb); i >= 0 {
		t.Fatalf("read back differs at byte %#x: %#x, wrote %#x", i, rb[i], wb[i])
	}
	// Half of it again, from an offset inside: the disk, not a cache of
	// the last request, answers.
	h, hb := pagesMdl(t, pages/2)
	if st := d.ReadPages((first+pages/2)*physmem.PageSize, h); st != ntstatus.Success {
		t.Fatalf("ReadPages: %v", st)
	}
	if i := mismatch(hb, wb[pages/2*physmem.PageSize:]); i >= 0 {
		t.Fatalf("second half differs at byte %#x", i)
	}
}

// TestPartialMdl writes and reads through partial MDLs, as a page writer
// sending part of a cluster does.
func TestPartialMdl(t *testing.T) {
	d := testDisk(t)
	const first = 200
	src, sb := pagesMdl(t, 16)
	pattern(sb, first, 0x77)
	part := mm.AllocateMdl(nil, 16*physmem.PageSize)
	defer mm.FreeMdl(part)
	mm.BuildPartialMdl(src, part, src.VirtualAddress()+4*physmem.PageSize, 8*physmem.PageSize)
	if st := d.WritePages(first*physmem.PageSize, part); st != ntstatus.Success {
		t.Fatalf("WritePages(partial): %v", st)
	}
	r, rb := pagesMdl(t, 8)
	if st := d.ReadPages(first*physmem.PageSize, r); st != ntstatus.Success {
		t.Fatalf("ReadPages: %v", st)
	}
	if i := mismatch(rb, sb[4*physmem.PageSize:12*physmem.PageSize]); i >= 0 {
		t.Fatalf("the partial MDL's pages differ at byte %#x", i)
	}
}

// waitAll waits for wg, failing the test if that takes longer than any
// completion should (a request the device never completes would hang it).
func waitAll(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("requests still unfinished after a minute")
	}
}

func mismatch(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// TestRequestsInFlight runs 16-page writes and reads from several
// goroutines at once: each gets its own data back, and the driver had more
// than one request outstanding.
func TestRequestsInFlight(t *testing.T) {
	d := testDisk(t)
	const workers, pages, rounds, base = 8, 16, 4, 2048
	type buf struct {
		w, r   *mm.Mdl
		wb, rb []byte
	}
	bufs := make([]buf, workers)
	for i := range bufs {
		bufs[i].w, bufs[i].wb = pagesMdl(t, pages)
		bufs[i].r, bufs[i].rb = pagesMdl(t, pages)
	}
	before := d.Stats()
	errs := make(chan error, workers)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			b := bufs[i]
			for round := range rounds {
				first := uint64(base + (round*workers+i)*pages)
				pattern(b.wb, first, byte(i))
				if st := d.WritePages(first*physmem.PageSize, b.w); st != ntstatus.Success {
					errs <- fmt.Errorf("worker %d: WritePages: %v", i, st)
					return
				}
				clear(b.rb)
				if st := d.ReadPages(first*physmem.PageSize, b.r); st != ntstatus.Success {
					errs <- fmt.Errorf("worker %d: ReadPages: %v", i, st)
					return
				}
				if j := mismatch(b.rb, b.wb); j >= 0 {
					errs <- fmt.Errorf("worker %d round %d: byte %#x differs", i, round, j)
					return
				}
			}
		}()
	}
	start.Done()
	waitAll(t, &wg)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s := d.Stats()
	if got := s.Reads + s.Writes - before.Reads - before.Writes; got != 2*workers*rounds {
		t.Errorf("%d requests completed, want %d", got, 2*workers*rounds)
	}
	if s.InFlight != 0 {
		t.Errorf("%d requests still in flight", s.InFlight)
	}
	if s.MaxInFlight < 2 {
		t.Errorf("at most %d request in flight: the requests ran one at a time", s.MaxInFlight)
	}
	t.Logf("at most %d requests in flight; %d interrupts for %d completions", s.MaxInFlight, s.Interrupts-before.Interrupts, s.Completions-before.Completions)
}

// scattered is an MDL over every other page of a 2*pages-page allocation,
// so each of its pages needs a descriptor of its own, and the whole
// allocation's mapping.
func scattered(t testing.TB, pages int) (*mm.Mdl, []byte) {
	t.Helper()
	src, b := pagesMdl(t, 2*pages)
	m := mm.AllocateMdl(nil, uint32(pages)*physmem.PageSize)
	if m == nil {
		t.Fatal("AllocateMdl failed")
	}
	t.Cleanup(func() { mm.FreeMdl(m) })
	for i := range m.Pages() {
		m.Pages()[i] = src.Pages()[2*i]
	}
	m.MdlFlags |= mm.MdlPartial // frames borrowed from src, which holds their locks
	return m, b
}

// TestDescriptorsRunOut: with fewer free descriptors than a scattered
// 16-page request needs (the test holds the rest), every request waits for
// room instead of taking descriptors the queue does not have; when the
// held ones come back, all of them run and each gets its own data.
func TestDescriptorsRunOut(t *testing.T) {
	d := testDisk(t)
	const pages, base, workers = 16, 8192, 6
	x := d.ext
	x.lock.Acquire()
	held := x.freeCount - (pages + 2 - 1)
	head := x.freeHead
	last := head
	for range held - 1 {
		x.desc(last).flags = descNext
		last = x.desc(last).next
	}
	x.desc(last).flags = 0
	x.freeHead = x.desc(last).next
	x.freeCount -= held
	x.lock.Release()
	before := d.Stats()

	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		w, wb := scattered(t, pages)
		r, rb := scattered(t, pages)
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := uint64(base + i*pages)
			for p := range pages {
				pattern(wb[2*p*physmem.PageSize:(2*p+1)*physmem.PageSize], first+uint64(p), byte(i))
			}
			if st := d.WritePages(first*physmem.PageSize, w); st != ntstatus.Success {
				errs <- fmt.Errorf("worker %d: WritePages: %v", i, st)
				return
			}
			if st := d.ReadPages(first*physmem.PageSize, r); st != ntstatus.Success {
				errs <- fmt.Errorf("worker %d: ReadPages: %v", i, st)
				return
			}
			for p := range pages {
				if j := mismatch(rb[2*p*physmem.PageSize:(2*p+1)*physmem.PageSize], wb[2*p*physmem.PageSize:]); j >= 0 {
					errs <- fmt.Errorf("worker %d page %d: byte %#x differs", i, p, j)
					return
				}
			}
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); d.Stats().RoomWaits-before.RoomWaits < workers; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests waited for descriptors; %d in flight", d.Stats().RoomWaits-before.RoomWaits, workers, d.Stats().InFlight)
		}
	}
	if s := d.Stats(); s.InFlight != 0 || s.Writes != before.Writes {
		t.Errorf("with too few descriptors: %d in flight, %d writes done", s.InFlight, s.Writes-before.Writes)
	}
	x.lock.Acquire()
	x.freeChain(head)
	x.lock.Release()
	x.wakeRoom()
	waitAll(t, &wg)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := d.Stats(); s.Writes-before.Writes != workers || s.Reads-before.Reads != workers {
		t.Errorf("%d writes and %d reads completed, want %d each", s.Writes-before.Writes, s.Reads-before.Reads, workers)
	}
}

// TestRequestLimit: with maxRequests in flight (counted so by the test), a
// new request waits for room, though descriptors are free, and runs once
// the count drops.
func TestRequestLimit(t *testing.T) {
	d := testDisk(t)
	m, _ := pagesMdl(t, 1)
	d.ext.lock.Acquire()
	d.ext.inFlight += maxRequests
	d.ext.lock.Release()
	before := d.Stats()
	done := make(chan ntstatus.Status)
	go func() { done <- d.ReadPages(0, m) }()
	for deadline := time.Now().Add(10 * time.Second); d.Stats().RoomWaits == before.RoomWaits; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the request did not wait with maxRequests in flight")
		}
	}
	time.Sleep(20 * time.Millisecond)
	if s := d.Stats(); s.InFlight != maxRequests || s.Reads != before.Reads {
		t.Errorf("with maxRequests in flight: %d in flight, %d reads done; want the request waiting", s.InFlight, s.Reads-before.Reads)
	}
	d.ext.lock.Acquire()
	d.ext.inFlight -= maxRequests
	d.ext.lock.Release()
	d.ext.wakeRoom()
	select {
	case st := <-done:
		if st != ntstatus.Success {
			t.Fatalf("ReadPages: %v", st)
		}
	case <-time.After(time.Minute):
		t.Fatal("the request did not run once room came")
	}
}

// TestDeviceErrors: blkdebug fails the reads and writes testdata's config
// names; each comes back as STATUS_IO_DEVICE_ERROR, counted, and the disk
// goes on serving the pages around them.
func TestDeviceErrors(t *testing.T) {
	d := testDisk(t)
	m, b := pagesMdl(t, 1)
	before := d.Stats()
	if st := d.ReadPages(readErrorPage*physmem.PageSize, m); st != ntstatus.IoDeviceError {
		t.Errorf("read of page %d: %v, want STATUS_IO_DEVICE_ERROR", readErrorPage, st)
	}
	if st := d.WritePages(writeErrorPage*physmem.PageSize, m); st != ntstatus.IoDeviceError {
		t.Errorf("write of page %d: %v, want STATUS_IO_DEVICE_ERROR", writeErrorPage, st)
	}
	// A cluster that spans the bad page fails whole.
	c, _ := pagesMdl(t, 16)
	if st := d.ReadPages((readErrorPage-8)*physmem.PageSize, c); st != ntstatus.IoDeviceError {
		t.Errorf("16-page read spanning page %d: %v, want STATUS_IO_DEVICE_ERROR", readErrorPage, st)
	}
	if got := d.Stats().Errors - before.Errors; got != 3 {
		t.Errorf("%d failed requests counted, want 3", got)
	}
	// Writes to the read-error page and reads of the write-error page are
	// fine, and so is everything after.
	if st := d.WritePages(readErrorPage*physmem.PageSize, m); st != ntstatus.Success {
		t.Errorf("write of page %d: %v", readErrorPage, st)
	}
	if st := d.ReadPages(writeErrorPage*physmem.PageSize, m); st != ntstatus.Success {
		t.Errorf("read of page %d: %v", writeErrorPage, st)
	}
	const after = readErrorPage + 2
	pattern(b, after, 1)
	want := slices.Clone(b)
	if st := d.WritePages(after*physmem.PageSize, m); st != ntstatus.Success {
		t.Errorf("write after the errors: %v", st)
	}
	clear(b)
	if st := d.ReadPages(after*physmem.PageSize, m); st != ntstatus.Success || mismatch(b, want) >= 0 {
		t.Errorf("read after the errors: %v, data matches: %v", st, mismatch(b, want) < 0)
	}
}

func TestRefusesBadRequests(t *testing.T) {
	d := testDisk(t)
	m, _ := pagesMdl(t, 2)
	for _, c := range []struct {
		name string
		off  uint64
	}{
		{"unaligned offset", 512},
		{"past the end", d.Size()},
		{"across the end", d.Size() - physmem.PageSize},
		{"overflowing", ^uint64(0) &^ physmem.PageMask},
	} {
		if st := d.ReadPages(c.off, m); st != ntstatus.InvalidParameter {
			t.Errorf("%s (%#x): %v, want STATUS_INVALID_PARAMETER", c.name, c.off, st)
		}
	}
	if st := d.WritePages(0, nil); st != ntstatus.InvalidParameter {
		t.Errorf("nil MDL: %v", st)
	}
	// An MDL whose pages are not locked describes no frames yet.
	buf, bm, st := NewBuffer(1)
	if st != ntstatus.Success {
		t.Fatal(st)
	}
	defer FreeBuffer(buf, bm)
	u := mm.AllocateMdl(buf, physmem.PageSize)
	defer mm.FreeMdl(u)
	if st := d.ReadPages(0, u); st != ntstatus.InvalidParameter {
		t.Errorf("unlocked MDL: %v", st)
	}
}

func TestRuns(t *testing.T) {
	frames := []physmem.PFN{5, 6, 7, 9, 3, 4}
	var got []int
	for i := 0; i < len(frames); i = runEnd(frames, i) {
		got = append(got, runEnd(frames, i)-i)
	}
	if n := runs(frames); n != 3 || !slices.Equal(got, []int{3, 1, 2}) {
		t.Fatalf("runs = %d, lengths %v; want 3 [3 1 2]", n, got)
	}
}
