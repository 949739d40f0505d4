package pfn

import (
	"reflect"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/nt/ntstatus"
)

// newLazyFixture is testMap's database with only the first eager frames
// built.
func newLazyFixture(t *testing.T, eager physmem.PFN) *fixture {
	t.Helper()
	f := &fixture{t: t, db: new(Database), sim: physmem.NewSim(testFrames)}
	t.Cleanup(f.sim.Close)
	if st := f.db.InitLazy(make([]Entry, testFrames), testMap, f.sim, eager); st != ntstatus.Success {
		t.Fatalf("InitLazy: %v", st)
	}
	f.check()
	return f
}

// Growing a lazily built database chunk by chunk ends in exactly the
// database Init builds, and it counts every free frame to come as
// deferred RAM meanwhile.
func TestGrowSomeEndsInInitsDatabase(t *testing.T) {
	whole := newFixture(t, testMap)
	f := newLazyFixture(t, 10)
	if got := f.db.Frames(); got != 10 {
		t.Fatalf("Frames = %d after InitLazy(10)", got)
	}
	s := f.db.Stats()
	if s.ByState[StateFree] != 9 || s.Deferred != testFree-9+testInUse || s.RAM() != whole.db.Stats().RAM() {
		t.Fatalf("lazy stats: free %d deferred %d RAM %d, want 9, %d, %d", s.ByState[StateFree], s.Deferred, s.RAM(), testFree-9+testInUse, whole.db.Stats().RAM())
	}
	for f.db.GrowSome(7) {
		f.check()
	}
	f.check()
	if f.db.Frames() != testFrames || f.db.Stats() != whole.db.Stats() {
		t.Fatalf("grown: %v\nwant %v", f.db.Stats(), whole.db.Stats())
	}
	if !reflect.DeepEqual(f.db.entries, whole.db.entries) || f.db.lists != whole.db.lists {
		t.Fatal("the grown database differs from Init's")
	}
}

// An allocation that finds no frame grows the database first: every free
// frame of the map can be had although only a few were built, and new free
// frames come before standby ones.
func TestAllocationGrowsTheDatabase(t *testing.T) {
	f := newLazyFixture(t, 3) // frames 1-2 free
	p := f.alloc(false)
	f.db.Unmap(p, false, false) // standby
	for range testFree - 1 {
		if q := f.alloc(true); q == p {
			t.Fatalf("standby frame %#x repurposed while deferred memory was left", p)
		}
		f.check()
	}
	if f.db.Frames() != testFrames || f.db.Stats().Deferred != 0 {
		t.Fatalf("after taking every free frame: %d frames, %d deferred", f.db.Frames(), f.db.Stats().Deferred)
	}
	if q := f.alloc(false); q != p {
		t.Fatalf("last allocation took %#x, not the standby frame %#x", q, p)
	}
}

// A contiguous run above the built frames is found: the database grows.
func TestContiguousGrowsTheDatabase(t *testing.T) {
	f := newLazyFixture(t, 5)
	got, st := f.db.AllocateContiguous(8, 40, 63, 0, Cached)
	if st != ntstatus.Success || got != 56 {
		t.Fatalf("AllocateContiguous above the built frames: %#x %v", got, st)
	}
	f.check()
}

// Nodes set while the database is still growing: grown frames join their
// own node's list, also where a chunk spans a node boundary (frame 40,
// inside a free range), and a request for a node whose frames are not yet
// built grows the database although another node has frames.
func TestGrowIntoNodes(t *testing.T) {
	f := newLazyFixture(t, 20)
	nodes := Nodes{Memory: []NodeRange{{First: 0, End: 40, Node: 0}, {First: 40, End: 64, Node: 1}}, Highest: 1}
	if st := f.db.SetNodes(nodes); st != ntstatus.Success {
		t.Fatal(st)
	}
	p, ok := f.db.AllocateOnNode(testPte(1), testOriginal, false, 1, true)
	if !ok || f.db.NodeOf(p) != 1 {
		t.Fatalf("required node 1, not yet built: %#x %v", p, ok)
	}
	f.db.Free(p, testPte(1))
	f.check()
	f = newLazyFixture(t, 20)
	f.db.SetNodes(nodes)
	for f.db.GrowSome(15) {
		f.check()
	}
	free, _ := f.nodeFree()
	if free != [2]uint64{15 + 8 + 6, 24} {
		t.Fatalf("free per node %v", free)
	}
}

// A snapshot taken while the database grows holds what was built, and the
// dump likewise.
func TestSnapshotWhileGrowing(t *testing.T) {
	f := newLazyFixture(t, 30)
	s := f.db.NewSnapshot()
	f.db.GrowSome(20)
	f.db.Snapshot(s)
	if s.Frames() != 50 || s.Stats() != f.db.Stats() {
		t.Fatalf("snapshot: %d frames %v, want 50 %v", s.Frames(), s.Stats(), f.db.Stats())
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDump(f.db.AppendDump(nil))
	if err != nil || d.Stats() != f.db.Stats() {
		t.Fatalf("dump: %v %v", d.Stats(), err)
	}
}
