package paging_test

import (
	"sync"
	"testing"
	"time"

	"ntgo/mm/paging"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

func (s *sim) leaf(i int) pte.PTE {
	e, _ := s.m.PT.Leaf(s.va(i))
	return e
}

func (s *sim) frameState(i int) pfn.State {
	info, _ := s.db.Decode(s.leaf(i).Frame())
	return info.State
}

// More pageable memory than RAM: every page written, read back, freed.
func TestMoreThanRAM(t *testing.T) {
	s := newSim(t, 24, 64, 96)
	n := 48
	for i := range n {
		if !s.commit(i) {
			t.Fatalf("commit %d refused", i)
		}
	}
	for i := range n {
		s.touch(i, true)
		s.check()
	}
	for i := range n {
		s.touch(i, false)
		s.check()
	}
	if s.p.HardFaults.Load() == 0 || s.p.PagesWritten.Load() == 0 || s.p.Repurposed.Load() == 0 {
		t.Fatalf("hard faults %d, pages written %d, repurposed %d: nothing moved",
			s.p.HardFaults.Load(), s.p.PagesWritten.Load(), s.p.Repurposed.Load())
	}
	t.Logf("%v; hard %d soft %d written %d in %d writes", s, s.p.HardFaults.Load(), s.p.TransitionFaults.Load(),
		s.p.PagesWritten.Load(), s.p.Writes.Load())
	for i := range n {
		s.free(i)
	}
	s.check()
	if s.p.Slots().Used() != 0 || s.p.WsPages() != 0 || s.db.Stats().Available() != 23 {
		t.Fatalf("after freeing everything: %v, available %d", s, s.db.Stats().Available())
	}
}

// A trimmed page comes back from Modified and from Standby without I/O.
func TestSoftFaults(t *testing.T) {
	s := newSim(t, 32, 8, 16)
	s.commit(0)
	s.touch(0, true)
	if got := s.p.Trim(8, 0); got != 1 || s.frameState(0) != pfn.StateModified {
		t.Fatalf("trim took %d, frame %v", got, s.frameState(0))
	}
	s.check()
	reads := s.dev.reads
	s.touch(0, false)
	if s.p.TransitionFaults.Load() != 1 || s.dev.reads != reads {
		t.Fatalf("soft fault from Modified: %d transition faults, %d reads", s.p.TransitionFaults.Load(), s.dev.reads-reads)
	}
	// Still dirty (never written): trimmed to Modified again, then written.
	s.p.Trim(8, 0)
	if n, st := s.p.WriteModified(8); n != 1 || st != ntstatus.Success || s.frameState(0) != pfn.StateStandby {
		t.Fatalf("write: %d %v, frame %v", n, st, s.frameState(0))
	}
	s.check()
	s.touch(0, false)
	if s.p.TransitionFaults.Load() != 2 || s.dev.reads != reads {
		t.Fatal("soft fault from Standby did I/O")
	}
	// Clean with a copy: trimmed straight to Standby, its slot kept.
	s.p.Trim(8, 0)
	if s.frameState(0) != pfn.StateStandby || s.p.Slots().Used() != 1 {
		t.Fatalf("clean trim: %v, %d slots", s.frameState(0), s.p.Slots().Used())
	}
	// Rewritten: the copy is stale, its slot freed at the next trim.
	s.touch(0, true)
	s.p.Trim(8, 0)
	if s.frameState(0) != pfn.StateModified || s.p.Slots().Used() != 0 {
		t.Fatalf("dirty trim: %v, %d slots", s.frameState(0), s.p.Slots().Used())
	}
	s.check()
}

// Aging: a page used since the last pass stays; an unused one goes.
func TestAging(t *testing.T) {
	s := newSim(t, 32, 2, 16)
	s.commit(0)
	s.commit(1)
	s.touch(0, true)
	s.touch(1, true)
	if got := s.p.Trim(2, 1); got != 0 {
		t.Fatalf("first pass trimmed %d pages that were just used", got)
	}
	s.touch(0, false)
	if got := s.p.Trim(2, 1); got != 1 || s.leaf(0).Kind() != pte.KindValid || s.leaf(1).Kind() != pte.KindTransition {
		t.Fatalf("second pass trimmed %d: %v %v", got, s.leaf(0), s.leaf(1))
	}
	s.check()
}

// A write error leaves the page on Modified; the next pass writes it.
func TestWriteErrorRetried(t *testing.T) {
	s := newSim(t, 32, 4, 16)
	s.commit(0)
	s.touch(0, true)
	s.p.Trim(4, 0)
	s.dev.failWrites = true
	if n, st := s.p.WriteModified(4); n != 0 || st != ntstatus.IoDeviceError {
		t.Fatalf("failing write: %d %v", n, st)
	}
	if s.frameState(0) != pfn.StateModified || s.p.Slots().Used() != 0 || s.p.WriteErrors.Load() != 1 {
		t.Fatalf("after the error: %v, %d slots", s.frameState(0), s.p.Slots().Used())
	}
	s.check()
	s.repurpose(64) // a modified page is never repurposed
	s.check()
	s.dev.failWrites = false
	if n, st := s.p.WriteModified(4); n != 1 || st != ntstatus.Success || s.frameState(0) != pfn.StateStandby {
		t.Fatalf("retry: %d %v %v", n, st, s.frameState(0))
	}
	s.repurpose(64)
	if s.leaf(0).Kind() != pte.KindPageFile {
		t.Fatalf("repurposed page: %v", s.leaf(0))
	}
	s.touch(0, false)
	s.check()
}

// pageOut leaves page i only in the paging file.
func (s *sim) pageOut(i int) {
	s.t.Helper()
	s.p.Trim(s.pages, 0)
	s.p.WriteModified(s.pages)
	s.repurpose(1 << 10)
	if e := s.leaf(i); e.Kind() != pte.KindPageFile {
		s.t.Fatalf("page %d not paged out: %v", i, e)
	}
}

// pagedOutSim is a small machine whose page 0 was written and is now only
// in the paging file.
func pagedOutSim(t *testing.T) *sim {
	s := newSim(t, 32, 4, 16)
	s.commit(0)
	s.touch(0, true)
	s.pageOut(0)
	return s
}

// An unreadable page: PageIn reports the status, the page is as it was,
// and the stop is KERNEL_DATA_INPAGE_ERROR with NT's parameters.
func TestReadError(t *testing.T) {
	s := pagedOutSim(t)
	e := s.leaf(0)
	s.dev.failReads = true
	r, st := s.p.PageIn(s.va(0), pte.AccessRead)
	if r != paging.NeedPageIn || st != ntstatus.DeviceDataError || s.leaf(0) != e {
		t.Fatalf("failed read: %v %v, PTE %v", r, st, s.leaf(0))
	}
	s.check()
	code, p := paging.InpageError(s.va(0), st, e)
	rec := bugcheck.Catch(func() { bugcheck.KeBugCheckEx(code, p[0], p[1], p[2], p[3]) })
	want := [4]uintptr{pte.PteAddress(s.va(0)), uintptr(ntstatus.DeviceDataError), uintptr(e), s.va(0)}
	if rec == nil || rec.Code != bugcheck.KernelDataInpageError || rec.Params != want {
		t.Fatalf("stop %v, want 0x7A %#x", rec, want)
	}
	s.dev.failReads = false
	s.touch(0, false)
	s.check()
}

// Pages locked by an MDL (a reference) are not trimmed until unlocked.
func TestLockedPagesStay(t *testing.T) {
	s := newSim(t, 32, 2, 16)
	s.commit(0)
	s.touch(0, true)
	f := s.leaf(0).Frame()
	s.db.Reference(f)
	if got := s.p.TrimAll(); got != 0 {
		t.Fatalf("trimmed %d locked pages", got)
	}
	s.db.Dereference(f)
	if got := s.p.TrimAll(); got != 1 {
		t.Fatalf("trimmed %d after the unlock", got)
	}
	s.check()
}

// slowDevice holds reads until released.
type slowDevice struct {
	*memDevice
	started chan struct{}
	release chan struct{}
}

func (d *slowDevice) Read(off uint64, frames []physmem.PFN) ntstatus.Status {
	d.started <- struct{}{}
	<-d.release
	return d.memDevice.Read(off, frames)
}

// Two faults on one page: one read, the second waits for it.
func TestCollidedFault(t *testing.T) {
	s := newSim(t, 32, 2, 16)
	s.commit(0)
	s.touch(0, true)
	s.pageOut(0)
	slow := &slowDevice{memDevice: s.dev, started: make(chan struct{}, 2), release: make(chan struct{})}
	s.p.SetDeviceForTest(slow)
	var wg sync.WaitGroup
	results := make([]paging.Result, 2)
	wg.Add(1)
	go func() { defer wg.Done(); results[0], _ = s.p.PageIn(s.va(0), pte.AccessRead) }()
	<-slow.started
	wg.Add(1)
	go func() { defer wg.Done(); results[1], _ = s.p.PageIn(s.va(0), pte.AccessRead) }()
	for deadline := time.Now().Add(5 * time.Second); s.p.CollidedFaults.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second fault did not wait for the read in flight")
		}
	}
	close(slow.release)
	wg.Wait()
	if results[0] != paging.Resolved || results[1] != paging.Resolved {
		t.Fatalf("results %v", results)
	}
	if s.p.HardFaults.Load() != 1 || len(slow.started) != 0 {
		t.Fatalf("%d hard faults, %d extra reads", s.p.HardFaults.Load(), len(slow.started))
	}
	s.touch(0, false)
	s.check()
}

// Freeing a page wherever it is returns its frame and slot.
func TestFreeEverywhere(t *testing.T) {
	s := newSim(t, 32, 8, 16)
	for i := range 4 {
		s.commit(i)
		s.touch(i, true)
	}
	s.pageOut(0)
	s.touch(1, false) // 1 back in the working set, clean with a copy
	s.touch(2, false)
	s.p.Trim(1, 0) // hand at 2 after pageOut's full pass? trims the next valid one
	s.check()
	for i := range 4 {
		s.free(i)
		s.check()
	}
	if s.p.Slots().Used() != 0 || s.db.Stats().Available() != 31 {
		t.Fatalf("leaked: %v", s)
	}
}

func TestTrimRange(t *testing.T) {
	s := newSim(t, 32, 8, 16)
	for i := range 4 {
		s.commit(i)
		s.touch(i, true)
	}
	if got := s.p.TrimRange(s.va(1), 2*pageSize); got != 2 ||
		s.leaf(0).Kind() != pte.KindValid || s.leaf(1).Kind() != pte.KindTransition ||
		s.leaf(2).Kind() != pte.KindTransition || s.leaf(3).Kind() != pte.KindValid {
		t.Fatalf("TrimRange took %d: %v %v %v %v", got, s.leaf(0), s.leaf(1), s.leaf(2), s.leaf(3))
	}
	s.check()
}

// A read started as the fault handler starts one (StartRead, the device
// later, EndRead from its interrupt): a second fault meanwhile collides
// with it, EndRead maps the page with its contents; a failed one puts the
// page-file PTE back and the next fault on the page, once, reports the
// status (the faulting thread's stop), after which a retry reads again.
func TestReadStartedInTrapContext(t *testing.T) {
	s := pagedOutSim(t)
	orig := s.leaf(0)

	s.lock.Lock()
	r, rd := s.p.StartRead(s.va(0), pte.AccessRead)
	r2, rd2 := s.p.StartRead(s.va(0), pte.AccessWrite)
	s.lock.Unlock()
	if r != paging.NeedPageIn || r2 != paging.Collided || rd2.Slot != rd.Slot ||
		rd.Offset != uint64(orig.Slot())*pageSize || s.leaf(0).Kind() != pte.KindTransition {
		t.Fatalf("start: %v %+v, second %v %+v, PTE %v", r, rd, r2, rd2, s.leaf(0))
	}
	seq := s.p.ReadSeq(rd.Slot)
	if st := s.dev.Read(rd.Offset, []physmem.PFN{rd.Frame}); st != ntstatus.Success {
		t.Fatal(st)
	}
	s.lock.Lock()
	w := s.p.EndRead(rd.Slot, ntstatus.Success, true)
	s.lock.Unlock()
	if w != s.p.ReadWord(rd.Slot) || s.p.ReadSeq(rd.Slot) == seq || !s.leaf(0).Valid() || s.leaf(0).Frame() != rd.Frame {
		t.Fatalf("end: word %#x, seq %d -> %d, PTE %v", w, seq, s.p.ReadSeq(rd.Slot), s.leaf(0))
	}
	s.check()
	s.touch(0, false) // contents checked against the last write

	s.pageOut(0)
	orig = s.leaf(0)
	s.lock.Lock()
	_, rd = s.p.StartRead(s.va(0), pte.AccessRead)
	s.p.EndRead(rd.Slot, ntstatus.DeviceDataError, true)
	after := s.leaf(0)
	r, rd2 = s.p.StartRead(s.va(0), pte.AccessRead)
	r3, rd3 := s.p.StartRead(s.va(0), pte.AccessRead)
	s.lock.Unlock()
	if after != orig {
		t.Fatalf("failed read left PTE %v, want %v", after, orig)
	}
	if r != paging.ReadFailed || rd2.Status != ntstatus.DeviceDataError || r3 != paging.NeedPageIn {
		t.Fatalf("after a failed read: %v %+v, then %v", r, rd2, r3)
	}
	s.dev.Read(rd3.Offset, []physmem.PFN{rd3.Frame})
	s.lock.Lock()
	s.p.EndRead(rd3.Slot, ntstatus.Success, true)
	s.lock.Unlock()
	s.check()
	s.touch(0, false)
}
