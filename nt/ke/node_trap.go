// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// NUMA nodes of the processors: KeGetCurrentNodeNumber and
// KeQueryHighestNodeNumber.
//
// The kernel reads the topology (ACPI's SRAT) once at start-up and hands
// each processor's node here (SetProcessorNodes) before the other
// processors start taking frames; afterwards the table only is read, so it
// needs no lock. Until then, and on a machine without SRAT, every processor
// is on node 0 and node 0 is the highest. The page-fault handler asks for
// the current node (the PFN database's allocations prefer it), hence trap
// context.

package ke

// MaximumNodes bounds the NUMA nodes ntgo keeps state for (NT allows 64;
// QEMU's guests here have a few).
const MaximumNodes = 8

var (
	processorNode [MaximumProcessors]uint8
	highestNode   uint32
)

// SetProcessorNodes records node[i] as processor i's node and highest as
// the highest node number (which may exceed every processor's: a node of
// memory alone). It reports false, changing nothing, for more processors
// than MaximumProcessors or a node at or above MaximumNodes.
//
//go:nosplit
func SetProcessorNodes(node []uint32, highest uint32) bool {
	if len(node) > MaximumProcessors || highest >= MaximumNodes {
		return false
	}
	for _, n := range node {
		if n > highest {
			return false
		}
	}
	processorNode = [MaximumProcessors]uint8{}
	for i, n := range node {
		processorNode[i] = uint8(n)
	}
	highestNode = highest
	return true
}

// NodeTable is a copy of the processors' nodes and the highest node number,
// for a test that sets its own with SetProcessorNodes to put back the
// machine's (on a NUMA kernel, one node is not the table it started with).
type NodeTable struct {
	node    [MaximumProcessors]uint8
	highest uint32
}

// SaveProcessorNodes is the table as it stands.
//
//go:nosplit
func SaveProcessorNodes() NodeTable { return NodeTable{processorNode, highestNode} }

// RestoreProcessorNodes puts back a table SaveProcessorNodes returned.
//
//go:nosplit
func RestoreProcessorNodes(t NodeTable) { processorNode, highestNode = t.node, t.highest }

// GetCurrentNodeNumber is KeGetCurrentNodeNumber: the node of the
// processor the caller runs on.
//
//go:nosplit
func GetCurrentNodeNumber() uint32 { return uint32(processorNode[CurrentProcessorNumber()]) }

// ProcessorNode is processor p's node.
//
//go:nosplit
func ProcessorNode(p int) uint32 { return uint32(processorNode[p]) }

// QueryHighestNodeNumber is KeQueryHighestNodeNumber.
//
//go:nosplit
func QueryHighestNodeNumber() uint32 { return highestNode }
