package kernel_test

import (
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ntgo/mm"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/arch"
)

// frameWaitMargin is how many available frames the test leaves while it
// takes the rest into MDLs, for the MDLs' own Go memory: the anonymous
// pages it then touches take the last of them.
const frameWaitMargin = 64

// A demand-zero fault on the Go runtime's memory that finds no free frame
// waits for one, as NT's fault waits for a free page, rather than stopping
// the system: with every frame held in locked MDLs, touching fresh
// anonymous memory page after page reaches a fault with no frame; it
// waits (!vm's free-page waits count it) until another goroutine, seeing
// the wait, gives the frames back, and then every page holds what was
// written.
func TestRuntimeFaultWaitsForFrame(t *testing.T) {
	if !arch.Bare() {
		t.Skip("the kernel's fault handler")
	}
	const pages = 4096
	mem, err := syscall.Mmap(-1, 0, pages*physmem.PageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	p := mm.SystemPager()
	waitsBefore := p.FreePageWaits.Load()
	mdls := make([]*mm.Mdl, 0, 256)
	var holding, sawWait atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !holding.Load() {
		}
		// Spin rather than sleep: waking a sleeper may need a thread
		// the runtime must first create, out of frames nobody has.
		deadline := time.Now().Add(10 * time.Second)
		for p.FreePageWaits.Load() == waitsBefore && time.Now().Before(deadline) {
		}
		sawWait.Store(p.FreePageWaits.Load() != waitsBefore)
		for _, m := range mdls {
			mm.FreePagesFromMdl(m)
		}
	}()
	holdStart := time.Now()
	for len(mdls) < cap(mdls) {
		a := mm.PFN.Stats().Available()
		if a <= frameWaitMargin {
			break
		}
		m := mm.AllocatePagesForMdlEx(0, ^uint64(0), 0, uintptr(a-frameWaitMargin)*physmem.PageSize, pte.Cached, mm.MmDontZeroAllocation)
		if m == nil {
			break
		}
		mdls = append(mdls, m)
	}
	left := mm.PFN.Stats().Available()
	start := time.Now()
	holding.Store(true)
	touched := 0
	for ; touched < pages && p.FreePageWaits.Load() == waitsBefore; touched++ {
		mem[touched*physmem.PageSize] = byte(touched)
	}
	took := time.Since(start)
	<-done
	t.Logf("holding took %v, the release %v", start.Sub(holdStart), time.Since(start))
	t.Logf("held %d MDLs with %d frames left; touched %d pages in %v, up to the touch that waited", len(mdls), left, touched, took)
	if !sawWait.Load() {
		t.Fatalf("no fault waited for a free frame in 10 s (%d frames were left, %d pages touched)", left, touched)
	}
	for i := range touched {
		if got := mem[i*physmem.PageSize]; got != byte(i) {
			t.Fatalf("page %d holds %d, want %d", i, got, byte(i))
		}
	}
}
