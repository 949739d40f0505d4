package pool

import "testing"

// nodeArena is an Arena that can "place" pages on a node: it records what
// it was asked for.
type nodeArena struct {
	*Arena
	node     uint32
	required bool
	calls    int
}

func (a *nodeArena) AllocPagesOnNode(n int, exec bool, node uint32, required bool) (uintptr, bool) {
	a.node, a.required = node, required
	a.calls++
	return a.AllocPages(n, exec)
}

// AllocateOnNode serves a non-paged request in whole pages from the node
// source (counted and freed as a big allocation), refuses without such a
// source, and serves paged pool as Allocate does.
func TestAllocateOnNode(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	tag := MakeTag("Node")
	if va := tp.AllocateOnNode(NonPagedPoolNx, 64, tag, NormalPoolPriority, 0, 1, true); va != 0 {
		t.Fatalf("a source that cannot place pages gave %#x", va)
	}
	na := &nodeArena{Arena: NewArena(64)}
	t.Cleanup(na.Close)
	s, err := New(Config{NonPaged: na, Paged: tp.pg, MaxNonPagedBytes: 64 * pageSize, MaxPagedBytes: 64 * pageSize,
		IRQL: func() uint8 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	before := na.InUse()
	va := s.AllocateOnNode(NonPagedPoolNx|PoolZeroAllocation, 5000, tag, NormalPoolPriority, 0, 3, true)
	if va == 0 || va&pageMask != 0 || na.calls != 1 || na.node != 3 || !na.required || na.InUse() != before+2 {
		t.Fatalf("AllocateOnNode: %#x, calls %d node %d required %v, pages %d", va, na.calls, na.node, na.required, na.InUse()-before)
	}
	if size, _ := s.BlockSize(va); size != 2*pageSize {
		t.Errorf("block size %d, want two pages", size)
	}
	s.Free(va, tag)
	if na.InUse() != before {
		t.Errorf("pages left after the free: %d", na.InUse()-before)
	}
	if va := s.AllocateOnNode(PagedPool, 64, tag, NormalPoolPriority, 0, 3, true); va == 0 || na.calls != 1 {
		t.Errorf("paged pool: %#x, node source called %d times", va, na.calls)
	} else {
		s.Free(va, tag)
	}
}
