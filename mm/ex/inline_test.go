package ex_test

import (
	"os/exec"
	"regexp"
	"testing"

	"ntgo/nt/arch"
)

// The routines a driver calls for each allocation and free without quota
// are small enough for the compiler to inline, so that each is one call
// into the pool (the package doc; under TCG a call costs ~45 ns). A change
// that pushes one over the inliner's budget fails here, not only as a
// slower benchmark.
func TestHotRoutinesInline(t *testing.T) {
	if arch.Bare() {
		t.Skip("needs the Go toolchain")
	}
	out, err := exec.Command("go", "build", "-gcflags=-m=2", "ntgo/mm/ex").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	for _, name := range []string{
		"AllocatePoolWithTag", "AllocatePoolZero", "AllocatePoolUninitialized",
		"AllocatePoolWithTagPriority", "AllocatePool2", "FreePool", "FreePoolWithTag",
	} {
		if !regexp.MustCompile(`(?m): can inline ` + name + `( |$)`).Match(out) {
			t.Errorf("%s does not inline:\n%s", name, regexp.MustCompile(`(?m)^.*inline `+name+`\b.*$`).Find(out))
		}
	}
}
