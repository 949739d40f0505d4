// Package pagingbench measures paging over the real virtio disk against
// the disk's raw transfers, in one run, interleaved round by round
// (`make ktest PKG=./drivers/virtioblk/pagingbench ARGS='-run ^$$ -bench .'`).
// It is its own package so that its boot gets a page file without the
// error injector drivers/virtioblk's tests put in front of theirs.
package pagingbench

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"ntgo/drivers/virtioblk"
	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/paging/pagingtest"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/nt/arch"
	"ntgo/nt/ntstatus"
)

// round is how many pages each variant moves per round.
const round = 64

var tag = pool.MakeTag("PgBn")

// BenchmarkPagingVsRaw reports, per page, the median over rounds of:
//
//	raw-read     ReadPages of one page (the disk alone)
//	hard-fault   a touch of a page that is only in the paging file: the
//	             fault, the read the fault handler submits, the thread's
//	             sleep until the disk's interrupt maps the page, the retry
//	raw-write16  WritePages of 16-page clusters, sequential, each round
//	             further into the disk's far half
//	writer       the modified page writer writing trimmed dirty pages
//	             (WriteModified: a cluster of 64, slots, PFN moves)
//	rewrite16    raw-write16 over the same 64 pages every round
//
// and the ratios hard-fault/raw-read and writer/raw-write16. The writer's
// slots are handed out next-fit, so each round it writes pages of the
// image file never written before, which costs the host a block
// allocation each: raw-write16 moves on the same way, so that the two
// compare like for like; rewrite16 shows what overwriting written blocks
// costs instead. Between rounds, untimed, the pages are made dirty and
// trimmed (for the writer) and their standby frames taken away (for the
// hard faults).
func BenchmarkPagingVsRaw(b *testing.B) {
	if !arch.Bare() {
		b.Skip("needs the kernel and its virtio disk")
	}
	d := pagingDisk(b)
	p := mm.SystemPager()
	size := uintptr(round) * physmem.PageSize
	block := ex.AllocatePoolWithTag(pool.PagedPool, size, tag)
	if block == nil {
		b.Fatal("paged pool refused")
	}
	defer ex.FreePoolWithTag(block, tag)
	base := uintptr(block)
	one := mm.AllocatePagesForMdl(0, mm.MaxPhysicalAddress, 0, physmem.PageSize)
	sixteen := mm.AllocatePagesForMdl(0, mm.MaxPhysicalAddress, 0, 16*physmem.PageSize)
	defer func() { mm.FreePagesFromMdl(one); mm.FreeMdl(one); mm.FreePagesFromMdl(sixteen); mm.FreeMdl(sixteen) }()
	// Raw transfers use the disk's far half, which the paging file's
	// slots (handed out from the start) do not reach in a benchmark.
	rawBase := d.Size() / 2
	var results [5][]float64
	timed := func(i int, n int, f func()) {
		start := time.Now()
		f()
		results[i] = append(results[i], float64(time.Since(start).Nanoseconds())/float64(n))
	}
	dirty := func() {
		for a := base; a < base+size; a += physmem.PageSize {
			*(*uint64)(unsafe.Add(unsafe.Pointer(nil), a)) = uint64(a)
		}
	}
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		b.StopTimer()
		dirty()
		p.TrimRange(base, size)
		b.StartTimer()
		timed(3, round, func() {
			for n := 0; n < round; {
				w, st := p.WriteModified(round - n)
				if st != ntstatus.Success || w == 0 {
					break // the background writer took the rest
				}
				n += w
			}
		})
		timed(2, round, func() {
			for i := 0; i < round; i += 16 {
				if st := d.WritePages(rawBase+uint64(done+i)*physmem.PageSize, sixteen); st != ntstatus.Success {
					b.Fatal(st)
				}
			}
		})
		timed(4, round, func() {
			for i := 0; i < round; i += 16 {
				if st := d.WritePages(rawBase-uint64(round-i)*physmem.PageSize, sixteen); st != ntstatus.Success {
					b.Fatal(st)
				}
			}
		})
		b.StopTimer()
		pageOut(b, base, size)
		b.StartTimer()
		timed(1, round, func() {
			for a := base; a < base+size; a += physmem.PageSize {
				sink += *(*uint64)(unsafe.Add(unsafe.Pointer(nil), a))
			}
		})
		timed(0, round, func() {
			for i := range round {
				if st := d.ReadPages(rawBase+uint64(i)*physmem.PageSize, one); st != ntstatus.Success {
					b.Fatal(st)
				}
			}
		})
	}
	b.StopTimer()
	names := [...]string{"raw-read", "hard-fault", "raw-write16", "writer", "rewrite16"}
	var med [5]float64
	for i, r := range results {
		slices.Sort(r)
		med[i] = r[len(r)/2]
		b.ReportMetric(med[i], names[i]+"-ns/page")
	}
	b.ReportMetric(med[1]/med[0], "hard-fault/raw-read")
	b.ReportMetric(med[3]/med[2], "writer/raw-write16")
}

// TestCopyWithPagedOutPool: `copy` into and RtlCopyMemory out of paged-out
// paged pool, over the virtio disk, whose reads the fault handler starts
// itself and whose interrupt ends (mm/paging/pagingtest).
func TestCopyWithPagedOutPool(t *testing.T) {
	if !arch.Bare() {
		t.Skip("needs the kernel and its virtio disk")
	}
	pagingDisk(t)
	const pages = 16
	size := uintptr(pages) * physmem.PageSize
	block := ex.AllocatePoolWithTag(pool.PagedPool, size, tag)
	if block == nil {
		t.Fatal("paged pool refused")
	}
	defer ex.FreePoolWithTag(block, tag)
	before := pagingDisk(t).Stats().PageIns
	pagingtest.CheckCopy(t, uintptr(block), pages, func() { pageOut(t, uintptr(block), size) })
	if got := pagingDisk(t).Stats().PageIns - before; got < pages {
		t.Fatalf("%d reads started by the fault handler for %d paged-out pages", got, pages)
	}
}

// TestConcurrentHardFaults: goroutines copying out of one paged-out block
// at once (where they overlap, collided faults: one read per page, the
// others sleep on it) and out of blocks of their own, over the virtio
// disk; every byte checked, every page read once.
func TestConcurrentHardFaults(t *testing.T) {
	if !arch.Bare() {
		t.Skip("needs the kernel and its virtio disk")
	}
	d := pagingDisk(t)
	const pages, workers = 32, 4
	size := uintptr(pages) * physmem.PageSize
	var blocks [workers + 1]uintptr
	for i := range blocks {
		b := ex.AllocatePoolWithTag(pool.PagedPool, size, tag)
		if b == nil {
			t.Fatal("paged pool refused")
		}
		defer ex.FreePoolWithTag(b, tag)
		blocks[i] = uintptr(b)
		for a := blocks[i]; a < blocks[i]+size; a += 8 {
			*(*uint64)(unsafe.Add(unsafe.Pointer(nil), a)) = uint64(a) ^ 0x5a5a
		}
		pageOut(t, blocks[i], size)
	}
	p := mm.SystemPager()
	before, collided, pageIns := p.PagesRead.Load(), p.CollidedFaults.Load(), d.Stats().PageIns
	errs := make(chan error, 2*workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 * workers {
		src := blocks[workers] // shared
		if w%2 == 1 {
			src = blocks[w/2] // its own
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]byte, size)
			<-start
			copy(dst, unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), src)), size))
			for i := 0; i < len(dst); i += 8 {
				a := src + uintptr(i)
				if got := *(*uint64)(unsafe.Pointer(&dst[i])); got != uint64(a)^0x5a5a {
					errs <- fmt.Errorf("worker %d: %#x read %#x", w, a, got)
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	read := p.PagesRead.Load() - before
	if read != (workers+1)*pages {
		t.Errorf("%d pages read for %d paged-out pages", read, (workers+1)*pages)
	}
	t.Logf("%d pages read (%d by reads the fault handler started), %d collided faults",
		read, d.Stats().PageIns-pageIns, p.CollidedFaults.Load()-collided)
}

// sink keeps the hard-fault loop's loads.
var sink uint64

var (
	diskOnce sync.Once
	disk     *virtioblk.Disk
)

// pagingDisk probes the disk once per boot (a probe initializes the
// device) and makes it the paging file.
func pagingDisk(b testing.TB) *virtioblk.Disk {
	diskOnce.Do(func() {
		ds, err := virtioblk.Probe()
		if err != nil || len(ds) == 0 {
			b.Fatalf("no virtio disk: %v", err)
		}
		if st := mm.AddPagingFile(ds[0]); st != ntstatus.Success {
			b.Fatal(st)
		}
		disk = ds[0]
	})
	if disk == nil {
		b.Fatal("no paging disk")
	}
	return disk
}

// pageOut leaves [base, base+size) only in the paging file: trimmed,
// written, its standby frames taken away.
func pageOut(b testing.TB, base, size uintptr) {
	p := mm.SystemPager()
	p.TrimRange(base, size)
	for deadline := time.Now().Add(10 * time.Second); ; {
		p.WriteModified(round)
		out := 0
		for a := base; a < base+size; a += physmem.PageSize {
			_, e := mm.Lookup(a).Last()
			if e.Kind() == pte.KindTransition {
				if info, _ := mm.PFN.Decode(e.Frame()); info.State == pfn.StateStandby {
					mm.PFN.StandbyToFree(e.Frame())
					_, e = mm.Lookup(a).Last()
				}
			}
			if e.Kind() == pte.KindPageFile {
				out++
			}
		}
		if out == int(size/physmem.PageSize) {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d pages paged out", out)
		}
	}
}
