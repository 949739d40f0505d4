package consoletest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	ntqemu "ntgo/qemu"
)

// NUMA=2: the launcher splits -m 256M into two nodes (on -machine pc,
// whose firmware writes an SRAT), the kernel hands the SRAT's ranges to the
// memory manager, and !numa shows both nodes with their own memory (node
// 1 from 128 MiB up) and free pages on each node's lists.
func TestNumaNodes(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{Nodes: 2, Args: []string{"run=!numa; poweroff 0"}})
	expect(t, vm, "numa: 2 nodes")
	expect(t, vm, "NUMA nodes: 2 (highest node 1)", "NODE 0", "NODE 1")
	out := expect(t, vm, "kd> poweroff") // node 1's lines
	if !strings.Contains(out, "Memory:     00000000`08000000-") {
		t.Fatalf("node 1 does not start at 128 MiB:\n%s", out)
	}
	pages := regexp.MustCompile(`(Free|Zeroed): +(\d+) pages`).FindAllStringSubmatch(out, -1)
	if len(pages) != 2 {
		t.Fatalf("node 1's lists not found in:\n%s", out)
	}
	var n uint64
	for _, p := range pages {
		v, _ := strconv.ParseUint(p[2], 10, 64)
		n += v
	}
	// Node 1 is the upper 128 MiB less the firmware's top pages: most of
	// it is free, none of it is node 0's.
	if n < 30000 || n > 128<<20/4096 {
		t.Errorf("node 1 has %d free and zeroed pages:\n%s", n, out)
	}
	expectExit(t, vm, 0)
}

// -m 1G: the kernel builds the PFN database's first 256 MiB of frames at
// boot and the rest from the idle loop, so after a second's idling the
// database is whole (262144 frames), nothing deferred. Right after boot
// some RAM is usually still deferred, but how much depends on how long the
// boot processor idled while the others started (SMP=4: often none), so
// that is logged, not required; the host tests (mm/pfn grow_test.go) hold
// the laziness itself.
func TestPfnDatabaseGrowsWhenIdle(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{Memory: "1G", Args: []string{"run=!memusage; .sleep 0n1500; !memusage; poweroff 0"}})
	first := expect(t, vm, "kd> !memusage", "kd> .sleep") // the first !memusage
	t.Logf("right after boot, deferred RAM shown: %v", strings.Contains(first, "Deferred:"))
	second := expect(t, vm, "kd> poweroff") // the second
	if strings.Contains(second, "Deferred:") || !regexp.MustCompile(`Total: +262144 `).MatchString(second) {
		t.Fatalf("after idling:\n%s", second)
	}
	expectExit(t, vm, 0)
}
