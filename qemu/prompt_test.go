package qemu

// Host tests of the boot-timing helpers that need no QEMU: prompt matching
// across reads.

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestReadUntilAcrossReads(t *testing.T) {
	const console = "ntgo: Go in ring 0\n" + Prompt + "after"
	var got bytes.Buffer
	// One byte per read: the prompt is split across many reads.
	if _, found := readUntil(iotest.OneByteReader(strings.NewReader(console)), &got, []byte(Prompt), time.Now()); !found {
		t.Fatalf("prompt not found in %q", got.String())
	}
	if want := console[:strings.Index(console, Prompt)+len(Prompt)]; got.String() != want {
		t.Errorf("read %q, want up to the prompt %q", got.String(), want)
	}
	got.Reset()
	if _, found := readUntil(strings.NewReader("no prompt\n"), &got, []byte(Prompt), time.Now()); found {
		t.Error("prompt found in output without one")
	}
}
