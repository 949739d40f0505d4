package console

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestReadLineEditing(t *testing.T) {
	var echo bytes.Buffer
	r := bufio.NewReader(strings.NewReader("vex\x7f\x7fer\r"))
	var e Editor
	line, err := e.ReadLine(r, &echo)
	if err != nil || line != "ver" {
		t.Fatalf("line %q err %v", line, err)
	}
	if !strings.Contains(echo.String(), "\b \b") {
		t.Fatalf("backspace not echoed as erase: %q", echo.String())
	}
}

func TestExecuteAndScript(t *testing.T) {
	var got []string
	Register(Command{Name: "t-echo", Args: "<word>", Help: "test", Run: func(w io.Writer, a []string) error {
		if len(a) != 1 {
			return ErrUsage
		}
		got = append(got, a[0])
		return nil
	}})
	var out bytes.Buffer
	RunScript(&out, "t-echo one; t-echo two ;t-echo")
	if strings.Join(got, ",") != "one,two" {
		t.Fatalf("ran %v", got)
	}
	if !strings.Contains(out.String(), "usage: t-echo <word>") || !strings.Contains(out.String(), Prompt+"t-echo two") {
		t.Fatalf("output %q", out.String())
	}
	out.Reset()
	Execute(&out, "no-such")
	if !strings.Contains(out.String(), "unknown command") {
		t.Fatalf("output %q", out.String())
	}
}
