package console

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// Terminal keys as a terminal sends them.
const (
	up    = "\x1b[A"
	down  = "\x1b[B"
	right = "\x1b[C"
	left  = "\x1b[D"
)

// readLines feeds input to one editor and returns the lines it read and
// the echo of each.
func readLines(t *testing.T, input string) (lines, echoes []string) {
	t.Helper()
	var e Editor
	r := bufio.NewReader(strings.NewReader(input))
	for {
		var echo bytes.Buffer
		line, err := e.ReadLine(r, &echo)
		if err == io.EOF && line == "" && echo.Len() == 0 {
			return lines, echoes
		}
		lines, echoes = append(lines, line), append(echoes, echo.String())
		if err != nil {
			return lines, echoes
		}
	}
}

func TestEditor(t *testing.T) {
	for _, c := range []struct {
		name, input string
		lines       []string
		lastEcho    string
	}{
		{"typed", "ver\r", []string{"ver"}, "ver\n"},
		{"backspace and DEL", "vex\x7f\x7fer\r", []string{"ver"}, "vex\b \b\b \ber\n"},
		{"CR LF is one line", "ver\r\nk\r\n", []string{"ver", "k"}, "k\n"},
		{"LF alone", "ver\nk\n", []string{"ver", "k"}, "k\n"},
		{"^C discards", "poweroff\x03", []string{""}, "poweroff^C\n"},
		{"^U erases", "abc\x15k\r", []string{"k"}, "abc\b \b\b \b\b \bk\n"},
		{"up recalls", "ver\r" + up + "\r", []string{"ver", "ver"}, "ver\n"},
		{"up twice, edit", "ver\rk\r" + up + up + "x\r", []string{"ver", "k", "verx"}, "k\b \bverx\n"},
		{"up past the oldest stays", "ver\r" + up + up + up + "\r", []string{"ver", "ver"}, "ver\n"},
		{"down returns to the typed line", "ver\rab" + up + down + "c\r", []string{"ver", "abc"}, "ab\b \b\b \bver\b \b\b \b\b \babc\n"},
		{"down at the new line does nothing", "ver\rab" + down + "\r", []string{"ver", "ab"}, "ab\n"},
		{"empty lines and repeats not kept", "ver\r\rver\r" + up + up + "\r", []string{"ver", "", "ver", "ver"}, "ver\n"},
		{"left and insert", "vr" + left + "e\r", []string{"ver"}, "vr\ber\b\n"},
		{"left, right, insert at end", "ve" + left + right + "r\r", []string{"ver"}, "ve\ber\n"},
		{"left at start, right at end ignored", left + "ab" + right + "\r", []string{"ab"}, "ab\n"},
		{"backspace mid-line", "vxer" + left + left + "\x7f\r", []string{"ver"}, "vxer\b\b\ber \b\b\b\n"},
		{"application-mode arrows", "ver\r\x1bOA\r", []string{"ver", "ver"}, "ver\n"},
		{"other sequences swallowed", "v\x1b[3~\x1b[1;5Cer\r", []string{"ver"}, "ver\n"},
		{"EOF ends the line", "ver", []string{"ver"}, "ver"},
	} {
		lines, echoes := readLines(t, c.input)
		if strings.Join(lines, "|") != strings.Join(c.lines, "|") {
			t.Errorf("%s: lines %q, want %q", c.name, lines, c.lines)
			continue
		}
		if got := echoes[len(echoes)-1]; got != c.lastEcho {
			t.Errorf("%s: echo %q, want %q", c.name, got, c.lastEcho)
		}
	}
}

func TestHistoryBounded(t *testing.T) {
	var e Editor
	var in strings.Builder
	for i := range historySize + 10 {
		in.WriteString(strings.Repeat("x", i+1) + "\r")
	}
	r := bufio.NewReader(strings.NewReader(in.String()))
	for range historySize + 10 {
		e.ReadLine(r, io.Discard)
	}
	if len(e.history) != historySize || e.history[0] != strings.Repeat("x", 11) {
		t.Fatalf("history holds %d lines, oldest %q", len(e.history), e.history[0])
	}
}

func TestServeLine(t *testing.T) {
	var got []string
	Register(Command{Name: "t-Serve", Run: func(w io.Writer, a []string) error {
		got = append(got, strings.Join(a, " "))
		return nil
	}})
	var out bytes.Buffer
	Serve(strings.NewReader("t-serve a; T-SERVE b ;;t-serve c\r"+up+"\r"), &out)
	if strings.Join(got, ",") != "a,b,c,a,b,c" {
		t.Fatalf("ran %q; output %q", got, out.String())
	}
	if _, ok := Lookup("T-sErVe"); !ok {
		t.Fatal("lookup is case-sensitive")
	}
}

func TestInterrupted(t *testing.T) {
	var count uint64 = 7 // ^C before the source is installed are settled
	SetInterruptSource(func() uint64 { return count })
	defer SetInterruptSource(nil)
	var during, after bool
	var slept error
	Register(Command{Name: "t-long", Run: func(io.Writer, []string) error {
		during = Interrupted()
		count++ // ^C arrives while the command runs
		after = Interrupted()
		start := time.Now()
		slept = Sleep(time.Hour)
		if time.Since(start) > time.Second {
			t.Error("Sleep did not return at once on ^C")
		}
		return slept
	}})
	var out bytes.Buffer
	Execute(&out, "t-long")
	if during || !after || slept != ErrInterrupted || out.String() != "t-long: interrupted (^C)\n" {
		t.Fatalf("before %v after %v sleep %v output %q", during, after, slept, out.String())
	}
	if !Interrupted() {
		t.Fatal("^C settled before the line editor read it")
	}
	// The editor reads the ^C: the next command starts clean.
	var e Editor
	if line, _ := e.ReadLine(bufio.NewReader(strings.NewReader("ver\x03")), io.Discard); line != "" {
		t.Fatalf("^C did not discard the line: %q", line)
	}
	if Interrupted() || Sleep(time.Millisecond) != nil {
		t.Fatal("a ^C the editor has read still interrupts")
	}
	// A ^C typed ahead of a command's line, not yet read, stops it.
	count++
	Execute(&out, "t-long")
	if !during {
		t.Fatal("a ^C typed ahead did not interrupt the command")
	}
}
