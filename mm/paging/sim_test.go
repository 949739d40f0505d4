package paging_test

import (
	"fmt"
	"sync"
	"testing"

	"ntgo/mm/paging"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/nt/ntstatus"
)

const (
	pageSize   = physmem.PageSize
	regionBase = uintptr(0xFFFFF8A000000000) // NT's paged pool
)

// memDevice is an in-memory paging file over the simulated frames.
type memDevice struct {
	mu         sync.Mutex // the writer has several writes in flight
	mem        *physmem.Sim
	slots      map[uint64]*[pageSize]byte // by page offset
	failReads  bool
	failWrites bool
	reads      int
	writes     int
}

func (d *memDevice) Read(off uint64, frames []physmem.PFN) ntstatus.Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failReads {
		return ntstatus.DeviceDataError
	}
	for i, f := range frames {
		b, ok := d.slots[off/pageSize+uint64(i)]
		if !ok {
			return ntstatus.DeviceDataError // never written: a pager bug
		}
		*d.mem.Frame(f) = *b
		d.reads++
	}
	return ntstatus.Success
}

func (d *memDevice) Write(off uint64, frames []physmem.PFN) ntstatus.Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failWrites {
		return ntstatus.IoDeviceError
	}
	for i, f := range frames {
		b := new([pageSize]byte)
		*b = *d.mem.Frame(f)
		d.slots[off/pageSize+uint64(i)] = b
		d.writes++
	}
	d.writes -= len(frames) - 1 // one transfer
	return ntstatus.Success
}

// mutex is the host's page-table lock.
type mutex struct{ sync.Mutex }

// sim is simulated memory with a pager over one pageable region: frames
// for pages from a PFN database over mem, page tables from a ptesim
// machine, and a model of what each page must hold.
type sim struct {
	t     testing.TB
	m     *ptesim.Machine
	mem   *physmem.Sim
	db    *pfn.Database
	lock  *mutex
	p     *paging.Pager
	dev   *memDevice
	pages int
	// version per committed page: 0 never written (zeros), else what the
	// last write stored.
	want     map[uintptr]uint64
	versions uint64
	// limit is the commit limit the sim keeps: pages committed at most.
	limit int
}

// newSim has frames frames of RAM (frame 0 reserved), a region of pages
// pages and a paging file of file pages (0: none).
func newSim(t testing.TB, frames, pages, file int) *sim {
	t.Helper()
	s := &sim{t: t, m: ptesim.New(256), mem: physmem.NewSim(physmem.PFN(frames)), db: new(pfn.Database),
		lock: new(mutex), pages: pages, want: map[uintptr]uint64{}}
	t.Cleanup(s.m.Close)
	t.Cleanup(s.mem.Close)
	m := []pfn.Range{{Base: 0, Length: pageSize, Type: pfn.RangeReserved},
		{Base: pageSize, Length: uint64(frames-1) * pageSize, Type: pfn.RangeFree}}
	if st := s.db.Init(make([]pfn.Entry, frames), m, s.mem); st != ntstatus.Success {
		t.Fatal(st)
	}
	s.p = paging.New(s.m.PT, s.db, s.lock, [2]uintptr{regionBase, uintptr(pages) * pageSize})
	s.db.SetTransitionHook(s.p.Restore)
	s.limit = frames / 2
	if file > 0 {
		s.dev = &memDevice{mem: s.mem, slots: map[uint64]*[pageSize]byte{}}
		s.p.SetDevice(s.dev, file)
		s.limit += file - 1
	}
	return s
}

func (s *sim) va(i int) uintptr { return regionBase + uintptr(i)*pageSize }

// commit makes page i demand-zero, if the commit limit allows.
func (s *sim) commit(i int) bool {
	va := s.va(i)
	if _, ok := s.want[va]; ok || len(s.want) >= s.limit {
		return false
	}
	s.lock.Lock()
	_, st := s.m.PT.Swap(va, pte.DemandZero(pte.ProtReadWrite), nil)
	s.lock.Unlock()
	if st != ntstatus.Success {
		s.t.Fatal(st)
	}
	s.want[va] = 0
	return true
}

func (s *sim) free(i int) {
	va := s.va(i)
	if _, ok := s.want[va]; !ok {
		return
	}
	s.p.Free(va, func(va uintptr, e pte.PTE) { s.m.PT.Swap(va, e, nil) })
	delete(s.want, va)
}

// resolve makes page va valid for access a as the fault path would,
// trimming and writing when memory runs out, and returns its frame.
func (s *sim) resolve(va uintptr, a pte.Access) physmem.PFN {
	s.t.Helper()
	for try := 0; ; try++ {
		s.lock.Lock()
		r := s.p.Resolve(va, a)
		s.lock.Unlock()
		var st ntstatus.Status
		if r == paging.NeedPageIn || r == paging.Collided {
			r, st = s.p.PageIn(va, a)
		}
		switch {
		case st != ntstatus.Success:
			s.t.Fatalf("page-in of %#x: %v", va, st)
		case r == paging.Resolved:
			e, _ := s.m.PT.Leaf(va)
			if !e.Valid() {
				s.t.Fatalf("%#x resolved but %v", va, e)
			}
			return e.Frame()
		case r == paging.NoMemory && try < 8:
			if try > 2 && s.dev != nil {
				s.dev.failWrites = false // the disk recovers: what waited on Modified is written
			}
			s.p.Trim(8, 0)
			s.p.WriteModified(64)
		default:
			s.t.Fatalf("fault on %#x: %v", va, r)
		}
	}
}

// pattern is word w of page va at version v.
func pattern(va uintptr, v uint64, w int) uint64 {
	if v == 0 {
		return 0
	}
	return uint64(va)*0x9E3779B97F4A7C15 ^ v<<20 ^ uint64(w)
}

// words checked per page.
const words = 8

func fill(b *[pageSize]byte, va uintptr, v uint64) {
	for w := range words {
		x := pattern(va, v, w)
		for i := range 8 {
			b[w*512+i] = byte(x >> (8 * i))
		}
	}
}

func matches(b *[pageSize]byte, va uintptr, v uint64) bool {
	for w := range words {
		x := pattern(va, v, w)
		for i := range 8 {
			if b[w*512+i] != byte(x>>(8*i)) {
				return false
			}
		}
	}
	return true
}

// touch reads (write false) or writes page i as the CPU would: faulting it
// in, then setting Accessed (and Dirty).
func (s *sim) touch(i int, write bool) {
	s.t.Helper()
	va := s.va(i)
	v, ok := s.want[va]
	if !ok {
		return
	}
	a := pte.AccessRead
	if write {
		a = pte.AccessWrite
	}
	f := s.resolve(va, a)
	s.lock.Lock()
	e, _ := s.m.PT.Leaf(va)
	bits := pte.Accessed
	if write {
		bits |= pte.Dirty
	}
	s.m.PT.Replace(va, e|bits, nil)
	s.lock.Unlock()
	if write {
		s.versions++
		s.want[va] = s.versions
		fill(s.mem.Frame(f), va, s.versions)
	} else if !matches(s.mem.Frame(f), va, v) {
		s.t.Fatalf("read of %#x: frame %#x does not hold version %d", va, f, v)
	}
}

// repurpose takes n frames from the lists and gives them back, as another
// user of memory would: standby frames go back to their owners' paging
// file.
func (s *sim) repurpose(n int) {
	var fs []physmem.PFN
	for range n {
		f, ok := s.db.AllocateAny(0, 0)
		if !ok {
			break
		}
		fs = append(fs, f)
	}
	for _, f := range fs {
		s.db.Free(f, 0)
	}
}

// check verifies that every pageable page is in exactly one place with the
// contents last written, that the lists account for every frame, and that
// the slots in use are exactly those the pages name.
func (s *sim) check() {
	s.t.Helper()
	if err := s.db.Check(); err != nil {
		s.t.Fatal(err)
	}
	if err := s.m.Check(nil); err != nil {
		s.t.Fatal(err)
	}
	slotOwner := map[uint32]uintptr{}
	claim := func(slot uint32, va uintptr) {
		if slot == 0 {
			return
		}
		if o, dup := slotOwner[slot]; dup {
			s.t.Fatalf("slot %#x held by %#x and %#x", slot, o, va)
		}
		if s.p.Slots() == nil || !s.p.Slots().InUse(slot) {
			s.t.Fatalf("%#x names free slot %#x", va, slot)
		}
		slotOwner[slot] = va
	}
	valid, listed := 0, 0
	for i := range s.pages {
		va := s.va(i)
		e, _ := s.m.PT.Leaf(va)
		v, committed := s.want[va]
		if !committed {
			if e != 0 {
				s.t.Fatalf("uncommitted %#x has PTE %v", va, e)
			}
			continue
		}
		where := ""
		switch e.Kind() {
		case pte.KindValid, pte.KindTransition:
			info, _ := s.db.Decode(e.Frame())
			if info.Pte != pte.PteAddress(va) {
				s.t.Fatalf("%#x: frame %v does not name its PTE", va, info)
			}
			ok := info.State == pfn.StateActive
			if e.Kind() == pte.KindTransition {
				ok = info.State == pfn.StateStandby || info.State == pfn.StateModified ||
					info.State == pfn.StateModifiedNoWrite || info.State == pfn.StateTransition
				listed++
			} else {
				valid++
			}
			if !ok {
				s.t.Fatalf("%#x is %v but frame %v", va, e, info)
			}
			slot := pte.PTE(info.OriginalPte).Slot()
			claim(slot, va)
			if info.State == pfn.StateStandby && (slot == 0 || !matches(s.dev.slots[uint64(slot)], va, v)) {
				s.t.Fatalf("standby %#x (%v) has no current copy", va, info)
			}
			if !matches(s.mem.Frame(e.Frame()), va, v) {
				s.t.Fatalf("%#x: frame %#x does not hold version %d", va, e.Frame(), v)
			}
			where = "frame"
		case pte.KindPageFile:
			claim(e.Slot(), va)
			if !matches(s.dev.slots[uint64(e.Slot())], va, v) {
				s.t.Fatalf("%#x: slot %#x does not hold version %d", va, e.Slot(), v)
			}
			where = "file"
		case pte.KindDemandZero:
			if v != 0 {
				s.t.Fatalf("%#x written (version %d) but demand-zero", va, v)
			}
			where = "zero"
		}
		if where == "" {
			s.t.Fatalf("%#x: PTE %v", va, e)
		}
	}
	if s.p.Slots() != nil && s.p.Slots().Used() != len(slotOwner) {
		s.t.Fatalf("%d slots in use, pages name %d", s.p.Slots().Used(), len(slotOwner))
	}
	if s.p.WsPages() != valid {
		s.t.Fatalf("working set counts %d pages, %d are valid", s.p.WsPages(), valid)
	}
	st := s.db.Stats()
	if int(st.ByState[pfn.StateActive]) != valid {
		s.t.Fatalf("%d active frames, %d valid pages", st.ByState[pfn.StateActive], valid)
	}
	onLists := st.ByState[pfn.StateStandby] + st.ByState[pfn.StateModified] +
		st.ByState[pfn.StateModifiedNoWrite] + st.ByState[pfn.StateTransition]
	if int(onLists) != listed {
		s.t.Fatalf("%d standby/modified/transition frames, %d transition pages", onLists, listed)
	}
}

func (s *sim) String() string {
	st := s.db.Stats()
	return fmt.Sprintf("ws %d, standby %d, modified %d, free+zeroed %d, slots %d",
		s.p.WsPages(), st.ByState[pfn.StateStandby], st.ByState[pfn.StateModified],
		st.ByState[pfn.StateFree]+st.ByState[pfn.StateZeroed], s.p.Slots().Used())
}
