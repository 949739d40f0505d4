// How a run ended. QEMU's exit code alone cannot say: QEMU exits 1 for its
// own errors (a bad -machine, a missing kernel file), which isa-debug-exit
// also produces for `poweroff 0`, and keeps 7 bits of the kernel's status.
// So every boot has a status channel (nt/bugcheck/channel.go): an
// isa-debugcon device writing to a file in a directory the Boot owns. The
// kernel writes a boot marker before its Go runtime starts and an exit
// record (the full status byte, a bugcheck's code) at every power-off.
// Decide reads it with QEMU's exit and stderr:
//
//	no boot marker      the kernel never ran: ErrKernelNeverRan, with
//	                    QEMU's exit code and its own message
//	marker, no record   the kernel died without powering off (a triple
//	                    fault, QEMU killed): ErrNoExitRecord; except that
//	                    in an interactive boot, QEMU exiting 0 is the user
//	                    leaving with Ctrl-A x: status 0
//	record              the record's status, once QEMU's exit code agrees
//	                    with what isa-debug-exit makes of it
//
// A launcher that fails so exits with StatusLauncher.

package qemu

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"ntgo/nt/bugcheck"
)

// StatusLauncher is the launcher's exit status when it has no kernel status
// to report (QEMU failed, or the kernel died without powering off): 125, as
// timeout(1) exits when it fails itself. It is no bugcheck's, Go runtime's
// or script's status (nt/bugcheck/exitstatus.go); only an explicit
// `poweroff 125` also exits so, and the launcher's stderr line tells them
// apart.
const StatusLauncher = 125

var (
	// ErrKernelNeverRan means QEMU ended without the kernel's boot marker.
	ErrKernelNeverRan = errors.New("the kernel never ran")
	// ErrNoExitRecord means the kernel booted but QEMU ended without its
	// exit record.
	ErrNoExitRecord = errors.New("the kernel died without powering off (triple fault, or QEMU killed)")
)

// Outcome is how a run ended, when the kernel ended it.
type Outcome struct {
	Status int
	Record bugcheck.ExitRecord // Record.Bugcheck: it ended in that bugcheck
	Quit   bool                // an interactive user left with Ctrl-A x
}

// stderrTail is how much of QEMU's stderr an error quotes.
const stderrTail = 2 << 10

// Decide is the launcher's one decision (see the top of this file): channel
// is the status channel's contents, waitErr QEMU's exec wait error, stderr
// what QEMU printed there (nil when it went elsewhere).
func Decide(channel []byte, waitErr error, stderr []byte, interactive bool) (Outcome, error) {
	code := 0
	var ee *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &ee):
		code = ee.ExitCode() // -1: killed by a signal
	default:
		return Outcome{}, waitErr
	}
	how := fmt.Sprintf("QEMU exit code %d", code)
	if code < 0 {
		how = fmt.Sprintf("QEMU %v", waitErr)
	}
	if msg := bytes.TrimSpace(stderr[max(0, len(stderr)-stderrTail):]); len(msg) > 0 {
		how += ": " + string(msg)
	}
	booted, ended, rec, err := bugcheck.ParseChannel(channel)
	switch {
	case err != nil:
		return Outcome{}, fmt.Errorf("%w (%s)", err, how)
	case !booted:
		return Outcome{}, fmt.Errorf("%w (%s)", ErrKernelNeverRan, how)
	case !ended && interactive && code == 0:
		return Outcome{Quit: true}, nil
	case !ended:
		return Outcome{}, fmt.Errorf("%w (%s)", ErrNoExitRecord, how)
	}
	if want := (int(rec.Status)<<1 | 1) & 0xFF; code != want {
		return Outcome{}, fmt.Errorf("the kernel powered off with status %d but %s, not isa-debug-exit's %d", rec.Status, how, want)
	}
	return Outcome{Status: int(rec.Status), Record: rec}, nil
}

// Boot is one run of a Config: the directory it owns for the status
// channel's file (and a link to the kernel when the kernel's path would not
// survive the command line). Close removes it.
type Boot struct {
	Config
	dir    string
	kernel string
	args   []string
}

// statusFileName is the status channel's file in the Boot's directory.
const statusFileName = "status"

// NewBoot prepares a run of c: the accelerator chosen, the directory made,
// the command line checked (a script longer than the kernel reads is
// refused here, not truncated there).
func (c Config) NewBoot() (*Boot, error) {
	c.Accel = c.accel()
	dir, err := os.MkdirTemp("", "ntgo-qemu")
	if err != nil {
		return nil, err
	}
	b := &Boot{Config: c, dir: dir, kernel: c.Kernel}
	if strings.ContainsAny(c.Kernel, " \t\"\\") {
		// The kernel's path is the command line's first word.
		abs, err := filepath.Abs(c.Kernel)
		if err == nil {
			b.kernel = filepath.Join(dir, "kernel.elf")
			err = os.Symlink(abs, b.kernel)
		}
		if err != nil {
			b.Close()
			return nil, err
		}
	}
	pageFile, err := c.preparePageFile(dir)
	if err != nil {
		b.Close()
		return nil, err
	}
	if b.args, err = c.qemuArgs(b.kernel, filepath.Join(dir, statusFileName), pageFile); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// QEMUArgs returns the run's QEMU command line without the binary.
func (b *Boot) QEMUArgs() []string { return b.args }

// Command returns an exec.Cmd that runs QEMU for b.
func (b *Boot) Command() *exec.Cmd { return exec.Command(Binary(), b.args...) }

// Outcome decides how the run ended (Decide) from QEMU's wait error and
// stderr (nil when it went elsewhere) and the status channel.
func (b *Boot) Outcome(waitErr error, stderr []byte) (Outcome, error) {
	channel, err := os.ReadFile(filepath.Join(b.dir, statusFileName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Outcome{}, err
	}
	return Decide(channel, waitErr, stderr, b.Interactive)
}

// Status is Outcome's status.
func (b *Boot) Status(waitErr error, stderr []byte) (int, error) {
	o, err := b.Outcome(waitErr, stderr)
	return o.Status, err
}

// Dir is the directory the run owns.
func (b *Boot) Dir() string { return b.dir }

// Close removes the run's directory.
func (b *Boot) Close() error { return os.RemoveAll(b.dir) }
