// NUMA start-up: the firmware's nodes handed to the memory manager.
//
// initNodes, last in phase 1 (start.go), takes the ACPI topology the
// processors' start-up read (smp.go) and, when the SRAT describes more
// than one node, gives mm each node's memory ranges and each processor's
// node (mm.SetNodes: the PFN database moves its free and zeroed frames
// onto per-node lists, ke learns the processors' nodes).
// No ACPI, no SRAT or one node: nothing changes, every frame and processor
// is on node 0, and nothing is printed (`ver` counts the nodes, and the
// processors' start-up already names a missing ACPI); several nodes get one
// boot line.

package kernel

import (
	"fmt"
	"os"

	"ntgo/mm"
)

func initNodes() {
	t := topology
	if t == nil || t.Nodes <= 1 {
		return
	}
	memory := make([]mm.NodeMemory, len(t.Memory))
	for i, m := range t.Memory {
		memory[i] = mm.NodeMemory{Base: m.Base, Length: m.Length, Node: m.Node}
	}
	processors := make([]uint32, len(t.Processors))
	for i, p := range t.Processors {
		processors[i] = p.Node
	}
	if err := mm.SetNodes(memory, processors, t.Nodes-1); err != nil {
		fmt.Fprintf(os.Stdout, "numa: %v: one node\n", err)
		return
	}
	fmt.Fprintf(os.Stdout, "numa: %d nodes, %d memory ranges\n", t.Nodes, len(t.Memory))
}
