package pfn

import (
	"reflect"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// testNodes puts testMap's frames 0-31 on node 0 and 32-63 on node 1, with
// processor 0 on node 0 and processor 1 on node 1.
var testNodes = Nodes{
	Memory:     []NodeRange{{First: 32, End: 64, Node: 1}, {First: 0, End: 32, Node: 0}},
	Processors: []uint32{0, 1},
	Highest:    1,
}

// Free frames of testMap per node: 1-15 and 24-31; 34-63.
const (
	testFree0 = 15 + 8
	testFree1 = 30
)

func newNodeFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, testMap)
	if st := f.db.SetNodes(testNodes); st != ntstatus.Success {
		t.Fatalf("SetNodes: %v", st)
	}
	f.check()
	return f
}

// onNode runs the test as if the current processor were on node.
func onNode(t *testing.T, node uint32) {
	t.Helper()
	onProcessor0(t)
	saved := ke.SaveProcessorNodes()
	t.Cleanup(func() { ke.RestoreProcessorNodes(saved) })
	if !ke.SetProcessorNodes([]uint32{node}, 1) {
		t.Fatal("SetProcessorNodes refused")
	}
}

// onProcessor0 keeps the test on processor 0 until it ends: the node
// tests give processor 0 alone a node, and in the kernel a goroutine may
// otherwise run on any processor.
func onProcessor0(t testing.TB) {
	prev := ke.SetSystemAffinityThreadEx(1)
	t.Cleanup(func() { ke.RevertToUserAffinityThreadEx(prev) })
}

func (f *fixture) nodeFree() (free, zeroed [2]uint64) {
	for _, n := range f.db.NodeStats() {
		free[n.Node], zeroed[n.Node] = n.Free, n.Zeroed
	}
	return
}

func TestSetNodesSplitsTheFreeList(t *testing.T) {
	f := newFixture(t, testMap)
	f.db.ZeroSome(testFree0 + 2) // node 0's free frames and 34-35 zeroed: that list is split too
	if st := f.db.SetNodes(testNodes); st != ntstatus.Success {
		t.Fatalf("SetNodes: %v", st)
	}
	f.check()
	want := []NodeStats{
		{Node: 0, Memory: []NodeRange{{0, 32, 0}}, Processors: 1, Zeroed: testFree0},
		{Node: 1, Memory: []NodeRange{{32, 64, 1}}, Processors: 2, Zeroed: 2, Free: testFree1 - 2},
	}
	if got := f.db.NodeStats(); !reflect.DeepEqual(got, want) {
		t.Fatalf("NodeStats:\n%+v\nwant\n%+v", got, want)
	}
	if f.count(StateFree) != testFree-testFree0-2 || f.count(StateZeroed) != testFree0+2 {
		t.Fatalf("totals changed: %v", f.db.Stats())
	}
	for p, node := range map[physmem.PFN]uint32{0: 0, 31: 0, 32: 1, 63: 1, 64: 0} {
		if got := f.db.NodeOf(p); got != node {
			t.Errorf("NodeOf(%#x) = %d, want %d", p, got, node)
		}
	}
	if f.db.NodeCount() != 2 {
		t.Errorf("NodeCount = %d", f.db.NodeCount())
	}
}

func TestSetNodesRefusesBadTables(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    Nodes
	}{
		{"overlap", Nodes{Memory: []NodeRange{{0, 33, 0}, {32, 64, 1}}, Highest: 1}},
		{"empty range", Nodes{Memory: []NodeRange{{5, 5, 0}}}},
		{"node above highest", Nodes{Memory: []NodeRange{{0, 8, 2}}, Highest: 1}},
		{"processor above highest", Nodes{Processors: []uint32{0, 3}, Highest: 1}},
		{"too many nodes", Nodes{Highest: MaxNodes}},
		{"too many ranges", Nodes{Memory: make([]NodeRange, MaxNodeRanges+1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testMap)
			if st := f.db.SetNodes(tc.n); st != ntstatus.InvalidParameter {
				t.Fatalf("SetNodes = %v", st)
			}
			if f.db.NodeCount() != 1 {
				t.Fatal("a refused table changed the nodes")
			}
			f.check()
		})
	}
}

// TestAllocationPrefersTheCurrentNode: frames come from the current
// processor's node until it has none, then from the next node.
func TestAllocationPrefersTheCurrentNode(t *testing.T) {
	for _, home := range []uint32{0, 1} {
		f := newNodeFixture(t)
		onNode(t, home)
		local := [2]int{testFree0, testFree1}[home]
		for i := range testFree {
			p := f.alloc(i%2 == 0)
			want := home
			if i >= local {
				want = 1 - home
			}
			if got := f.db.NodeOf(p); got != want {
				t.Fatalf("home %d: allocation %d took frame %#x of node %d", home, i, p, got)
			}
			f.check()
		}
	}
}

// TestRequiredNode: a request that requires its node takes nothing from
// another, a standby frame of its node included, and a preferred one falls
// back.
func TestRequiredNode(t *testing.T) {
	f := newNodeFixture(t)
	var standby physmem.PFN
	for i := range testFree1 {
		p, ok := f.db.AllocateOnNode(testPte(uint64(i)), testOriginal, false, 1, true)
		if !ok || f.db.NodeOf(p) != 1 {
			t.Fatalf("allocation %d on node 1: %#x %v", i, p, ok)
		}
		if i == 0 {
			standby = p
		}
	}
	if p, ok := f.db.AllocateOnNode(1, testOriginal, true, 1, true); ok {
		t.Fatalf("node 1 is empty but gave frame %#x", p)
	}
	// A standby frame of node 0 does not do; one of node 1 does.
	p0 := f.alloc(false)
	f.db.Unmap(p0, false, false)
	f.db.Unmap(standby, false, false)
	f.check()
	if p, ok := f.db.AllocateOnNode(2, testOriginal, true, 1, true); !ok || p != standby {
		t.Fatalf("required node 1 with its standby frame %#x: %#x %v", standby, p, ok)
	}
	if p, ok := f.db.AllocateOnNode(3, testOriginal, false, 1, false); !ok || f.db.NodeOf(p) != 0 {
		t.Fatalf("preferred node 1, empty: %#x %v", p, ok)
	}
	if _, ok := f.db.AllocateOnNode(4, testOriginal, false, 2, true); ok {
		t.Fatal("a required node that does not exist gave a frame")
	}
	if p, ok := f.db.AllocateOnNode(5, testOriginal, false, 7, false); !ok || f.db.NodeOf(p) != 0 {
		t.Fatalf("a preferred node that does not exist: %#x %v", p, ok)
	}
	f.check()
}

func TestContiguousOnNode(t *testing.T) {
	f := newNodeFixture(t)
	for _, tc := range []struct {
		node     uint32
		required bool
		want     physmem.PFN
		st       ntstatus.Status
	}{
		{0, true, 28, ntstatus.Success},              // the highest run of 4 on node 0 is 28-31
		{1, true, 60, ntstatus.Success},              // on node 1, 60-63
		{0, true, 24, ntstatus.Success},              // the rest of 24-31
		{0, true, 0, ntstatus.InsufficientResources}, // 1-15 has runs, but below the lowest frame 20
		{0, false, 56, ntstatus.Success},             // node 0 has none left above 20: node 1's
		{2, true, 0, ntstatus.InsufficientResources},
	} {
		got, st := f.db.AllocateContiguousOnNode(4, 20, 63, 0, Cached, tc.node, tc.required)
		if st != tc.st || st == ntstatus.Success && got != tc.want {
			t.Fatalf("node %d required %v: %#x %v, want %#x %v", tc.node, tc.required, got, st, tc.want, tc.st)
		}
		f.check()
	}
	onNode(t, 1)
	if got, st := f.db.AllocateContiguous(2, 0, 63, 0, Cached); st != ntstatus.Success || f.db.NodeOf(got) != 1 {
		t.Fatalf("AllocateContiguous on node 1's processor: %#x %v", got, st)
	}
}

// TestZeroSomeStartsAtHome: the zeroing step empties the current node's
// free list first, then the others'.
func TestZeroSomeStartsAtHome(t *testing.T) {
	f := newNodeFixture(t)
	onNode(t, 1)
	f.db.ZeroSome(testFree1 + 2)
	free, zeroed := f.nodeFree()
	if zeroed != [2]uint64{2, testFree1} || free != [2]uint64{testFree0 - 2, 0} {
		t.Fatalf("free %v zeroed %v", free, zeroed)
	}
	f.check()
	if err := f.db.CheckZeroed(); err != nil {
		t.Fatal(err)
	}
}

func TestNodesInTheDump(t *testing.T) {
	f := newNodeFixture(t)
	f.alloc(true)
	d, err := OpenDump(f.db.AppendDump(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.NodeStats(), f.db.NodeStats(); !reflect.DeepEqual(got, want) {
		t.Fatalf("dump's nodes %+v, want %+v", got, want)
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	s := f.db.NewSnapshot()
	if got, want := s.NodeStats(), f.db.NodeStats(); !reflect.DeepEqual(got, want) {
		t.Fatalf("snapshot's nodes %+v, want %+v", got, want)
	}
}

// TestCheckFindsAFrameOnAnotherNodesList: a frame linked onto the wrong
// node's list is a broken invariant.
func TestCheckFindsAFrameOnAnotherNodesList(t *testing.T) {
	f := newFixture(t, testMap)
	// The table changes under the lists: frame 40 is now node 1's, still on
	// node 0's free list.
	f.db.nodes = nodeTable{count: 2, n: 1, ranges: [MaxNodeRanges]NodeRange{{First: 40, End: 41, Node: 1}}}
	if err := f.db.Check(); err == nil || err.Error() != "pfn: Free list: frame 0x28 is on node 1" {
		t.Fatalf("Check = %v", err)
	}
}
