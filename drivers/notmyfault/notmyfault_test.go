package notmyfault

import (
	"bytes"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"ntgo/kernel/console"
	"ntgo/kernel/ldr"
	"ntgo/mm/pool"
	"ntgo/nt/arch"
	"ntgo/nt/ntstatus"
)

// DriverEntry lists the driver with its tag, once.
func TestDriverEntryListsModule(t *testing.T) {
	if st := DriverEntry(); st.IsError() {
		t.Fatal(st)
	}
	defer ldr.Unload(moduleName)
	i := slices.IndexFunc(ldr.Modules(), func(m ldr.Module) bool { return m.Name == moduleName })
	if i < 0 {
		t.Fatalf("not in the module list: %v", ldr.Modules())
	}
	if m := ldr.Modules()[i]; m.Package != "ntgo/drivers/notmyfault" || !slices.Equal(m.Tags, []pool.Tag{notMyFaultTag}) {
		t.Errorf("listed as %+v", m)
	}
	if st := DriverEntry(); st != ntstatus.ObjectNameCollision {
		t.Errorf("second DriverEntry: %v, want STATUS_OBJECT_NAME_COLLISION", st)
	}
}

// Without a known misuse the command lists every one and commits none.
func TestListsMisuses(t *testing.T) {
	var out bytes.Buffer
	if err := cmdNotMyFault(&out, []string{"?"}); !errors.Is(err, console.ErrUsage) {
		t.Fatalf("notmyfault ?: %v, want the usage error", err)
	}
	for name, f := range notMyFaults {
		if !strings.Contains(out.String(), name) || !strings.Contains(out.String(), f.help) {
			t.Errorf("%s missing from the list:\n%s", name, out.String())
		}
	}
}

// A driver stands on the kernel: only the kernel's driver list links it.
func TestOnlyTheDriverListImportsIt(t *testing.T) {
	if arch.Bare() {
		t.Skip("no go tool inside the kernel")
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, "ntgo/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if f[0] != "ntgo/cmd/ntgo" && f[0] != "ntgo/drivers/notmyfault" && slices.Contains(f[1:], "ntgo/drivers/notmyfault") {
			t.Errorf("%s imports ntgo/drivers/notmyfault", f[0])
		}
	}
}
