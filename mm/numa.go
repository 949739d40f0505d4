// NUMA: the kernel hands the firmware's node description to the memory
// manager once, at start-up.
//
// The PFN database learns which frames each node holds (pfn.SetNodes moves
// the free and zeroed frames onto per-node lists) and ke learns each
// processor's node (ke.SetProcessorNodes), which every allocation without
// an explicit node then prefers: demand-zero faults, pool pages,
// contiguous memory, MDL pages. Until SetNodes runs, and on a machine
// without an SRAT, everything is node 0.

package mm

import (
	"errors"

	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// NodeMemory is one range of physical memory on a node, in bytes (an SRAT
// memory affinity entry).
type NodeMemory struct {
	Base, Length uint64
	Node         uint32
}

var errNodes = errors.New("mm: node table refused (too many nodes, ranges or processors, or ranges that overlap)")

// SetNodes records the machine's nodes: memory's ranges, processors[i]
// the node of processor i, highest the highest node number. Ranges are cut
// to whole frames; those left empty are dropped, and frames no range
// covers stay on node 0.
func SetNodes(memory []NodeMemory, processors []uint32, highest uint32) error {
	var r []pfn.NodeRange
	for _, m := range memory {
		first := physmem.FrameOf(m.Base + physmem.PageMask)
		end := physmem.FrameOf(m.Base + m.Length)
		if first < end {
			r = append(r, pfn.NodeRange{First: first, End: end, Node: m.Node})
		}
	}
	if PFN.SetNodes(pfn.Nodes{Memory: r, Processors: processors, Highest: highest}) != ntstatus.Success {
		return errNodes
	}
	if !ke.SetProcessorNodes(processors, highest) {
		return errNodes
	}
	return nil
}
