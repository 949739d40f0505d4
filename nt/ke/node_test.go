package ke

import "testing"

// The table SetProcessorNodes sets, and the copy tests put back after it.
func TestProcessorNodes(t *testing.T) {
	saved := SaveProcessorNodes()
	defer RestoreProcessorNodes(saved)
	if !SetProcessorNodes([]uint32{1, 0, 2}, 3) {
		t.Fatal("SetProcessorNodes refused")
	}
	if ProcessorNode(0) != 1 || ProcessorNode(1) != 0 || ProcessorNode(2) != 2 || ProcessorNode(3) != 0 || QueryHighestNodeNumber() != 3 {
		t.Fatalf("nodes %d %d %d %d, highest %d", ProcessorNode(0), ProcessorNode(1), ProcessorNode(2), ProcessorNode(3), QueryHighestNodeNumber())
	}
	for _, bad := range []struct {
		node    []uint32
		highest uint32
	}{{[]uint32{2}, 1}, {nil, MaximumNodes}, {make([]uint32, MaximumProcessors+1), 0}} {
		if SetProcessorNodes(bad.node, bad.highest) {
			t.Errorf("SetProcessorNodes(%v, %d) accepted", bad.node, bad.highest)
		}
	}
	if ProcessorNode(0) != 1 || QueryHighestNodeNumber() != 3 {
		t.Fatal("a refused SetProcessorNodes changed the table")
	}
	three := SaveProcessorNodes()
	if !SetProcessorNodes(nil, 0) {
		t.Fatal("SetProcessorNodes(nil, 0) refused")
	}
	RestoreProcessorNodes(three)
	if ProcessorNode(0) != 1 || ProcessorNode(2) != 2 || QueryHighestNodeNumber() != 3 {
		t.Fatalf("restored nodes %d %d, highest %d", ProcessorNode(0), ProcessorNode(2), QueryHighestNodeNumber())
	}
}
