package qemu

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestMain drops make's NUMA=N: the launcher's tests check the arguments
// and boots of the configurations they name (TestNumaArgs sets its own).
func TestMain(m *testing.M) {
	os.Unsetenv(NodesVar)
	os.Exit(m.Run())
}

// NUMA boots: memory split into equal backends (the last takes the rest),
// one -numa node each, processors dealt round-robin, -machine pc whatever
// was asked (microvm writes no SRAT); $NTGO_NUMA stands in for Nodes 0.
func TestNumaArgs(t *testing.T) {
	got, err := numaArgs("1G", 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"-object", "memory-backend-ram,id=ram0,size=341M", "-numa", "node,nodeid=0,memdev=ram0,cpus=0,cpus=3",
		"-object", "memory-backend-ram,id=ram1,size=341M", "-numa", "node,nodeid=1,memdev=ram1,cpus=1",
		"-object", "memory-backend-ram,id=ram2,size=342M", "-numa", "node,nodeid=2,memdev=ram2,cpus=2",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("numaArgs:\n%q\nwant\n%q", got, want)
	}
	for _, bad := range []struct {
		mem   string
		nodes int
	}{{"2", 3}, {"4G", 9}, {"lots", 2}, {"0", 2}} {
		if _, err := numaArgs(bad.mem, bad.nodes, 1); err == nil {
			t.Errorf("numaArgs(%q, %d) accepted", bad.mem, bad.nodes)
		}
	}
	t.Setenv(NodesVar, "2")
	a, err := Config{Machine: "microvm"}.qemuArgs("k", "s", "")
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Join(a, " ")
	if !strings.Contains(line, "-machine pc ") || !strings.Contains(line, "node,nodeid=1,memdev=ram1") {
		t.Fatalf("NTGO_NUMA=2: %s", line)
	}
	t.Setenv(NodesVar, "two")
	if _, err := (Config{}).qemuArgs("k", "s", ""); err == nil {
		t.Error("NTGO_NUMA=two accepted")
	}
	a, _ = Config{Nodes: 1}.qemuArgs("k", "s", "")
	if line := strings.Join(a, " "); strings.Contains(line, "-numa") || !strings.Contains(line, "microvm") {
		t.Fatalf("Nodes 1: %s", line)
	}
}
