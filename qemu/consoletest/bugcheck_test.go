package consoletest

import (
	"strings"
	"testing"

	"ntgo/kernel/bugcheck"
)

// Each class of bugcheck, provoked on purpose (notmyfault, touch, bugcheck):
// the screen must show NT's code and name and the parameters that identify
// the misuse, and the VM must exit with the code's status. Faults taken by
// a goroutine show the same screen as explicit bugchecks: the faulting
// function, the Go stack and the faulting instruction marked.
func TestBugchecks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		code   bugcheck.Code
		show   []string // lines or fragments the screen must print, in order
	}{
		{"fault", "touch read fffff900`00000000", bugcheck.PageFaultInNonpagedArea,
			[]string{"*** STOP: 0x00000050 (0xFFFFF90000000000,0x0000000000000000,", "PAGE_FAULT_IN_NONPAGED_AREA",
				"FAULTING_IP:", "ntgo/kernel.cmdTouch", "STACK_TEXT:", "ntgo/kernel/console.Execute",
				"trap 14 (#PF page fault), error code 0x0", "cr2=fffff90000000000", "DISASSEMBLY:", "=> "}},
		{"execute-nx", "touch exec fffffa80`00000000", bugcheck.AttemptedExecuteOfNoexecuteMemory,
			[]string{"*** STOP: 0x000000FC (0xFFFFFA8000000000,", "ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY",
				"trap 14 (#PF page fault) error code 0x0000000000000011", "cr2=0xFFFFFA8000000000"}},
		{"write-readonly", "touch write 401000", bugcheck.AttemptedWriteToReadonlyMemory,
			[]string{"*** STOP: 0x000000BE (0x0000000000401000,", "ATTEMPTED_WRITE_TO_READONLY_MEMORY", "=> "}},
		{"pool-double-free", "notmyfault double-free", bugcheck.BadPoolCaller,
			[]string{"*** STOP: 0x000000C2 (0x0000000000000007,", "BAD_POOL_CALLER", "FAULTING_IP:", "=> "}},
		{"pool-tag-mismatch", "notmyfault tag-mismatch", bugcheck.BadPoolCaller,
			[]string{"*** STOP: 0x000000C2 (0x000000000000000A,", "0x0000000046794D4E,0x0000000073706F4F) BAD_POOL_CALLER"}},
		{"pool-not-pool", "notmyfault not-pool", bugcheck.BadPoolCaller,
			[]string{"*** STOP: 0x000000C2 (0x0000000000000042,", "BAD_POOL_CALLER", "ntgo/mm/ex.FreePool"}},
		{"pool-use-after-free", "notmyfault use-after-free", bugcheck.DriverCorruptedExpool,
			[]string{"*** STOP: 0x000000C5 (0x000000000000BAD0,0x0000000000000000,0x0000000000000000,", "DRIVER_CORRUPTED_EXPOOL"}},
		{"pool-header", "notmyfault overrun", bugcheck.BadPoolHeader,
			[]string{"*** STOP: 0x00000019 (0x0000000000000020,", "BAD_POOL_HEADER"}},
		{"pool-irql", "notmyfault paged-at-dispatch", bugcheck.BadPoolCaller,
			[]string{"*** STOP: 0x000000C2 (0x0000000000000008,0x0000000000000002,", "BAD_POOL_CALLER"}},
		{"irql-fault", "notmyfault irql", bugcheck.IrqlNotLessOrEqual,
			[]string{"*** STOP: 0x0000000A (0xFFFFF8A0", "0x0000000000000002,0x0000000000000001,", "IRQL_NOT_LESS_OR_EQUAL"}},
		{"pfn", "notmyfault pfn", bugcheck.PfnListCorrupt,
			[]string{"*** STOP: 0x0000004E (0x0000000000000099,", "PFN_LIST_CORRUPT"}},
		{"stack-overflow", "notmyfault stack-overflow", bugcheck.UnexpectedKernelModeTrap,
			[]string{"KERNEL STACK OVERFLOW: interrupt stack, limit 0xFFFFF880",
				"*** STOP: 0x0000007F (0x0000000000000008, 0x0000000000000000, 0xFFFFF880", "UNEXPECTED_KERNEL_MODE_TRAP",
				"trap 14 (#PF page fault) error code 0x0000000000000002", "cr2=0xFFFFF880"}},
		{"explicit", "bugcheck e2 1 2 3 4", bugcheck.ManuallyInitiatedCrash,
			[]string{"*** STOP: 0x000000E2 (0x0000000000000001,0x0000000000000002,0x0000000000000003,0x0000000000000004) MANUALLY_INITIATED_CRASH",
				"ntgo/kernel.cmdBugcheck", "DISASSEMBLY:", "=> ", "CALL ntgo/kernel/bugcheck.KeBugCheckEx"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm := startVM(t, "run="+tc.script)
			expect(t, vm, tc.show[0], tc.show[1:]...)
			expectExit(t, vm, int(tc.code.ExitStatus()))
		})
	}
}

// A Go panic in kernel code prints the runtime's panic report and exits
// with the runtime's status 2.
func TestPanic(t *testing.T) {
	vm := startVM(t, "run=panic on purpose")
	expect(t, vm, "panic: console: on purpose",
		"ntgo/kernel.cmdPanic")
	expectExit(t, vm, 2)
}

// The memory manager's views: lists that add up to the frames, a PTE
// decoded through all four levels, the pools' own tags.
func TestMemoryCommands(t *testing.T) {
	vm := startVM(t, "run=!vm; !pte 401000; poolmon; !address fffffa80`00000000; poweroff 0")
	expect(t, vm, "Physical memory:",
		"Commit charge:",
		"PFN database:",
		"PTE at fffff68000002008",
		"EXECUTE_READ cached",
		"RdEx NonPagedNx",
		"PFN Database")
	expectExit(t, vm, 0)
}

// The sample driver: load at boot, I/O, a deliberate leak seen in lm's tag
// usage and found at unload, then gone from lm. notmyfault, loaded by the
// kernel's driver list, stays listed with its (unused) tag.
func TestRamdiskLeakCheck(t *testing.T) {
	vm := startVM(t, "run=ramdisk write 10 ntgo; ramdisk read 10 4; ramdisk leak; !lookaside; lm; ramdisk unload; lm; poweroff 0")
	expect(t, vm, `"ntgo"`,
		"leaked",
		"RdRq",
		"kd> lm",
		"notmyfault ntgo/drivers/notmyfault NMyF 0/0",
		"ramdisk    ntgo/drivers/ramdisk   RdEx 1/")
	expect(t, vm, "RdDt 2/") // the written extent and the leak
	expect(t, vm, "ramdisk unloaded: LEAKS",
		"RdDt 1 allocations",
		"kd> lm",
		"ntgo       ntgo/kernel")
	if out := expect(t, vm, "kd> poweroff 0"); strings.Contains(out, "ntgo/drivers/ramdisk") {
		t.Fatalf("lm lists the unloaded driver:\n%s", out)
	}
	expectExit(t, vm, 0)
}

// The processor and thread views: IRQL, the KPCR, the thread table with the
// console's own thread running and the runtime's own threads.
func TestProcessorCommands(t *testing.T) {
	vm := startVM(t, "run=!irql; !pcr; !thread; poweroff 0")
	expect(t, vm, "Current IRQL -- 0 (PASSIVE_LEVEL)",
		"KPCR for Processor 0 at ",
		"CurrentThread:  ",
		"PageFaults:",
		"Stacks:", "interrupt                 fffff880`", "system call               fffff880`",
		"ntgo/kernel.idleLoop idle")
	// The console goroutine runs on whichever thread (M) the runtime gave it.
	threads := expect(t, vm, "kd> poweroff 0")
	for _, s := range []string{"RUNNING", "(this console command)", "\n2    2 "} {
		if !strings.Contains(threads, s) {
			t.Errorf("!thread lacks %q:\n%s", s, threads)
		}
	}
	expectExit(t, vm, 0)
}
