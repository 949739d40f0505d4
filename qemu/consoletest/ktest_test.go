package consoletest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ntgo/nt/bugcheck"
	ntqemu "ntgo/qemu"
)

// An in-kernel test that leaves a bugcheck uncaught at HIGH_LEVEL fails and
// ends the run with a stop screen, as `make ktest` runs it, instead of
// printing --- FAIL and hanging until the timeout.
func TestKernelTestStopsAtRaisedIrql(t *testing.T) {
	testKernel(t) // only under make console-test
	dir := t.TempDir()
	runner, bin := filepath.Join(dir, "ntgo-qemu"), filepath.Join(dir, "bugcheck.test")
	overlay := filepath.Join(dir, "overlay.json")
	if err := ntqemu.WriteBootOverlay(overlay, []string{"ntgo/nt/bugcheck"}); err != nil {
		t.Fatal(err)
	}
	for _, build := range [][]string{
		{"go", "build", "-o", runner, "ntgo/cmd/ntgo-qemu"},
		{"go", "test", "-c", "-overlay", overlay, "-o", bin, "ntgo/nt/bugcheck"},
	} {
		if out, err := exec.Command(build[0], build[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", build, err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, runner, "-test", bin, "-test.v", "-test.run=^TestUncaughtBugcheckAtHighLevel$", "ntgo.stoptest=1")
	// On the timeout, kill the runner's process group, QEMU included.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out, _ := cmd.CombinedOutput()
	t.Logf("%s", out)
	if ctx.Err() != nil {
		t.Fatal("the run hung until the timeout")
	}
	status := cmd.ProcessState.ExitCode() // the runner exits with the kernel's status
	// The bugcheck's panic unwinds at PASSIVE_LEVEL (ke.LowerForPanic):
	// the test fails, and the panic nothing recovered is the unhandled
	// exception of a system thread, the bugcheck's text in its record.
	for _, want := range []string{"=== RUN   TestUncaughtBugcheckAtHighLevel", "--- FAIL: TestUncaughtBugcheckAtHighLevel",
		"*** STOP: 0x0000007E", "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED", "EXCEPTION_RECORD:\npanic: *** STOP: 0x000000E2 MANUALLY_INITIATED_CRASH (0x1, 0x2, 0x3, 0x4)"} {
		if !strings.Contains(strings.ReplaceAll(string(out), "\r", ""), want) {
			t.Errorf("no %q in the output", want)
		}
	}
	if want := int(bugcheck.SystemThreadExceptionNotHandled.ExitStatus()); status != want {
		t.Errorf("exit status %d, want %d", status, want)
	}
}
