package consoletest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hugelgupf/vmtest/qemu"

	"ntgo/mm/layout"
	"ntgo/nt/bugcheck"
	ntqemu "ntgo/qemu"
)

// stopLine is the screen's STOP line: the code and its four parameters.
var stopLine = regexp.MustCompile(`\*\*\* STOP: 0x([0-9A-F]{8}) \(0x([0-9A-F]{16}),0x([0-9A-F]{16}),0x([0-9A-F]{16}),0x([0-9A-F]{16})\)`)

// markedLine is the disassembly's marked instruction: its address.
var markedLine = regexp.MustCompile("=> ([0-9a-f]{8})`([0-9a-f]{8}) ")

// readStop waits for the bugcheck screen to its disassembly and returns
// the code, the four parameters and the marked instruction's address.
func readStop(t *testing.T, vm *qemu.VM) (bugcheck.Code, [4]uint64, uint64, string) {
	t.Helper()
	var out string
	for _, s := range []string{"*** STOP: ", "DISASSEMBLY:", "=> ", "\n"} {
		out += expect(t, vm, s)
	}
	m := stopLine.FindStringSubmatch(out)
	k := markedLine.FindStringSubmatch(out)
	if m == nil || k == nil {
		t.Fatalf("no STOP line or marked instruction in:\n%s", out)
	}
	hex := func(s string) uint64 { v, _ := strconv.ParseUint(s, 16, 64); return v }
	return bugcheck.Code(hex(m[1])), [4]uint64{hex(m[2]), hex(m[3]), hex(m[4]), hex(m[5])}, hex(k[1] + k[2]), out
}

func inSpecialPool(a uint64) bool {
	return uintptr(a)-layout.SpecialPoolStart < layout.SpecialPoolSize
}

// Driver Verifier's special-pool stops, each provoked through the
// verified ramdisk's buffers: NT's code, its four parameters (the special
// address, read or write, the instruction, 0), and that instruction
// marked in the disassembly; the slack damage found at free is 0xC1 with
// the block, the damaged byte and subcode 0x24.
func TestVerifierSpecialPool(t *testing.T) {
	const on = "verifier /flags 0x1 /driver ramdisk; "
	for _, tc := range []struct {
		name, script string
		code         bugcheck.Code
		write        uint64
		show         string
	}{
		{"overrun", "notmyfault special-overrun", bugcheck.DriverPageFaultBeyondEndOfAllocation, 1, "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION"},
		{"underrun", "notmyfault special-underrun", bugcheck.DriverPageFaultBeyondEndOfAllocation, 1, "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION"},
		{"use-after-free", "notmyfault special-use-after-free", bugcheck.DriverPageFaultInFreedSpecialPool, 0, "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm := startVM(t, "run="+on+tc.script)
			code, p, marked, out := readStop(t, vm)
			if code != tc.code || !inSpecialPool(p[0]) || p[1] != tc.write || p[2] != marked || p[3] != 0 {
				t.Errorf("STOP %#x %#x, marked %#x; want %v, a special-pool address, %d, the marked instruction, 0", uint32(code), p, marked, tc.code, tc.write)
			}
			if !strings.Contains(out, tc.show) || !strings.Contains(out, "ntgo/drivers/notmyfault") {
				t.Errorf("screen lacks %s or the faulting driver:\n%s", tc.show, out)
			}
			expectBugcheck(t, vm, tc.code)
		})
	}
	t.Run("slack", func(t *testing.T) {
		vm := startVM(t, "run="+on+"notmyfault special-slack")
		code, p, _, out := readStop(t, vm)
		if code != bugcheck.SpecialPoolDetectedMemoryCorruption || !inSpecialPool(p[0]) || p[1] != p[0]+100 || p[2] != 0 || p[3] != 0x24 {
			t.Errorf("STOP %#x %#x; want 0xC1 (block, block+100, 0, 0x24)", uint32(code), p)
		}
		if !strings.Contains(out, "ntgo/drivers/ramdisk.FreeBuffer") {
			t.Errorf("stack lacks the freeing routine:\n%s", out)
		}
		expectBugcheck(t, vm, code)
	})
}

// With special pool turned off again the ramdisk's buffers are normal
// pool's: the special-pool case refuses to run, and a leak is the
// driver's own report at unload, not a stop.
func TestVerifierOffIsNormalPool(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{Args: []string{"run=verifier /flags 0x9 /driver ramdisk; verifier /reset; " +
		"ramdisk leak; ramdisk unload; notmyfault special-overrun"}, Batch: true})
	expect(t, vm, "ramdisk unloaded: LEAKS", "RdDt 1 allocations",
		"special-overrun: the ramdisk's buffers are not in special pool")
	if s := exitStatus(t, vm); s != bugcheck.StatusScriptFailed {
		t.Fatalf("exit status %d, want %d (the refused command)", s, bugcheck.StatusScriptFailed)
	}
}

// Pool tracking: the ramdisk's leak, outstanding at unload, is
// DRIVER_VERIFIER_DETECTED_VIOLATION 0x62 with the driver's name and the
// number of allocations not freed; !verifier lists it first.
func TestVerifierUnloadWithLeak(t *testing.T) {
	vm := startVM(t, "run=verifier /flags 0x8 /driver ramdisk; ramdisk leak 0n123; !verifier; ramdisk unload")
	expect(t, vm, "Outstanding allocations: 1", "ramdisk", "RdDt", "123 normal", "ntgo/drivers/ramdisk.(*Disk).Leak")
	code, p, _, out := readStop(t, vm)
	if code != bugcheck.DriverVerifierDetectedViolation || p[0] != 0x62 || p[1] == 0 || p[2] != 0 || p[3] != 1 {
		t.Errorf("STOP %#x %#x; want 0xC4 (0x62, name, 0, 1)", uint32(code), p)
	}
	if !strings.Contains(out, "PROBABLY_CAUSED_BY: ramdisk") {
		t.Errorf("the culprit is not the unloading driver:\n%s", out)
	}
	expectBugcheck(t, vm, code)
}

// IRQL checking: the same misuses stop with the plain kernel's codes
// unverified and with Verifier's 0xC4 subcodes when notmyfault is
// verified, and a verified driver's fault at DISPATCH_LEVEL is 0xD1 (the
// plain kernel's 0x0A is TestBugchecks' irql-fault); PAGED_CODE stops at
// DISPATCH_LEVEL either way.
func TestVerifierIrql(t *testing.T) {
	const on = "verifier /flags 0x2 /driver notmyfault; "
	for _, tc := range []struct {
		name, script string
		code         bugcheck.Code
		params       func(p [4]uint64) bool
	}{
		{"paged-at-dispatch", on + "notmyfault paged-at-dispatch", bugcheck.DriverVerifierDetectedViolation,
			func(p [4]uint64) bool { return p == [4]uint64{0x01, 2, 1, 64} }},
		{"lower-irql-up", on + "notmyfault lower-irql-up", bugcheck.DriverVerifierDetectedViolation,
			func(p [4]uint64) bool { return p == [4]uint64{0x31, 0, 2, 0} }},
		{"lower-irql-up-plain", "notmyfault lower-irql-up", bugcheck.IrqlNotLessOrEqual,
			func(p [4]uint64) bool { return p[0] == 2 && p[1] == 0 }},
		{"raise-irql-down", on + "notmyfault raise-irql-down", bugcheck.DriverVerifierDetectedViolation,
			func(p [4]uint64) bool { return p == [4]uint64{0x30, 2, 0, 0} }},
		{"raise-irql-down-plain", "notmyfault raise-irql-down", bugcheck.IrqlNotGreaterOrEqual,
			func(p [4]uint64) bool { return p[0] == 2 && p[1] == 0 }},
		{"free-at-high", on + "notmyfault free-at-high", bugcheck.DriverVerifierDetectedViolation,
			func(p [4]uint64) bool { return p[0] == 0x12 && p[1] == 15 && p[3] != 0 }},
		{"free-at-high-plain", "notmyfault free-at-high", bugcheck.BadPoolCaller,
			func(p [4]uint64) bool { return p[0] == 9 && p[1] == 15 }},
		{"irql-fault", on + "notmyfault irql", bugcheck.DriverIrqlNotLessOrEqual,
			func(p [4]uint64) bool {
				return uintptr(p[0])-layout.PagedPoolStart < 1<<37 && p[1] == 2 && p[2] == 1 && p[3] != 0
			}},
		{"paged-code", "notmyfault paged-code", bugcheck.KmodeExceptionNotHandled,
			func(p [4]uint64) bool { return p[0] == 0xC0000420 && p[1] != 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm := startVM(t, "run="+tc.script)
			code, p, _, _ := readStop(t, vm)
			if code != tc.code || !tc.params(p) {
				t.Errorf("STOP %#x %#x; want %v with NT's parameters", uint32(code), p, tc.code)
			}
			expectBugcheck(t, vm, tc.code)
		})
	}
}

// !poolfind and !pool know special-pool blocks: the leaked block is found
// by its tag and its page shown as special pool's.
func TestVerifierPoolViews(t *testing.T) {
	vm := startVM(t, "run=verifier /flags 0x1 /driver ramdisk; ramdisk leak 0n100; !poolfind RdDt")
	out := expect(t, vm, "kd> !poolfind RdDt") + expect(t, vm, " blocks")
	m := regexp.MustCompile(`(fffff8c0[0-9a-f]{8})  size    100  RdDt  Allocated \(special pool\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("!poolfind did not list the special-pool block:\n%s", out)
	}
	expect(t, vm, "kd> ")
	vm.Console.SendLine("!pool " + m[1])
	expect(t, vm, "region is Special Pool", "*fffff8c0`"+m[1][8:], "size: 0x64 (Allocated) RdDt")
	vm.Console.SendLine("poweroff 0")
	if s := exitStatus(t, vm); s != 0 {
		t.Fatalf("exit status %d", s)
	}
}

// The verifier= boot key applies before the drivers start: the ramdisk's
// boot-time load is verified, its device extension in special pool.
func TestVerifierBootKey(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{Args: []string{"verifier=/flags 0x9 /driver ramdisk", "run=!verifier; poweroff 0"}, Batch: true})
	expect(t, vm, "Verify flags: 0x9 (special pool, pool tracking)", "Verified drivers: ramdisk",
		"Outstanding allocations: 1", "RdEx", "special  ntgo/drivers/ramdisk.Load+")
	if s := exitStatus(t, vm); s != 0 {
		t.Fatalf("exit status %d", s)
	}
}
