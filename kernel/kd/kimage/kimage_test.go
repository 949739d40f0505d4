package kimage

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"ntgo/kernel/kd"
	"ntgo/nt/arch"
)

// stack returns its callers: mid, which the compiler inlines into outer,
// gives the stack an inlined frame to expand.
//
//go:noinline
func stack() []uintptr {
	pcs := make([]uintptr, 32)
	return pcs[:runtime.Callers(1, pcs)]
}

func mid() []uintptr { return stack() }

//go:noinline
func outer() []uintptr { return mid() }

// openSelf opens this test binary as the viewer opens the kernel.
func openSelf(t *testing.T) *Image {
	t.Helper()
	if arch.Bare() {
		t.Skip("the kernel has no file system to read its own ELF from")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	im, err := Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// The ELF's frames are the running binary's own (runtime.CallersFrames),
// inlined calls included: the viewer names a dump's addresses as the live
// screen does.
func TestFramesMatchRuntime(t *testing.T) {
	im := openSelf(t)
	if im.dwarf == nil {
		rerunWithDWARF(t)
		return
	}
	inlined := false
	for _, ret := range outer() {
		pc := ret - 1
		got, want := fmt.Sprint(im.Frames(pc)), fmt.Sprint(kd.RuntimeSymbols{}.Frames(pc))
		if got != want {
			t.Errorf("frames at %#x:\n%s\nthe runtime's:\n%s", pc, got, want)
		}
		inlined = inlined || len(kd.RuntimeSymbols{}.Frames(pc)) > 1
	}
	if !inlined {
		t.Error("no inlined frame on the stack: the test checks no expansion")
	}
	if im.Frames(1) != nil {
		t.Error("address 1 has frames")
	}
}

// withDWARF marks a rerun in a binary built with its DWARF.
const withDWARF = "KIMAGE_TEST_WITH_DWARF"

// rerunWithDWARF runs the calling test again in a test binary that keeps
// its DWARF: go test links the binaries it runs without (-w), and inline
// expansion reads DWARF.
func rerunWithDWARF(t *testing.T) {
	if os.Getenv(withDWARF) != "" {
		t.Fatal("the rebuilt test binary has no DWARF either")
	}
	bin := filepath.Join(t.TempDir(), "kimage.test")
	if out, err := exec.Command("go", "test", "-c", "-o", bin, "ntgo/kernel/kd/kimage").CombinedOutput(); err != nil {
		t.Skipf("cannot build a test binary with DWARF: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-test.run", "^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), withDWARF+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s with DWARF: %v\n%s", t.Name(), err, out)
	}
}

// Read returns the code bytes of the read-only segments, and refuses
// writable data.
func TestReadText(t *testing.T) {
	im := openSelf(t)
	pc := kd.RuntimeSymbols{}.Frames(outer()[0] - 1)[0].Entry
	got := make([]byte, 16)
	if !im.Read(pc, got) {
		t.Fatalf("code at %#x unreadable", pc)
	}
	if want := codeAt(pc); string(got) != string(want) {
		t.Errorf("code at %#x: % x, in memory % x", pc, got, want)
	}
	if im.Read(dataAddress(), got) {
		t.Error("a writable variable's bytes were read from the file")
	}
}
