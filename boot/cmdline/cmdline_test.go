package cmdline

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const testPath = "/tmp/kernel.elf"

// split is Split as the boot entry runs it: the path QEMU puts first, then
// the line, in a buffer of the boot entry's size.
func split(t testing.TB, line string) []string {
	var buf [Max + 1]byte
	full := testPath + " " + line
	if len(full) > Max {
		t.Fatalf("line of %d bytes passed Join", len(full))
	}
	n := copy(buf[:], full)
	var spans [1 + MaxArgs + MaxEnv]Span
	words := []string{}
	for _, s := range spans[:Split(buf[:], n, spans[:])] {
		if buf[s.Off+s.N] != 0 {
			t.Fatalf("word at %d not NUL-terminated", s.Off)
		}
		words = append(words, string(buf[s.Off:s.Off+s.N]))
	}
	if len(words) == 0 || words[0] != testPath {
		t.Fatalf("%q: path word lost: %q", line, words)
	}
	return words[1:]
}

func roundTrip(t testing.TB, words []string) {
	line, err := Join(testPath, words)
	if err != nil {
		t.Fatalf("Join(%q): %v", words, err)
	}
	if got := split(t, line); !slices.Equal(got, words) {
		t.Fatalf("Join(%q) = %q splits as %q", words, line, got)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, words := range [][]string{
		{},
		{"-test.v", "run=ver; poweroff 0"},
		{`run=ramdisk write 0 "a b"; ramdisk read 0 3`},
		{"", "a", ""},
		{`\`, `\\`, `"`, `""`, `\"`, `a\`, `"a b`, "tab\there", "  lead", "trail  "},
		{"k=v=w", "=x", "a;b", "semi;", ";", "new\nline", "\x01\x7f\xff"},
		{"run=" + strings.Repeat(`x "y" \z; `, 300)},
	} {
		roundTrip(t, words)
	}
}

// Every pair of bytes (as a word and inside a quoted one) survives.
func TestRoundTripAllBytes(t *testing.T) {
	for a := 1; a < 256; a++ {
		for b := 1; b < 256; b += 7 {
			w := string([]byte{byte(a), byte(b)})
			roundTrip(t, []string{w, "k=" + w + " " + w})
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("a b", `c"d`, `e\f`)
	f.Add("run=x; y", "", `\"`)
	f.Fuzz(func(t *testing.T, a, b, c string) {
		words := []string{a, b, c}
		if _, err := Join(testPath, words); err != nil {
			return // NUL bytes or too long: refused, checked below
		}
		roundTrip(t, words)
	})
}

func TestJoinRefuses(t *testing.T) {
	long := "run=" + strings.Repeat("x", Max)
	if _, err := Join(testPath, []string{long}); !errors.Is(err, ErrTooLong) || !strings.Contains(err.Error(), "4095") {
		t.Errorf("over-long line: %v", err)
	}
	fits := "run=" + strings.Repeat("x", Max-len(testPath)-1-len("run="))
	roundTrip(t, []string{fits})
	if _, err := Join(testPath, []string{fits + "x"}); !errors.Is(err, ErrTooLong) {
		t.Errorf("line one byte over: %v", err)
	}
	if _, err := Join(testPath, slices.Repeat([]string{"a"}, MaxArgs+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("too many arguments: %v", err)
	}
	roundTrip(t, slices.Repeat([]string{"a"}, MaxArgs))
	if _, err := Join(testPath, []string{"a\x00b"}); err == nil {
		t.Error("NUL byte accepted")
	}
	if _, err := Join("/a b/kernel.elf", nil); err == nil {
		t.Error("kernel path with a space accepted")
	}
}
