package mm_test

import (
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/nt/ke"
)

// nodeOfVA is the node of the frame behind the kernel address p.
func nodeOfVA(t *testing.T, p unsafe.Pointer) uint32 {
	t.Helper()
	pa, ok := mm.Tables.Translate(uintptr(p))
	if !ok {
		t.Fatalf("%p is not mapped", p)
	}
	return mm.PFN.NodeOf(physmem.FrameOf(pa))
}

// Node requests of the contiguous and MDL routines, on whatever machine the
// test boots on: on one node (the default) node 0 and MM_ANY_NODE_OK are
// served and node 1 is not; with NUMA=2 (make ktest NUMA=2) a required node
// gets frames of that node only.
func TestNodeRequests(t *testing.T) {
	requireBare(t)
	highest := ke.QueryHighestNodeNumber()
	if highest+1 != mm.PFN.NodeCount() {
		t.Fatalf("ke says the highest node is %d, the PFN database has %d nodes", highest, mm.PFN.NodeCount())
	}
	const size = 3 * physmem.PageSize
	for node := uint32(0); node <= highest+1; node++ {
		p := mm.AllocateContiguousMemorySpecifyCacheNode(size, 0, mm.MaxPhysicalAddress, 0, pte.Cached, node)
		if (p != nil) != (node <= highest) {
			t.Fatalf("contiguous on node %d of %d: %p", node, highest+1, p)
		}
		if p == nil {
			continue
		}
		for off := uintptr(0); off < size; off += physmem.PageSize {
			if got := nodeOfVA(t, unsafe.Add(p, off)); got != node {
				t.Errorf("contiguous on node %d: page %#x is on node %d", node, off, got)
			}
		}
		mm.FreeContiguousMemory(p)

		m := mm.AllocateNodePagesForMdlEx(0, mm.MaxPhysicalAddress, 0, size, pte.Cached, node, mm.MmAllocateFromLocalNodeOnly)
		if (m != nil) != (node <= highest) {
			t.Fatalf("MDL pages on node %d of %d: %v", node, highest+1, m)
		}
		if m == nil {
			continue
		}
		for _, f := range m.Pages() {
			if got := mm.PFN.NodeOf(f); got != node {
				t.Errorf("MDL pages on node %d: frame %#x is on node %d", node, f, got)
			}
		}
		mm.FreePagesFromMdl(m)
		mm.FreeMdl(m)
	}
	p := mm.AllocateContiguousMemorySpecifyCacheNode(size, 0, mm.MaxPhysicalAddress, 0, pte.Cached, ex.MmAnyNodeOK)
	if p == nil {
		t.Fatal("MM_ANY_NODE_OK refused")
	}
	mm.FreeContiguousMemory(p)
	if p := mm.AllocateContiguousNodeMemory(size, 0, mm.MaxPhysicalAddress, 0, 0x40, 0); p != nil {
		t.Error("PAGE_EXECUTE_READWRITE contiguous memory handed out")
		mm.FreeContiguousMemory(p)
	}
	if p := mm.AllocateContiguousNodeMemory(size, 0, mm.MaxPhysicalAddress, 0, 0x04|mm.PageNoCache, 0); p == nil {
		t.Error("PAGE_READWRITE|PAGE_NOCACHE on node 0 refused")
	} else {
		mm.FreeContiguousMemory(p)
	}
}

// Pool pages come from the allocating processor's node: with NUMA=2, the
// processors are put on each node in turn (ke's table, as the SRAT would
// have it) and a fresh non-paged big allocation's pages are on that node.
func TestPoolPagesFromTheCurrentNode(t *testing.T) {
	requireBare(t)
	highest := ke.QueryHighestNodeNumber()
	if highest == 0 {
		t.Skip("one node: run with `make ktest NUMA=2 PKG=./mm`")
	}
	// Every processor on the node, so the allocation is that node's
	// wherever it runs; the table is put back after.
	n := int(ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups))
	home := make([]uint32, n)
	for i := range home {
		home[i] = ke.ProcessorNode(i)
	}
	defer ke.SetProcessorNodes(home, highest)
	tag := pool.MakeTag("Numa")
	for node := uint32(0); node <= highest; node++ {
		all := make([]uint32, n)
		for i := range all {
			all[i] = node
		}
		if !ke.SetProcessorNodes(all, highest) {
			t.Fatal("SetProcessorNodes refused")
		}
		p := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, 4*physmem.PageSize, tag)
		if p == nil {
			t.Fatal("no pool")
		}
		for off := uintptr(0); off < 4*physmem.PageSize; off += physmem.PageSize {
			if got := nodeOfVA(t, unsafe.Add(p, off)); got != node {
				t.Errorf("processor on node %d: pool page %#x is on node %d", node, off, got)
			}
		}
		ex.FreePoolWithTag(p, tag)
	}
}

// ExAllocatePool3's NUMA node: with NUMA=2, a non-paged block required on
// each node is on that node, whichever node the processor is on.
func TestAllocatePool3OnNode(t *testing.T) {
	requireBare(t)
	highest := ke.QueryHighestNodeNumber()
	if highest == 0 {
		t.Skip("one node: run with `make ktest NUMA=2 PKG=./mm`")
	}
	tag := pool.MakeTag("Numa")
	for node := uint32(0); node <= highest; node++ {
		params := []ex.PoolExtendedParameter{{Type: ex.PoolExtendedParameterNumaNode, PreferredNode: node}}
		p := ex.AllocatePool3(ex.PoolFlagNonPaged, 100, tag, params)
		if p == nil {
			t.Fatalf("node %d refused", node)
		}
		if got := nodeOfVA(t, p); got != node {
			t.Errorf("block required on node %d is on node %d", node, got)
		}
		ex.FreePoolWithTag(p, tag)
	}
}
