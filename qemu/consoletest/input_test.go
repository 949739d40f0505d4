package consoletest

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	ntqemu "ntgo/qemu"
)

// pipedTimeout bounds the 1 MiB run; it takes well under a minute on TCG.
const pipedTimeout = 3 * time.Minute

// runPiped boots the kernel with input as its whole console input, the way
// `... | make qemu` feeds it, and returns what the console printed and the
// kernel's exit status.
func runPiped(t *testing.T, input []byte) (string, int) {
	t.Helper()
	boot, err := ntqemu.Config{Kernel: testKernel(t)}.NewBoot()
	if err != nil {
		t.Fatal(err)
	}
	defer boot.Close()
	ctx, cancel := context.WithTimeout(context.Background(), pipedTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ntqemu.Binary(), boot.QEMUArgs()...)
	var out, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(input), &out, &stderr
	start := time.Now()
	status, err := boot.Status(cmd.Run(), stderr.Bytes())
	out.Write(stderr.Bytes())
	t.Logf("%d bytes of input ran in %v", len(input), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("VM: %v; output ends:\n%s", err, tail(out.String()))
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), status
}

func tail(s string) string { return s[max(0, len(s)-2000):] }

// A mebibyte of commands piped in at once, far more than the kernel's 4 KiB
// input ring: every command is echoed whole and runs, in order, and the
// final poweroff is reached. Each line is one ? command whose expression
// is padded with +0 terms to about a KiB, so the echo checks every input
// byte while the commands stay few enough for TCG.
func TestPipedMebibyte(t *testing.T) {
	const total, lineBytes = 1 << 20, 1000
	var in bytes.Buffer
	var lines []string
	for i := 0; in.Len() < total; i++ {
		line := fmt.Sprintf("? 0n%d", i)
		line += strings.Repeat("+0", (lineBytes-len(line))/2)
		lines = append(lines, line)
		in.WriteString(line + "\n")
	}
	in.WriteString("poweroff 0\n")
	out, status := runPiped(t, in.Bytes())
	rest := out
	for i, line := range lines {
		want := fmt.Sprintf("kd> %s\nEvaluate expression: %d = ", line, i)
		at := strings.Index(rest, want)
		if at < 0 {
			t.Fatalf("command %d of %d missing or garbled after:\n%s", i, len(lines), tail(out[:len(out)-len(rest)]))
		}
		rest = rest[at+len(want):]
	}
	if !strings.Contains(rest, "kd> poweroff 0\npowering off (status 0)") || status != 0 {
		t.Fatalf("no poweroff at the end (status %d):\n%s", status, tail(rest))
	}
}
