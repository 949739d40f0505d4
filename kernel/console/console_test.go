package console

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
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
	Register(Command{Name: "t-fail", Help: "test", Run: func(w io.Writer, a []string) error {
		return errors.New("refused")
	}})
	var out bytes.Buffer
	err := RunScript(&out, `t-echo one; t-echo "two; three" ;t-echo; t-echo four`)
	if strings.Join(got, ",") != "one,two; three" {
		t.Fatalf("ran %q", got)
	}
	var se *ScriptError
	if !errors.As(err, &se) || se.N != 3 || se.Line != "t-echo" || !errors.Is(err, ErrUsage) {
		t.Fatalf("script error %v", err)
	}
	if !strings.Contains(out.String(), "usage: t-echo <word>") || !strings.Contains(out.String(), Prompt+`t-echo "two; three"`) ||
		strings.Contains(out.String(), "four") {
		t.Fatalf("output %q", out.String())
	}
	for line, want := range map[string]error{"no-such": ErrUnknownCommand, "t-fail": nil, `t-echo "a`: ErrUnterminatedQuote, "": nil, "t-echo x": nil} {
		out.Reset()
		err := Execute(&out, line)
		switch {
		case line == "t-fail" && (err == nil || !strings.Contains(out.String(), "t-fail: refused")):
			t.Errorf("%q: %v, printed %q", line, err, out.String())
		case line != "t-fail" && !errors.Is(err, want):
			t.Errorf("%q: %v, want %v", line, err, want)
		case err != nil && out.Len() == 0:
			t.Errorf("%q failed silently: %v", line, err)
		}
	}
}

func TestFields(t *testing.T) {
	for line, want := range map[string][]string{
		"":                         nil,
		"  ver  ":                  {"ver"},
		`ramdisk write 0 "a b"`:    {"ramdisk", "write", "0", "a b"},
		`x "" y`:                   {"x", "", "y"},
		`a"b c"d`:                  {"ab cd"},
		`say \"hi\" a\\b \\`:       {"say", `"hi"`, `a\b`, `\`},
		"tab\tsep":                 {"tab", "sep"},
		`"a; b"`:                   {"a; b"},
		"db fffff900`00000000 L10": {"db", "fffff900`00000000", "L10"},
	} {
		got, err := Fields(line)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Fields(%q) = %q, %v; want %q", line, got, err, want)
		}
	}
	if _, err := Fields(`a "b`); !errors.Is(err, ErrUnterminatedQuote) {
		t.Errorf("unterminated quote: %v", err)
	}
}

func TestSplitScript(t *testing.T) {
	for script, want := range map[string][]string{
		"ver; poweroff 0":                      {"ver", "poweroff 0"},
		" ; ;ver;; ":                           {"ver"},
		`ramdisk write 0 "a; b"; ramdisk read`: {`ramdisk write 0 "a; b"`, "ramdisk read"},
		`echo a\;b; c`:                         {`echo a\;b`, "c"},
	} {
		got, err := SplitScript(script)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SplitScript(%q) = %q, %v; want %q", script, got, err, want)
		}
	}
	if _, err := SplitScript(`ver; "poweroff`); !errors.Is(err, ErrUnterminatedQuote) {
		t.Errorf("unterminated quote: %v", err)
	}
}
