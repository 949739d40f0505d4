package consoletest

import (
	"path/filepath"
	"strings"
	"testing"

	"ntgo/kernel/console"
	"ntgo/nt/bugcheck"
	ntqemu "ntgo/qemu"
)

// A secure block in the debugger: notmyfault secure-write allocates one
// (tag NMyF, FREEABLE) and stops with 0xBE writing into it; the dump holds
// the secure pool, and the viewer's !pool, !poolfind, poolmon and
// !securepool show the block as secure, with its pool's handle and flags.
func TestSecurePoolInDump(t *testing.T) {
	file := filepath.Join(t.TempDir(), "crash.dmp")
	vm := bootVM(t, ntqemu.Config{Dump: file})
	expect(t, vm, console.Prompt)
	if out := command(t, vm, "!securepool"); !strings.HasPrefix(out, "Secure pools: 0") {
		t.Fatalf("!securepool before any pool: %q", out)
	}
	vm.Console.SendLine("notmyfault secure-write")
	expect(t, vm, "ATTEMPTED_WRITE_TO_READONLY_MEMORY", "ntgo/drivers/notmyfault.storeByte", writingDump, " bytes")
	expectBugcheck(t, vm, bugcheck.AttemptedWriteToReadonlyMemory)
	const block = "ffffff00`00000020" // the first block of the first secure page
	views := viewer(t, file, "!pool "+block, "!poolfind NMyF", "poolmon", "!securepool", "!address "+block)
	for i, want := range [][]string{
		{"region is Secure pool, handle", "*0xffffff0000000000 size:  0x60  (Allocated) NMyF  secure: handle", "flags FREEABLE cookie 0xc0ffee"},
		{"ffffff0000000020  size     64  NMyF  Allocated  secure: handle", "flags FREEABLE", "1 blocks"},
		{"NMyF Secure                      1          0          1           64"},
		{"Secure pools: 1", "tag NMyF: 1 pages", "ffffff0000000020  size     64  NMyF  flags FREEABLE  cookie 0xc0ffee"},
		{"Secure Pool (0xffffff0000000000-0xffffff7fffffffff)", "P|A|NX"},
	} {
		for _, w := range want {
			if !strings.Contains(views[i], w) {
				t.Errorf("view %d lacks %q:\n%s", i, w, views[i])
			}
		}
	}
}
