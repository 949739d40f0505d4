// Package consoletest boots the kernel (built by `make kernel`, path in
// $NTGO_KERNEL) in QEMU through u-root's vmtest harness and drives its
// serial console: the prompt, commands and their output, the command-line
// script, exit statuses.
package consoletest

import (
	"os"
	"testing"
	"time"

	"github.com/hugelgupf/vmtest/qemu"

	ntqemu "ntgo/qemu"
)

const bootTimeout = 60 * time.Second

// startVM boots the kernel with the given command-line words.
func startVM(t *testing.T, args ...string) *qemu.VM {
	t.Helper()
	return bootVM(t, ntqemu.Config{Args: args})
}

// bootVM boots the kernel as cfg says (its Kernel is $NTGO_KERNEL).
func bootVM(t *testing.T, cfg ntqemu.Config) *qemu.VM {
	t.Helper()
	cfg.Kernel = os.Getenv("NTGO_KERNEL")
	if cfg.Kernel == "" {
		t.Skip("NTGO_KERNEL not set: run through `make console-test`")
	}
	qargs := cfg.QEMUArgs()
	vm, err := qemu.Start(qemu.ArchAMD64,
		qemu.WithQEMUCommand(ntqemu.Binary()),
		qemu.WithQEMUArgs(qargs...),
		qemu.WithVMTimeout(bootTimeout),
		qemu.LogSerialByLine(qemu.PrintLine(t.Logf)),
	)
	if err != nil {
		t.Fatalf("starting QEMU: %v", err)
	}
	return vm
}

// exitStatus waits for the VM and decodes the kernel's exit status.
func exitStatus(t *testing.T, vm *qemu.VM) int {
	t.Helper()
	status, err := ntqemu.Status(vm.Wait())
	if err != nil {
		t.Fatalf("VM: %v", err)
	}
	return status
}

// expect waits for s and returns what the console printed up to and
// including it.
func expect(t *testing.T, vm *qemu.VM, s string) string {
	t.Helper()
	out, err := vm.Console.ExpectString(s)
	if err != nil {
		t.Fatalf("waiting for %q: %v", s, err)
	}
	return out
}

func TestPromptAndCommands(t *testing.T) {
	vm := startVM(t)
	expect(t, vm, "kd> ")
	vm.Console.SendLine("help")
	expect(t, vm, "poweroff [code]")
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
	if got := exitStatus(t, vm); got != 7 {
		t.Fatalf("exit status %d, want 7", got)
	}
}

func TestBootScript(t *testing.T) {
	vm := startVM(t, "run=ver; poweroff 3")
	expect(t, vm, "kd> ver")
	expect(t, vm, "ntgo kernel, build")
	expect(t, vm, "kd> poweroff 3")
	if got := exitStatus(t, vm); got != 3 {
		t.Fatalf("exit status %d, want 3", got)
	}
}
