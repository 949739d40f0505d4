package consoletest

// The `make gdb` session in batch mode: QEMU starts halted with its gdb
// stub on a free port; gdb loads the kernel's symbols and qemu/gdbinit,
// stops in a console command that the boot script runs, shows the Go
// backtrace, and runs ntgo's NT helpers (qemu/gdb/ntgo.py). The helpers
// read the kernel's memory from outside, so each is checked against what
// the kernel's own kd command prints for the same state: the script runs
// !pte, !pfn and !memusage just after gdb's snapshots (gdb stops in those
// very commands), and !pool is typed at the console once gdb has detached.

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hugelgupf/vmtest/qemu"

	"ntgo/mm/pfn"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	ntqemu "ntgo/qemu"
)

const (
	// kernelTextVA is the kernel's first text page, mapped EXECUTE_READ.
	kernelTextVA = 0x401000
	// kernelTextFrame is its frame: the boot maps the image at the
	// physical address it was loaded at.
	kernelTextFrame = kernelTextVA >> pte.PTShift
	gdbTimeout      = 2 * time.Minute
	// gdbSectionMark starts the echoed name of each step in gdb's output.
	gdbSectionMark = "@@@ "
	// noLinkShown is how the helpers and !pfn print an empty list link.
	noLinkShown = "--------"
)

// gdbStep is a named group of gdb commands whose output is checked as one.
type gdbStep struct {
	name     string
	commands []string
}

func step(name string, commands ...string) gdbStep { return gdbStep{name, commands} }

func TestGDB(t *testing.T) {
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Skip("gdb is not installed (make deps installs it)")
	}
	// The views gdb stops in (kernel/kd/mmext), called through the method
	// values the console's command table holds.
	const pteView, memusageView = "ntgo/kernel/kd/mmext.views.pte", "ntgo/kernel/kd/mmext.views.memusage"
	kernel := testKernel(t) // also gdb's symbols: mkboot keeps the DWARF
	port := freePort(t)
	script := fmt.Sprintf("run=!pte %x; !pfn %x; !memusage", kernelTextVA, kernelTextFrame)
	// One processor: gdb stops every processor wherever it is, and a second
	// one's idle loop may be stopped inside a PFN-lock step of mm/pfn's
	// ZeroSome, a frame off the free list before its state says so, which
	// the helper's counts would miss. A lone processor stopped in the
	// console's view holds no such lock.
	vm := bootVM(t, ntqemu.Config{Args: []string{script}, GDB: true, GDBPort: port, Halted: true, CPUs: 1})
	const extension = "'ntgo/drivers/ramdisk.loaded'.ext" // the ramdisk's device extension, in nonpaged pool
	out := runGDB(t, kernel, []gdbStep{
		step("attach", fmt.Sprintf("target remote 127.0.0.1:%d", port), "break '"+pteView+"'", "continue"),
		step("bt", "bt"),
		step("rip", "info registers rip"),
		step("ntgo-pte", fmt.Sprintf("ntgo-pte %#x", kernelTextVA)),
		step("print-pte", fmt.Sprintf("print $ntgo_pte(%#x)", kernelTextVA)),
		step("print-pfn", fmt.Sprintf("print $ntgo_pfn(%#x)", kernelTextFrame)),
		// Breakpoint 1 goes first: once in CI, continuing over it under
		// multi-threaded TCG stopped on it again, in the same call.
		step("memusage", "delete 1", "break '"+memusageView+"'", "continue"),
		step("ntgo-vm", "ntgo-vm"),
		step("extension", "print "+extension),
		step("ntgo-pool", "ntgo-pool "+extension),
		step("detach", "detach"),
	})

	attach := out["attach"]
	bp := regexp.MustCompile(`Breakpoint 1 at (0x[0-9a-f]+): file`).FindStringSubmatch(attach)
	if bp == nil || !strings.Contains(attach, "Breakpoint 1, "+pteView+" (") {
		t.Fatalf("breakpoint in %s not set and hit:\n%s", pteView, attach)
	}
	// The command runs through the kernel's system-thread guard
	// (kernel/systemthread.go), called by Execute's closure.
	wantStack := []string{pteView, pteView + "-fm", "ntgo/kernel/console.Execute.func1", "ntgo/kernel.runSystemRoutine",
		"ntgo/kernel/console.Execute", "ntgo/kernel/console.RunScript", "main.main"}
	if got := backtraceFunctions(out["bt"]); !slices.Equal(got, wantStack) {
		t.Errorf("bt: functions %q, want %q:\n%s", got, wantStack, out["bt"])
	}
	rip := regexp.MustCompile(`rip\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+ <` + regexp.QuoteMeta(pteView) + `\+\d+>`).FindStringSubmatch(out["rip"])
	if rip == nil || rip[1] != bp[1] {
		t.Errorf("info registers rip: want the breakpoint's address %s in %s:\n%s", bp[1], pteView, out["rip"])
	}

	kernelPte := commandOutput(t, vm, fmt.Sprintf("!pte %x", kernelTextVA))
	if got := strings.TrimSpace(out["ntgo-pte"]); got != strings.TrimSpace(kernelPte) {
		t.Errorf("ntgo-pte:\n%s\nkernel's !pte:\n%s", got, kernelPte)
	}
	leaf := printedValue(t, out["print-pte"])
	if want := fmt.Sprintf("PTE at %016x  %s EXECUTE_READ cached", pte.PteAddress(kernelTextVA), leaf); !strings.Contains(kernelPte, want+"\n") {
		t.Errorf("print $ntgo_pte: %q; the kernel's !pte has no line %q:\n%s", leaf, want, kernelPte)
	}
	kernelPfn := strings.TrimSpace(commandOutput(t, vm, fmt.Sprintf("!pfn %x", kernelTextFrame)))
	if got := printedValue(t, out["print-pfn"]); got != kernelPfn {
		t.Errorf("print $ntgo_pfn: %q, kernel's !pfn: %q", got, kernelPfn)
	}

	if !strings.Contains(out["memusage"], "Breakpoint 2, "+memusageView+" (") {
		t.Errorf("breakpoint in %s not hit:\n%s", memusageView, out["memusage"])
	}
	checkVM(t, out["ntgo-vm"], commandOutput(t, vm, "!memusage"))

	ext := regexp.MustCompile(`= \(ntgo/drivers/ramdisk\.extension \*\) (0x[0-9a-f]+)`).FindStringSubmatch(out["extension"])
	if ext == nil {
		t.Fatalf("no ramdisk extension address:\n%s", out["extension"])
	}
	poolLines := strings.Split(strings.TrimSpace(out["ntgo-pool"]), "\n")
	extAddr, _ := strconv.ParseUint(ext[1], 0, 64)
	header := fmt.Sprintf("%#x", extAddr-pool.HeaderSize) // !pool lists blocks by header
	if marked := "*" + header + " "; !slices.ContainsFunc(poolLines, func(l string) bool {
		return strings.HasPrefix(l, marked) && strings.HasSuffix(l, "(Allocated) RdEx")
	}) {
		t.Errorf("ntgo-pool: no line %q... (Allocated) RdEx:\n%s", marked, out["ntgo-pool"])
	}
	cookie := poolLines[len(poolLines)-1]
	if !regexp.MustCompile(`^Header cookie: 0x[0-9a-f]{16}$`).MatchString(cookie) {
		t.Errorf("ntgo-pool: last line %q, want the header cookie", cookie)
	}
	poolCommand := "!pool " + ext[1]
	vm.Console.SendLine(poolCommand)
	if got, want := strings.Join(poolLines[:len(poolLines)-1], "\n"), strings.TrimSpace(commandOutput(t, vm, poolCommand)); got != want {
		t.Errorf("ntgo-pool:\n%s\nkernel's !pool:\n%s", got, want)
	}

	vm.Console.SendLine("poweroff 0")
	if got := exitStatus(t, vm); got != 0 {
		t.Fatalf("exit status %d", got)
	}
}

// checkVM compares ntgo-vm's counts with the kernel's !memusage, taken at
// the same instant: every state, Available and Total must agree, the states
// must add up to Total, and each page list must show a head exactly when
// it is not empty.
func checkVM(t *testing.T, helper, kernel string) {
	t.Helper()
	got, want := countRows(helper), countRows(kernel)
	var sum uint64
	for s := range pfn.State(pfn.NumStates) {
		sum += got[s.String()].count
	}
	if total := got["Total"].count; sum != total || total == 0 {
		t.Errorf("ntgo-vm: states add up to %d, Total %d:\n%s", sum, total, helper)
	}
	for name, w := range want {
		if name == "Free" || name == "Zeroed" {
			continue // the zero-page work of an idle processor moves frames between them
		}
		if g, ok := got[name]; !ok || g.count != w.count {
			t.Errorf("ntgo-vm %s: %d, kernel's !memusage: %d", name, g.count, w.count)
		}
	}
	if g, w := got["Free"].count+got["Zeroed"].count, want["Free"].count+want["Zeroed"].count; g != w {
		t.Errorf("ntgo-vm Free+Zeroed: %d, kernel's !memusage: %d", g, w)
	}
	for s := pfn.StateZeroed; s <= pfn.StateBad; s++ {
		row := got[s.String()]
		if empty := row.count == 0; empty != (row.first == noLinkShown) || empty != (row.last == noLinkShown) {
			t.Errorf("ntgo-vm %v list: %d frames, first %q last %q", s, row.count, row.first, row.last)
		}
	}
}

type countRow struct {
	count       uint64
	first, last string // list heads, where shown
}

var countRowPattern = regexp.MustCompile(`(?m)^\s*([A-Za-z]+):\s+(\d+)(?:\s+first (\S+) last (\S+))?`)

// countRows reads "Name: count" rows (ntgo-vm's and !memusage's).
func countRows(s string) map[string]countRow {
	rows := map[string]countRow{}
	for _, m := range countRowPattern.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.ParseUint(m[2], 10, 64)
		rows[m[1]] = countRow{n, m[3], m[4]}
	}
	return rows
}

// runGDB runs gdb in batch mode from the repository root (qemu/gdbinit's
// paths are relative to it) with the kernel's symbols, and returns each
// step's output by name.
func runGDB(t *testing.T, symbols string, steps []gdbStep) map[string]string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-batch", "-nx", symbols, "-x", "qemu/gdbinit"}
	for _, s := range steps {
		args = append(args, "-ex", `echo \n`+gdbSectionMark+s.name+`\n`)
		for _, c := range s.commands {
			args = append(args, "-ex", c)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), gdbTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "gdb", args...)
	cmd.Dir = root
	output, err := cmd.CombinedOutput()
	t.Logf("gdb %s:\n%s", strings.Join(args, " "), output)
	if err != nil {
		t.Fatalf("gdb: %v", err)
	}
	sections := map[string]string{}
	for _, part := range strings.Split(string(output), "\n"+gdbSectionMark)[1:] {
		name, body, _ := strings.Cut(part, "\n")
		sections[name] = body
	}
	for _, s := range steps {
		if _, ok := sections[s.name]; !ok {
			t.Fatalf("gdb printed nothing for step %q", s.name)
		}
	}
	return sections
}

var backtraceFrame = regexp.MustCompile(`(?m)^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(`)

// backtraceFunctions is the function of each frame of a gdb backtrace.
func backtraceFunctions(bt string) []string {
	var fns []string
	for _, m := range backtraceFrame.FindAllStringSubmatch(bt, -1) {
		fns = append(fns, m[1])
	}
	return fns
}

// printedValue is the value of gdb's "$N = value" line.
func printedValue(t *testing.T, s string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\$\d+ = (.*)$`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no printed value in:\n%s", s)
	}
	return m[1]
}

// commandOutput waits for command to appear at the console (echoed by the
// boot script or as typed) and returns what it printed up to the next
// prompt, without carriage returns.
func commandOutput(t *testing.T, vm *qemu.VM, command string) string {
	t.Helper()
	expect(t, vm, command)
	out, err := vm.Console.ExpectString(ntqemu.Prompt)
	if err != nil {
		t.Fatalf("waiting for the output of %q: %v", command, err)
	}
	out = strings.TrimSuffix(strings.ReplaceAll(out, "\r", ""), ntqemu.Prompt)
	return strings.TrimPrefix(out, "\n")
}

// freePort is a TCP port nothing listens on now, for QEMU's gdb stub: the
// fixed default would collide with a `make gdb` session or another test.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
