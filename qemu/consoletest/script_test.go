package consoletest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"ntgo/boot/cmdline"
	"ntgo/nt/bugcheck"
	ntqemu "ntgo/qemu"
)

// poweroff N exits N for every status the launcher can report, through
// the status channel (isa-debug-exit's exit code keeps 7 bits). Each status
// is a boot; two run at a time.
func TestPoweroffEveryStatus(t *testing.T) {
	testKernel(t)
	const atOnce = 2
	slots := make(chan struct{}, atOnce)
	t.Run("status", func(t *testing.T) {
		for s := 0; s < 256; s++ {
			t.Run(fmt.Sprint(s), func(t *testing.T) {
				t.Parallel()
				slots <- struct{}{}
				defer func() { <-slots }()
				// Hex, which every number convention the console may take reads alike.
				vm := bootVM(t, ntqemu.Config{Args: []string{fmt.Sprintf("run=poweroff %#x", s)}, Batch: true})
				expectExit(t, vm, s)
			})
		}
	})
}

// A status poweroff cannot take is refused with the parser's reason: in a batch
// boot the script then fails.
func TestPoweroffRefused(t *testing.T) {
	for arg, why := range map[string]string{
		"100": "poweroff: 100: out of range (0 to 0xff)", "0n256": "poweroff: 0n256: out of range (0 to 0xff)",
		"-1": "poweroff: -1: ", "x": "poweroff: x: not a number", "3x": "poweroff: 3x: not a number",
		"1 2": "usage: poweroff [status]",
	} {
		t.Run(arg, func(t *testing.T) {
			vm := bootVM(t, ntqemu.Config{Args: []string{"run=poweroff " + arg}, Batch: true})
			expect(t, vm, why, "ntgo: run= script stopped: command 1 (poweroff "+arg+") failed")
			expectExit(t, vm, bugcheck.StatusScriptFailed)
		})
	}
}

// A typo in a batch script: the kernel says which command failed and why,
// runs nothing after it, and powers off with StatusScriptFailed.
func TestBatchScriptTypo(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{Args: []string{"run=ver; verr; poweroff 0"}, Batch: true})
	out := expect(t, vm, "kd> verr", "verr: unknown command",
		"ntgo: run= script stopped: command 2 (verr) failed: verr: unknown command",
		fmt.Sprintf("powering off with status %d", bugcheck.StatusScriptFailed))
	if strings.Contains(out, "kd> poweroff") {
		t.Errorf("ran past the failing command:\n%s", out)
	}
	expectExit(t, vm, bugcheck.StatusScriptFailed)
}

// The same typo in an interactive boot stops the script with the same
// message, and the prompt comes.
func TestInteractiveScriptTypo(t *testing.T) {
	vm := startVM(t, "run=verr; poweroff 3")
	expect(t, vm, "ntgo: run= script stopped: command 1 (verr) failed", "kd> ")
	vm.Console.SendLine("poweroff 5")
	expectExit(t, vm, 5)
}

// A batch script that ends without poweroff powers off with
// StatusScriptUnfinished, saying so, instead of waiting at the prompt.
func TestBatchScriptWithoutPoweroff(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{Args: []string{"run=ver"}, Batch: true})
	expect(t, vm, "ntgo kernel, build", "the run= script ended without poweroff")
	expectExit(t, vm, bugcheck.StatusScriptUnfinished)
}

// Quotes reach the console: "a b" is one word, written and read back, and
// a quoted ; does not end the command.
func TestScriptQuoting(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{Args: []string{`run=ramdisk write 0 "a b"; ramdisk read 0 3; ramdisk write 10 "x; y"; ramdisk read 10 4; poweroff 0`}, Batch: true})
	expect(t, vm, `kd> ramdisk write 0 "a b"`, "wrote 3 bytes", `"a b"`, `kd> ramdisk write 10 "x; y"`, "wrote 4 bytes", `"x; y"`)
	expectExit(t, vm, 0)
}

// A script as long as the kernel's command line holds runs to its end; one
// byte more is refused on the host, naming the limit, before QEMU starts.
func TestScriptLengthLimit(t *testing.T) {
	kernel := testKernel(t)
	const tail = "; poweroff 9"
	fill := cmdline.Max - len(kernel) - len(` "run=`) - len(tail) - len(`"`)
	script := "run=ver" + strings.Repeat(" ", fill-len("ver")) + tail
	if _, err := (ntqemu.Config{Kernel: kernel, Args: []string{script + " "}, Accel: "tcg"}).NewBoot(); !errors.Is(err, cmdline.ErrTooLong) ||
		!strings.Contains(err.Error(), fmt.Sprint(cmdline.Max)) {
		t.Fatalf("script one byte over the limit: %v", err)
	}
	vm := bootVM(t, ntqemu.Config{Args: []string{script}, Batch: false})
	expect(t, vm, "kd> poweroff 9")
	expectExit(t, vm, 9)
}
