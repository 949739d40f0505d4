package qemu

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The overlay makes a package without any boot import link ntgo/boot in
// its external test package, as the go tool itself sees it.
func TestBootOverlayLinksBoot(t *testing.T) {
	overlay := filepath.Join(t.TempDir(), "overlay.json")
	if err := WriteBootOverlay(overlay, []string{"ntgo/mm/pfn", "ntgo/mm/pool/pooltest"}); err != nil {
		t.Fatal(err)
	}
	imports, err := goList([]string{"-overlay", overlay, "-f", "{{.ImportPath}}: {{.XTestImports}}", "ntgo/mm/pfn", "ntgo/mm/pool/pooltest"})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(imports), "\n")
	if want := "ntgo/mm/pfn: [ntgo/boot]"; lines[0] != want {
		t.Errorf("with the overlay: %q, want %q", lines[0], want)
	}
	if want := "ntgo/mm/pool/pooltest: []"; lines[1] != want {
		t.Errorf("a package without tests got a test file: %q, want %q", lines[1], want)
	}
}

// Every package with tests runs in the kernel but the host tools, and no
// package needs a hand-written boot import for it.
func TestKernelTestPackages(t *testing.T) {
	pkgs, err := KernelTestPackages([]string{"ntgo/..."})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"ntgo/mm/pfn", "ntgo/mm/pool", "ntgo/mm/pte", "ntgo/mm/va", "ntgo/kernel", "ntgo/nt/ke"} {
		if !slices.Contains(pkgs, p) {
			t.Errorf("%s missing from %v", p, pkgs)
		}
	}
	for _, p := range pkgs {
		if hostTool(p) {
			t.Errorf("host tool %s listed", p)
		}
	}
	booted, err := goList([]string{"-f", "{{range .TestImports}}{{if eq . \"ntgo/boot\"}}{{$.ImportPath}} {{end}}{{end}}{{range .XTestImports}}{{if eq . \"ntgo/boot\"}}{{$.ImportPath}} {{end}}{{end}}", "ntgo/..."})
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(booted) != "" {
		t.Errorf("hand-written boot imports in the tests of %s: the overlay adds them", booted)
	}
}

func TestTestTimeout(t *testing.T) {
	for _, c := range []struct {
		args []string
		want time.Duration
	}{
		{[]string{"-test.paniconexit0", "-test.timeout=10m0s", "-test.v=true"}, 10 * time.Minute},
		{[]string{"--test.timeout", "90s"}, 90 * time.Second},
		{[]string{"-test.timeout=1m", "-test.timeout=0s"}, 0},
		{[]string{"-test.timeout=3s", "-test.timeout=bad"}, 3 * time.Second},
		{[]string{"-test.run", "X"}, 0},
		{[]string{"-test.timeout"}, 0},
		{[]string{"-test.v", "--", "-test.timeout=1s"}, 0},
		{[]string{"positional", "-test.timeout=1s"}, 0},
		{nil, 0},
	} {
		if got := TestTimeout(c.args); got != c.want {
			t.Errorf("TestTimeout(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}
