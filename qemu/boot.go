// Boot timing, for the boot benchmark and the figures command: a boot counts
// when the kernel reaches its console prompt and then powers off with status
// 0 when told to from the console, so a kernel that prints the prompt and
// then breaks is not counted as booted. The time is QEMU's start to the
// prompt; the power-off is outside it.

package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"time"
)

const (
	// Prompt is what the console prints when it is ready for a command.
	Prompt = "kd> "
	// BootTimeout bounds one boot: far above a TCG boot (a tenth of a
	// second), so a loaded host does not fail it. A kernel that does not fit
	// in the guest can hang without output (QEMU runs whatever lies where it
	// was not loaded), so such boots only fail at the timeout.
	BootTimeout     = 10 * time.Second
	poweroffCommand = "poweroff 0\n"
	// outputTail is how much of the console a failed boot's error quotes.
	outputTail = 2 << 10
	readChunk  = 4 << 10 // console bytes read at a time
)

// ErrNoPrompt means QEMU ended, or the timeout passed, before the prompt.
var ErrNoPrompt = errors.New("no console prompt")

// Accelerator returns the accelerator c runs with: c.Accel, $NTGO_ACCEL, or
// what the KVM probe decided.
func (c Config) Accelerator() string { return c.accel() }

// BootToPrompt boots c, waits for the console prompt, powers the kernel off
// through the console and returns the time from starting QEMU to the prompt.
// The accelerator is chosen (and KVM probed) before the clock starts.
func (c Config) BootToPrompt(timeout time.Duration) (time.Duration, error) {
	b, err := c.NewBoot()
	if err != nil {
		return 0, err
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(), b.QEMUArgs()...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var console, stderr bytes.Buffer // stderr is written by exec's own goroutine
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	elapsed, found := readUntil(stdout, &console, []byte(Prompt), start)
	if found {
		io.WriteString(stdin, poweroffCommand)
	}
	io.Copy(&console, stdout) // to EOF, so Wait does not race the reader
	status, err := b.Status(cmd.Wait(), stderr.Bytes())
	switch {
	case !found && ctx.Err() != nil:
		return 0, fmt.Errorf("%w within %v: %q", ErrNoPrompt, timeout, tail(console.Bytes()))
	case !found:
		return 0, fmt.Errorf("%w: %v: %q", ErrNoPrompt, err, tail(console.Bytes()))
	case err != nil:
		return 0, fmt.Errorf("after the prompt: %w: %q", err, tail(console.Bytes()))
	case status != 0:
		return 0, fmt.Errorf("poweroff 0 exited with status %d: %q", status, tail(console.Bytes()))
	}
	return elapsed, nil
}

// readUntil copies r to w until want has appeared, returning how long after
// start it did; false if r ended first.
func readUntil(r io.Reader, w *bytes.Buffer, want []byte, start time.Time) (time.Duration, bool) {
	buf := make([]byte, readChunk)
	for {
		n, err := r.Read(buf)
		w.Write(buf[:n])
		if bytes.Contains(w.Bytes(), want) {
			return time.Since(start), true
		}
		if err != nil {
			return 0, false
		}
	}
}

func tail(b []byte) []byte {
	return b[max(0, len(b)-outputTail):]
}
