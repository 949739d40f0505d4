package consoletest

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hugelgupf/vmtest/qemu"

	"ntgo/nt/bugcheck"
	ntqemu "ntgo/qemu"
)

// pagingStress is more paged pool than a 24 MiB machine holds: every
// page goes to the paging file and is read back.
const (
	pagingMemory = "24M"
	pagingStress = "stress paged 0n24"
	// pagingSlot is a paging-file slot the stress certainly writes and
	// reads (slots are handed out from 1 upward).
	pagingSlot = 0x100
)

// blkdebugPaging boots the paging machine with blkdebug failing the first
// request of iotype on pagingSlot's sectors once event has happened.
func blkdebugPaging(t *testing.T, event, iotype string) *qemu.VM {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "blkdebug.conf")
	if err := ntqemu.BlkDebugConfig(conf, ntqemu.BlkDebugRule{Event: event, Sector: pagingSlot * 8, Once: true, IOType: iotype}); err != nil {
		t.Fatal(err)
	}
	return bootVM(t, ntqemu.Config{Memory: pagingMemory, BlkDebug: conf, Batch: true,
		Args: []string{"run=" + pagingStress + "; !vm; poweroff 0"}})
}

// A page whose read fails stops the system with KERNEL_DATA_INPAGE_ERROR:
// the PTE's address, the I/O status, the page-file PTE and the address.
func TestPagingReadError(t *testing.T) {
	vm := blkdebugPaging(t, "read_aio", "read")
	expect(t, vm, "paging file: 262144 KiB on virtio0", "kd> "+pagingStress,
		"*** STOP: 0x0000007A (0xFFFFF6FC5", ",0x00000000C0000185,0x0000010000000080,0xFFFFF8A0",
		"KERNEL_DATA_INPAGE_ERROR")
	expectBugcheck(t, vm, bugcheck.KernelDataInpageError)
}

// A cluster whose write fails goes back to the modified list and is
// written again: every byte still matches, and !vm counts the failure
// (one, or two when both writes in flight reached blkdebug's rule before
// its one firing removed it, as at SMP=4).
func TestPagingWriteErrorRetried(t *testing.T) {
	vm := blkdebugPaging(t, "write_aio", "write")
	expect(t, vm, "paging file: 262144 KiB on virtio0", "all 25165824 bytes matched", "Paging I/O:")
	line := expect(t, vm, " failed);")
	m := regexp.MustCompile(`in \d+ writes \((\d+) failed\);$`).FindStringSubmatch(strings.TrimSpace(line))
	if m == nil || m[1] != "1" && m[1] != "2" {
		t.Fatalf("!vm's paging I/O line ends %q, want 1 or 2 failed writes", line)
	}
	expectExit(t, vm, 0)
}

// On a machine too small for paged pool's working set (10 MiB: the Go heap
// and the kernel leave about a hundred pages) the stress refuses to start,
// where its faults would find no frame and the system would stop with
// NO_PAGES_AVAILABLE; the console goes on.
func TestPagingStressRefusedOnATinyMachine(t *testing.T) {
	// Two processors whatever SMP= says: at four, 10 MiB does not boot
	// (TestInstallMoreMemory).
	vm := bootVM(t, ntqemu.Config{Memory: "10M", CPUs: 2})
	expect(t, vm, "paging file: 262144 KiB on virtio0", "kd> ")
	if out := command(t, vm, "stress paged 16"); !strings.Contains(out, "pages available: paged pool's working set needs 128 beyond the") {
		t.Fatalf("stress paged on 10 MiB said %q", out)
	}
	if out := command(t, vm, "!vm"); !strings.Contains(out, "Available pages:") {
		t.Fatalf("!vm after the refusal said %q", out)
	}
	vm.Console.SendLine("poweroff 0")
	expectExit(t, vm, 0)
}

// A machine too small for its processors stops at boot with
// INSTALL_MORE_MEMORY and NT's parameters, the RAM pages found and the
// lowest and highest page, rather than booting into a Go-heap fault.
func TestInstallMoreMemory(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{Memory: "10M", CPUs: 4, Batch: true})
	expect(t, vm, "processors: too little memory", "*** STOP: 0x0000007D (0x0000000000000900,0x0000000000000000,0x00000000000009FF,",
		"INSTALL_MORE_MEMORY", "Arg1: 0000000000000900, number of physical pages found", "Arg3: 00000000000009ff, highest physical page")
	expectBugcheck(t, vm, bugcheck.InstallMoreMemory)
}

// Faults that find no frame while the pager can free none (notmyfault
// holds every frame in locked MDLs) stop after 20 s with NO_PAGES_AVAILABLE:
// no dirty pages, and the non-paged pool left.
func TestNoPagesAvailable(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{Memory: "32M", Batch: true, Args: []string{"run=notmyfault no-pages"}})
	expect(t, vm, "kd> notmyfault no-pages",
		"*** STOP: 0x0000004D (0x0000000000000000,0x0000000000000000,0x", "NO_PAGES_AVAILABLE",
		"Arg3: ", "non-paged pool available (pages)", "FAULTING_IP:", "ntgo/drivers/notmyfault.storeByte")
	expectBugcheck(t, vm, bugcheck.NoPagesAvailable)
}
