// Package consoletest boots the kernel (built by `make kernel`, path in
// $NTGO_KERNEL) in QEMU through u-root's vmtest harness and drives its
// serial console: the prompt, commands and their output, the command-line
// script, exit statuses.
package consoletest

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hugelgupf/vmtest/qemu"

	"ntgo/nt/bugcheck"
	ntqemu "ntgo/qemu"
)

const bootTimeout = 60 * time.Second

// TestMain drops make's NUMA=N ($NTGO_NUMA): each test boots the machine
// its output is checked against (a NUMA boot is a pc with its own memory
// map and boot lines), and the NUMA tests ask for their nodes.
func TestMain(m *testing.M) {
	os.Unsetenv(ntqemu.NodesVar)
	os.Exit(m.Run())
}

// startVM boots the kernel with the given command-line words.
func startVM(t *testing.T, args ...string) *qemu.VM {
	t.Helper()
	return bootVM(t, ntqemu.Config{Args: args})
}

// testKernel is the kernel `make console-test` built, or a skip.
func testKernel(t *testing.T) string {
	t.Helper()
	kernel := os.Getenv("NTGO_KERNEL")
	if kernel == "" {
		t.Skip("NTGO_KERNEL not set: run through `make console-test`")
	}
	return kernel
}

// boots maps each VM bootVM started to its ntgo/qemu Boot, which decides
// how it ended (the helpers keep taking vmtest's *qemu.VM).
var boots sync.Map

// bootVM boots cfg with the test kernel.
func bootVM(t *testing.T, cfg ntqemu.Config) *qemu.VM {
	t.Helper()
	cfg.Kernel = testKernel(t)
	b, err := cfg.NewBoot()
	if err != nil {
		t.Fatalf("preparing QEMU: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	vm, err := qemu.Start(qemu.ArchAMD64,
		qemu.WithQEMUCommand(ntqemu.Binary()),
		qemu.WithQEMUArgs(b.QEMUArgs()...),
		qemu.WithVMTimeout(bootTimeout),
		qemu.LogSerialByLine(qemu.PrintLine(t.Logf)),
	)
	if err != nil {
		t.Fatalf("starting QEMU: %v", err)
	}
	boots.Store(vm, b)
	t.Cleanup(func() { boots.Delete(vm) })
	return vm
}

// outcome waits for the VM and decides how it ended (QEMU's stderr is in
// the console log: vmtest merges it there).
func outcome(t *testing.T, vm *qemu.VM) ntqemu.Outcome {
	t.Helper()
	b, ok := boots.Load(vm)
	if !ok {
		t.Fatal("VM not started by bootVM")
	}
	o, err := b.(*ntqemu.Boot).Outcome(vm.Wait(), nil)
	if err != nil {
		t.Fatalf("VM: %v", err)
	}
	return o
}

// exitStatus waits for the VM and returns the kernel's exit status.
func exitStatus(t *testing.T, vm *qemu.VM) int {
	t.Helper()
	return outcome(t, vm).Status
}

// expectExit waits for the VM and checks the kernel's exit status, and that
// it was a power-off, not a bugcheck.
func expectExit(t *testing.T, vm *qemu.VM, want int) {
	t.Helper()
	o := outcome(t, vm)
	if o.Status != want || o.Record.Bugcheck {
		t.Fatalf("exit status %d (record %+v), want power-off status %d", o.Status, o.Record, want)
	}
}

// expectBugcheck waits for the VM and checks that it ended in bugcheck code,
// with its status.
func expectBugcheck(t *testing.T, vm *qemu.VM, code bugcheck.Code) {
	t.Helper()
	o := outcome(t, vm)
	if want := (bugcheck.ExitRecord{Status: code.ExitStatus(), Bugcheck: true, Code: code}); o.Record != want || o.Status != int(want.Status) {
		t.Fatalf("ended with status %d, record %+v; want %+v", o.Status, o.Record, want)
	}
}

// expect waits for each string in turn on the console and returns what was
// printed since the one before the last, up to and including the last.
func expect(t *testing.T, vm *qemu.VM, s string, more ...string) string {
	t.Helper()
	var out string
	for _, want := range append([]string{s}, more...) {
		var err error
		if out, err = vm.Console.ExpectString(want); err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
	}
	return out
}

func TestPromptAndCommands(t *testing.T) {
	vm := startVM(t)
	expect(t, vm, "kd> ")
	vm.Console.SendLine("help")
	expect(t, vm, "poweroff [status]")
	expect(t, vm, "kd> ")
	vm.Console.SendLine("ver")
	expect(t, vm, "Go go1.")
	expect(t, vm, "memory: ")
	expect(t, vm, "kd> ")
	// Line editing: a mistyped command corrected with backspace.
	vm.Console.Send("verx\x7f\r")
	expect(t, vm, "CPU: ")
	expect(t, vm, "kd> ")
	vm.Console.SendLine("nosuchcommand")
	expect(t, vm, "nosuchcommand: unknown command")
	vm.Console.SendLine("poweroff 7")
	expectExit(t, vm, 7)
}

func TestBootScript(t *testing.T) {
	vm := startVM(t, "run=ver; poweroff 3")
	expect(t, vm, "kd> ver")
	expect(t, vm, "ntgo kernel, build")
	expect(t, vm, "kd> poweroff 3")
	expectExit(t, vm, 3)
}
