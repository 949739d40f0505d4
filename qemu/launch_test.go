package qemu

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ntgo/nt/bugcheck"
)

// exitErr returns the wait error of a process that exited with code, or
// was killed (code < 0).
func exitErr(t *testing.T, code int) error {
	t.Helper()
	script := "exit " + strconv.Itoa(code)
	if code < 0 {
		script = "kill -KILL $$"
	}
	err := exec.Command("sh", "-c", script).Run()
	if code == 0 && err != nil || code != 0 && err == nil {
		t.Fatalf("sh -c %q: %v", script, err)
	}
	return err
}

func record(r bugcheck.ExitRecord) []byte {
	var buf [bugcheck.RecordMax]byte
	return append([]byte(bugcheck.BootMarker), buf[:r.Encode(&buf)]...)
}

// The launcher's decision, without QEMU: each state of the status channel
// with the QEMU exits that go with it.
func TestDecide(t *testing.T) {
	const qemuMessage = "qemu-system-x86_64: unsupported machine type"
	marker := []byte(bugcheck.BootMarker)
	for _, tc := range []struct {
		name        string
		channel     []byte
		qemuExit    int // -1: killed
		interactive bool
		want        Outcome
		err         error
	}{
		{"qemu failed", nil, 1, false, Outcome{}, ErrKernelNeverRan},
		{"qemu failed, interactive", nil, 1, true, Outcome{}, ErrKernelNeverRan},
		{"qemu exit 0 without a boot", nil, 0, true, Outcome{}, ErrKernelNeverRan},
		{"killed before the marker", nil, -1, false, Outcome{}, ErrKernelNeverRan},
		{"triple fault", marker, 0, false, Outcome{}, ErrNoExitRecord},
		{"killed after the boot", marker, -1, true, Outcome{}, ErrNoExitRecord},
		{"killed after the boot, batch", marker, -1, false, Outcome{}, ErrNoExitRecord},
		{"qemu error after the boot", marker, 1, true, Outcome{}, ErrNoExitRecord},
		{"ctrl-a x", marker, 0, true, Outcome{Quit: true}, nil},
		{"poweroff 0", record(bugcheck.ExitRecord{}), 1, false, Outcome{}, nil},
		{"poweroff 200", record(bugcheck.ExitRecord{Status: 200}), 200<<1 | 1&0xFF, false, Outcome{Status: 200, Record: bugcheck.ExitRecord{Status: 200}}, nil},
		{"poweroff 128", record(bugcheck.ExitRecord{Status: 128}), 1, false, Outcome{Status: 128, Record: bugcheck.ExitRecord{Status: 128}}, nil},
		{"record without debug-exit", record(bugcheck.ExitRecord{Status: 3}), 0, false, Outcome{}, errors.New("isa-debug-exit")},
		{"bugcheck", record(bugcheck.ExitRecord{Status: 0x42, Bugcheck: true, Code: 0xC2}), 0x85, false,
			Outcome{Status: 0x42, Record: bugcheck.ExitRecord{Status: 0x42, Bugcheck: true, Code: 0xC2}}, nil},
		{"garbled", []byte("hello"), 1, false, Outcome{}, bugcheck.ErrChannelGarbled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := tc.qemuExit & 0xFF
			if tc.qemuExit < 0 {
				code = -1
			}
			got, err := Decide(tc.channel, exitErr(t, code), []byte(qemuMessage+"\n"), tc.interactive)
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("error %v", err)
			case tc.err != nil && err == nil:
				t.Fatalf("outcome %+v, want error %v", got, tc.err)
			case tc.err != nil && !errors.Is(err, tc.err) && !strings.Contains(err.Error(), tc.err.Error()):
				t.Fatalf("error %v, want %v", err, tc.err)
			case err == nil && got != tc.want:
				t.Fatalf("outcome %+v, want %+v", got, tc.want)
			case errors.Is(err, ErrKernelNeverRan) && !strings.Contains(err.Error(), qemuMessage):
				t.Fatalf("error %v does not quote QEMU", err)
			}
		})
	}
}

// launcher builds ntgo-qemu for the tests that run it.
func launcher(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath(Binary()); err != nil {
		t.Skipf("%s not installed", Binary())
	}
	bin := filepath.Join(t.TempDir(), "ntgo-qemu")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/ntgo-qemu").CombinedOutput(); err != nil {
		t.Fatalf("building ntgo-qemu: %v\n%s", err, out)
	}
	return bin
}

// runLauncher runs ntgo-qemu with args (env added) and returns its exit
// status and stderr.
func runLauncher(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	t.Logf("ntgo-qemu %q: %v\n%s", args, err, stderr.String())
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// QEMU's own failures fail the launcher with QEMU's message and
// StatusLauncher, in each mode: interactive, batch and go test -exec.
func TestLauncherQEMUFailures(t *testing.T) {
	bin := launcher(t)
	checkFailure := func(status int, stderr string, qemuSays string) {
		t.Helper()
		if status != StatusLauncher || !strings.Contains(stderr, qemuSays) || !strings.Contains(stderr, ErrKernelNeverRan.Error()) {
			t.Errorf("status %d, stderr %q; want %d, QEMU's %q and %q", status, stderr, StatusLauncher, qemuSays, ErrKernelNeverRan)
		}
	}
	status, stderr := runLauncher(t, bin, nil, "/nonexistent.elf")
	checkFailure(status, stderr, "/nonexistent.elf")

	kernel := os.Getenv("NTGO_KERNEL")
	if kernel == "" {
		t.Skip("NTGO_KERNEL not set: the rest boots the real kernel (make console-test)")
	}
	status, stderr = runLauncher(t, bin, nil, "-batch", "-machine", "foo", kernel, "run=poweroff 3")
	checkFailure(status, stderr, "unsupported machine type")
	status, stderr = runLauncher(t, bin, []string{"NTGO_ACCEL=bogus"}, "-batch", kernel, "run=poweroff 3")
	checkFailure(status, stderr, "invalid accelerator bogus")

	// make ktest's go test -exec: a test binary that never booted fails.
	test, overlay := filepath.Join(t.TempDir(), "bugcheck.test"), filepath.Join(t.TempDir(), "overlay.json")
	if err := WriteBootOverlay(overlay, []string{"../nt/bugcheck"}); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "test", "-c", "-overlay", overlay, "-o", test, "../nt/bugcheck").CombinedOutput(); err != nil {
		t.Fatalf("building a test binary: %v\n%s", err, out)
	}
	status, stderr = runLauncher(t, bin, nil, "-test", "-machine", "foo", test, "-test.v")
	checkFailure(status, stderr, "unsupported machine type")
}

// The real kernel's statuses reach the launcher's exit status whole,
// including those isa-debug-exit's exit code cannot carry.
func TestLauncherStatuses(t *testing.T) {
	kernel := os.Getenv("NTGO_KERNEL")
	if kernel == "" {
		t.Skip("NTGO_KERNEL not set: boots the real kernel (make console-test)")
	}
	bin := launcher(t)
	for _, s := range []int{200, 128} {
		if status, _ := runLauncher(t, bin, nil, "-batch", kernel, "run=poweroff 0n"+strconv.Itoa(s)); status != s {
			t.Errorf("poweroff %d: status %d", s, status)
		}
	}
	status, stderr := runLauncher(t, bin, nil, "-batch", kernel, "run=bugcheck c2 7 0 0 0")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if status != int(bugcheck.BadPoolCaller.ExitStatus()) || lines[len(lines)-1] != "ntgo-qemu: bugcheck 0x000000C2" {
		t.Errorf("bugcheck 0xC2: status %d, last stderr line %q", status, lines[len(lines)-1])
	}
}

// An interactive console says how to leave, and leaving with QEMU's
// Ctrl-A x is status 0 without an error line.
func TestLauncherInteractiveQuit(t *testing.T) {
	kernel := os.Getenv("NTGO_KERNEL")
	if kernel == "" {
		t.Skip("NTGO_KERNEL not set: boots the real kernel (make console-test)")
	}
	cmd := exec.Command(launcher(t), kernel)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var console bytes.Buffer
	if _, found := readUntil(stdout, &console, []byte(Prompt), time.Now()); !found {
		cmd.Process.Kill()
		t.Fatalf("no prompt: %q", console.String())
	}
	io.WriteString(stdin, "\x01x") // QEMU's mux: Ctrl-A x quits
	io.Copy(&console, stdout)
	err = cmd.Wait()
	if err != nil || !strings.Contains(stderr.String(), "poweroff [status]") || !strings.Contains(stderr.String(), "Ctrl-A x") ||
		strings.Contains(stderr.String(), "kernel") {
		t.Fatalf("after Ctrl-A x: %v, stderr %q", err, stderr.String())
	}
}

// A pc boot (SeaBIOS) prints nothing before the kernel's first line: no
// escape sequences that clear the terminal, no firmware banners.
func TestPCBootQuiet(t *testing.T) {
	kernel := os.Getenv("NTGO_KERNEL")
	if kernel == "" {
		t.Skip("NTGO_KERNEL not set: boots the real kernel (make console-test)")
	}
	cmd := exec.Command(launcher(t), "-batch", "-machine", "pc", kernel, "run=poweroff 0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if first := bytes.Index(out, []byte("ntgo: Go ")); first != 0 {
		t.Fatalf("before the kernel's first line (at %d): %q", first, out[:max(first, 0)])
	}
}
