package consoletest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hugelgupf/vmtest/qemu"

	"ntgo/kernel/console"
	"ntgo/kernel/kd/dump"
	"ntgo/nt/bugcheck"
	ntqemu "ntgo/qemu"
)

// The crash dump, end to end on both machines: the kernel's views before a
// bugcheck, the dump it writes to COM2, and the host viewer's views of the
// dump (go run ./cmd/ntgo-dump), which must agree.
func TestCrashDump(t *testing.T) {
	for _, machine := range []string{"microvm", "pc"} {
		t.Run(machine, func(t *testing.T) { testCrashDump(t, machine) })
	}
}

const (
	screenVMHeader = "MEMORY AT THE STOP (!vm of the crash dump):"
	writingDump    = "Writing crash dump to COM2... "
	// The ramdisk driver's pool tag: its block is the one !pool shows.
	ramdiskTag = "RdEx"
)

// The rows of !vm that move by themselves between the console's !vm and the
// stop: the idle loop zeroes free frames (Free to Zeroed, each Transition
// while it is cleared: mm/pfn's ZeroSome), the Go runtime's heap grows
// (demand-zero faults take frames into Active; new heap is committed) and
// its scavenger gives frames back. The screen's
// !vm, from the dump's own copy, must agree with the viewer's on every
// row; the console's on the others, and its list rows must still add up.
var runtimeRows = []string{"Available pages:", "Zeroed:", "Free:", "Transition:", "Active:", "Commit charge:"}

func testCrashDump(t *testing.T, machine string) {
	file := filepath.Join(t.TempDir(), "crash.dmp")
	// Two processors whatever SMP= says: the dump's ~ must show another's.
	vm := bootVM(t, ntqemu.Config{Machine: machine, Dump: file, CPUs: 2})
	expect(t, vm, console.Prompt)
	found := command(t, vm, "!poolfind "+ramdiskTag)
	var block string
	if _, err := fmt.Sscan(found, &block); err != nil {
		t.Fatalf("!poolfind %s: %q", ramdiskTag, found)
	}
	kernelPool := command(t, vm, "!pool "+block)
	kernelPoolmon := command(t, vm, "poolmon")
	// Views whose state a bugcheck does not move: the console's output and
	// the viewer's must be the same bytes (one code, kernel/kd/mmext).
	stable := []string{"!poolfind " + ramdiskTag, "!poolused " + ramdiskTag, "!pool " + block, "!address " + block,
		"!pte " + block, "!pte 401000", "!address 401000", "!pfn 0", "!pfn 401", "lm", "!address 0", "!pfn 1000000", "!ws",
		"dt nt!_POOL_HEADER " + block + "-10", "dt _LIST_ENTRY " + block, "dt _MMPFN"}
	kernelStable := make([]string, len(stable))
	for i, line := range stable {
		kernelStable[i] = command(t, vm, line)
	}
	if header := kernelStable[len(stable)-3]; !strings.Contains(header, "(RdEx)") {
		t.Errorf("dt of the ramdisk block's header:\n%s", header)
	}
	if got := command(t, vm, "!analyze -v"); !strings.Contains(got, "no bugcheck: the system is running") {
		t.Errorf("!analyze -v at the console: %q", got)
	}
	kernelVM := command(t, vm, "!vm")

	vm.Console.SendLine("bugcheck e2 1 2 3 4")
	screen := expectLines(t, vm, screenVMHeader)
	screenVM := strings.TrimPrefix(strings.TrimSuffix(expectLines(t, vm, writingDump), writingDump), "\n")
	var written int64
	if done := expectLines(t, vm, " bytes"); !scan(done, "done, %d bytes", &written) {
		t.Fatalf("dump line: %q", done)
	}
	expectBugcheck(t, vm, bugcheck.ManuallyInitiatedCrash)
	if fi, err := os.Stat(file); err != nil || fi.Size() != written {
		t.Fatalf("dump file: %v (%v), the kernel wrote %d bytes", fi, err, written)
	}

	checkRecord(t, file)
	views := viewer(t, file, "!vm", "poolmon", "!pool "+block)
	viewerVM, viewerPoolmon, viewerPool := views[0], views[1], views[2]
	t.Logf("the kernel's !vm before the bugcheck:\n%s", kernelVM)
	t.Logf("ntgo-dump's !vm of the dump:\n%s", viewerVM)
	if viewerVM != screenVM {
		t.Errorf("!vm from the dump:\n%s\nthe screen's:\n%s", viewerVM, screenVM)
	}
	compareVM(t, kernelVM, viewerVM)
	if viewerPoolmon != kernelPoolmon || !strings.Contains(viewerPoolmon, ramdiskTag) {
		t.Errorf("poolmon from the dump:\n%s\nthe kernel's:\n%s", viewerPoolmon, kernelPoolmon)
	}
	if viewerPool != kernelPool || !strings.Contains(viewerPool, "(Allocated) "+ramdiskTag) {
		t.Errorf("!pool %s from the dump:\n%s\nthe kernel's:\n%s", block, viewerPool, kernelPool)
	}
	for i, got := range viewer(t, file, stable...) {
		if got != kernelStable[i] {
			t.Errorf("%s from the dump:\n%s\nthe kernel's:\n%s", stable[i], got, kernelStable[i])
		}
	}
	checkSymbolized(t, file, screen)
}

// The viewer names the dump's addresses from the kernel ELF as the screen
// does: its k is the screen's STACK_TEXT, and its !analyze -v names the
// culprit the screen named (the console's bugcheck command).
func checkSymbolized(t *testing.T, file, screen string) {
	t.Helper()
	_, stack, _ := strings.Cut(screen, "STACK_TEXT:\n")
	stack, culprit, _ := strings.Cut(stack, "\n\n")
	culprit, _, _ = strings.Cut(culprit, "\n\n")
	const wantCulprit = "PROBABLY_CAUSED_BY: ntgo (ntgo/kernel.cmdBugcheck)"
	if !strings.Contains(culprit, wantCulprit) {
		t.Errorf("the screen's culprit section:\n%s\nwant %q", culprit, wantCulprit)
	}
	views := viewer(t, file, "-kernel", testKernel(t), "k", "!analyze -v", "u @rip", "!thread", "~", "~ 1")
	if views[0] != stack+"\n" || !strings.Contains(stack, "ntgo/kernel/console.Execute+") {
		t.Errorf("k from the dump:\n%s\nthe screen's STACK_TEXT:\n%s", views[0], stack)
	}
	if !strings.Contains(views[1], "MANUALLY_INITIATED_CRASH (e2)") || !strings.Contains(views[1], culprit) {
		t.Errorf("!analyze -v from the dump:\n%s\nwant the screen's culprit:\n%s", views[1], culprit)
	}
	// A software bugcheck's RIP is its caller's return address, whose code
	// the dump holds and the ELF names.
	if !strings.HasPrefix(views[2], "ntgo/kernel.cmdBugcheck+") {
		t.Errorf("u @rip: %q", views[2])
	}
	for _, want := range []string{"RUNNING", "(stopped here: k shows its stack)", "ntgo/kernel.idle", " idle\n"} {
		if !strings.Contains(views[3], want) {
			t.Errorf("!thread from the dump lacks %q:\n%s", want, views[3])
		}
	}
	// Every processor's registers (the boot has two): the one that
	// stopped and the others as the bugcheck's stall held them, named.
	if rows := strings.Count(views[4], "\n") - 1; strings.Count(views[4], " the bugcheck ") != 1 || strings.Count(views[4], " stalled ") != rows-1 || rows < 2 {
		t.Errorf("~ from the dump, want every processor, one that stopped:\n%s", views[4])
	}
	if !strings.HasPrefix(views[5], "Processor 1 (") || !strings.Contains(views[5], "rip=") || strings.Contains(views[5], "rip=0000000000000000") ||
		strings.Contains(views[5], "rsp=0000000000000000") {
		t.Errorf("~ 1 from the dump:\n%s", views[5])
	}
}

// checkRecord reads the dump as a library and checks the bugcheck record
// and the consistency of the PFN database's copy.
func checkRecord(t *testing.T, file string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := dump.Read(f)
	if err != nil {
		t.Fatalf("reading the dump: %v", err)
	}
	defer d.Close()
	if d.Record.Code != bugcheck.ManuallyInitiatedCrash || d.Record.Params != [4]uintptr{1, 2, 3, 4} {
		t.Errorf("record %v", d.Record.Error())
	}
	if err := d.PFN.Check(); err != nil {
		t.Errorf("the dump's PFN database: %v", err)
	}
}

// compareVM compares the console's !vm before the crash with the dump's:
// rows the runtime does not move must be equal, and each one's page-list
// rows must add up to the frames the database has.
func compareVM(t *testing.T, kernel, fromDump string) {
	t.Helper()
	kernelRows, dumpRows := strings.Split(kernel, "\n"), strings.Split(fromDump, "\n")
	if len(kernelRows) != len(dumpRows) {
		t.Fatalf("!vm has %d rows, the dump's %d:\n%s\n%s", len(kernelRows), len(dumpRows), kernel, fromDump)
	}
	for i, row := range kernelRows {
		if row != dumpRows[i] && !movedByRuntime(row) {
			t.Errorf("!vm row %q, from the dump %q", row, dumpRows[i])
		}
	}
	for _, out := range []string{kernel, fromDump} {
		if listed, frames := listedFrames(t, out); listed != frames {
			t.Errorf("page lists hold %d frames, the database %d:\n%s", listed, frames, out)
		}
	}
}

func movedByRuntime(row string) bool {
	for _, r := range runtimeRows {
		if strings.HasPrefix(strings.TrimSpace(row), r) {
			return true
		}
	}
	return false
}

// listedFrames sums the per-state rows of a !vm output and reads the PFN
// database's entry count.
func listedFrames(t *testing.T, vm string) (listed, frames uint64) {
	t.Helper()
	for _, row := range strings.Split(vm, "\n") {
		var name string
		var n uint64
		switch {
		case strings.HasPrefix(row, "  ") && scan(row, "%s %d", &name, &n):
			listed += n
		case scan(row, "PFN database: %d entries", &frames):
		}
	}
	if frames == 0 {
		t.Fatalf("no PFN database row in:\n%s", vm)
	}
	return listed, frames
}

// scan is fmt.Sscanf that reports whether every verb matched.
func scan(s, format string, args ...any) bool {
	n, _ := fmt.Sscanf(s, format, args...)
	return n == len(args)
}

// expectLines is expect for s, which must not span lines, without the
// carriage returns the console ends lines with.
func expectLines(t *testing.T, vm *qemu.VM, s string) string {
	t.Helper()
	return strings.ReplaceAll(expect(t, vm, s), "\r", "")
}

// command runs line at the console and returns its output, without the
// echo and the next prompt.
func command(t *testing.T, vm *qemu.VM, line string) string {
	t.Helper()
	vm.Console.SendLine(line)
	out := strings.TrimSuffix(expectLines(t, vm, console.Prompt), console.Prompt)
	_, out, _ = strings.Cut(out, line+"\n")
	return out
}

// viewer runs the host dump viewer on file and returns each command's
// output.
// Flags (a leading "-kernel", path) go before the file.
func viewer(t *testing.T, file string, commands ...string) []string {
	t.Helper()
	args := []string{"run", "ntgo/cmd/ntgo-dump"}
	if len(commands) >= 2 && commands[0] == "-kernel" {
		args, commands = append(args, commands[:2]...), commands[2:]
	}
	cmd := exec.Command("go", append(append(args, file), commands...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ntgo-dump: %v", err)
	}
	parts := strings.Split(string(out), console.Prompt)[1:]
	if len(parts) != len(commands) {
		t.Fatalf("ntgo-dump printed %d commands' output, want %d:\n%s", len(parts), len(commands), out)
	}
	for i, c := range commands {
		var ok bool
		if parts[i], ok = strings.CutPrefix(parts[i], c+"\n"); !ok {
			t.Fatalf("ntgo-dump output %d does not start with %q:\n%s", i, c, out)
		}
	}
	return parts
}
