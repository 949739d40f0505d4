// NUMA start-up: the firmware's nodes handed to the memory manager.
//
// initNodes, last in phase 1 (start.go), reads the ACPI topology and, when
// the SRAT describes more than one node, gives mm each node's memory ranges
// and each processor's node (mm.SetNodes: the PFN database moves its free
// and zeroed frames onto per-node lists, ke learns the processors' nodes).
// No ACPI, no SRAT or one node: nothing changes, every frame and processor
// is on node 0. Either way one boot line says what was found.
//
// The topology is read here until the processor start-up (smp) reads it
// first; then setNodes takes that topology and readTopology goes.

package kernel

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/pte"
	"ntgo/nt/acpi"
)

func initNodes() {
	t, err := acpi.Read(readTopology)
	if err != nil {
		fmt.Fprintf(os.Stdout, "numa: %v: one node\n", err)
		return
	}
	setNodes(t)
}

// setNodes hands t's nodes to the memory manager.
func setNodes(t *acpi.Topology) {
	if t.Nodes <= 1 {
		fmt.Fprintln(os.Stdout, "numa: one node")
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

// readTopology is acpi.Memory over MapIoSpace.
func readTopology(pa uint64, n int) ([]byte, error) {
	va := mm.MapIoSpace(pa, uintptr(n), pte.Cached)
	if va == 0 {
		return nil, errors.New("no system PTEs to map it")
	}
	b := make([]byte, n)
	copy(b, unsafe.Slice((*byte)(unsafePointerAt(va)), n))
	mm.UnmapIoSpace(va, uintptr(n))
	return b, nil
}
