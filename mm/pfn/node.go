// NUMA nodes: which node each frame is on.
//
// A frame's node is not stored in its entry: the 32-byte Entry has no spare
// field (flags uses seven of its eight bits, and every other field is
// needed at its width), and growing it would cost every frame of RAM 16
// bytes more. The firmware describes memory per node in a handful of
// ranges (ACPI SRAT: one or two per node), so the database keeps those
// ranges, sorted, in a small fixed table (nodeTable) and looks a frame up
// there. The lookup is a few compares, and only the Zeroed and Free lists
// need it (they are per node): allocation from them, insertion and removal.
// Frames no range covers are on node 0, which is the whole machine until
// SetNodes runs.
//
// SetNodes runs once at start-up, when the kernel has read the SRAT (after
// Init, which builds every free frame onto node 0's list, so phase 0 needs
// no firmware tables): it moves the free and zeroed frames onto their
// nodes' lists in one pass under the lock, O(free frames).
//
// The table also records each node's processors (a bit per processor), so
// that a crash dump, which holds the database, shows the topology too.

package pfn

import (
	"cmp"
	"slices"

	"ntgo/mm/physmem"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// MaxNodes bounds the nodes the database keeps lists for.
const MaxNodes = ke.MaximumNodes

// MaxNodeRanges bounds the ranges of the node table.
const MaxNodeRanges = 32

// NodeRange says that frames [First, End) are on Node.
type NodeRange struct {
	First, End physmem.PFN
	Node       uint32
}

// nodeTable is the database's record of the nodes.
type nodeTable struct {
	ranges [MaxNodeRanges]NodeRange // sorted by First, disjoint
	n      int                      // ranges in use
	count  uint32                   // nodes: the highest node named plus one, at least 1
	cpus   [MaxNodes]uint64         // each node's processors, bit i for processor i
}

// oneNode is the table before SetNodes: every frame and processor 0 on node 0.
var oneNode = nodeTable{count: 1, cpus: [MaxNodes]uint64{1}}

// Nodes describes the machine to SetNodes: the memory of each node and the
// node of each processor.
type Nodes struct {
	Memory []NodeRange
	// Processors[i] is processor i's node (at most 64 processors).
	Processors []uint32
	// Highest is the highest node number, which may name a node without
	// memory or without processors.
	Highest uint32
}

// SetNodes records the machine's nodes and moves every zeroed and free
// frame onto its node's lists. It fails with STATUS_INVALID_PARAMETER,
// changing nothing, for a node at or above MaxNodes, a node above
// n.Highest, more than MaxNodeRanges ranges or 64 processors, an empty
// range, or ranges that overlap.
func (db *Database) SetNodes(n Nodes) ntstatus.Status {
	t := nodeTable{n: len(n.Memory), count: n.Highest + 1}
	if n.Highest >= MaxNodes || len(n.Memory) > MaxNodeRanges || len(n.Processors) > 64 {
		return ntstatus.InvalidParameter
	}
	copy(t.ranges[:], n.Memory)
	r := t.ranges[:t.n]
	slices.SortFunc(r, func(a, b NodeRange) int { return cmp.Compare(a.First, b.First) })
	for i, x := range r {
		if x.Node > n.Highest || x.First >= x.End || i > 0 && r[i-1].End > x.First {
			return ntstatus.InvalidParameter
		}
	}
	for i, node := range n.Processors {
		if node > n.Highest {
			return ntstatus.InvalidParameter
		}
		t.cpus[node] |= 1 << i
	}
	db.lock.Acquire()
	db.nodes = t
	db.relink(StateZeroed)
	db.relink(StateFree)
	db.lock.Release()
	return ntstatus.Success
}

// NodeStats is one node as !numa shows it.
type NodeStats struct {
	Node uint32
	// Memory is the node's ranges of frames.
	Memory []NodeRange
	// Processors has bit i set for processor i on the node.
	Processors uint64
	// Zeroed and Free are the lengths of the node's lists.
	Zeroed, Free uint64
}

// NodeStats returns every node, lowest first.
func (db *Database) NodeStats() []NodeStats {
	db.lock.Acquire()
	t := db.nodes
	var lens [MaxNodes][numNodeStates]uint64
	for node := range t.count {
		for s := range State(numNodeStates) {
			lens[node][s] = db.lists[nodeList(node, s)].n
		}
	}
	db.lock.Release()
	out := make([]NodeStats, t.count)
	for i := range out {
		node := uint32(i)
		out[i] = NodeStats{Node: node, Processors: t.cpus[node], Zeroed: lens[node][StateZeroed], Free: lens[node][StateFree]}
		for _, r := range t.ranges[:t.n] {
			if r.Node == node {
				out[i].Memory = append(out[i].Memory, r)
			}
		}
	}
	return out
}

// NodeOf is the node of frame p.
func (db *Database) NodeOf(p physmem.PFN) uint32 {
	db.lock.Acquire()
	n := db.nodes.nodeOf(uint32(p))
	db.lock.Release()
	return n
}

// NodeCount is the number of nodes (the highest node number plus one).
func (db *Database) NodeCount() uint32 {
	db.lock.Acquire()
	n := db.nodes.count
	db.lock.Release()
	return n
}
