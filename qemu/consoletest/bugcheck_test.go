package consoletest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"ntgo/nt/bugcheck"
	ntqemu "ntgo/qemu"
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
				"trap 14 (#PF page fault), error code 0x11", "cr2=fffffa8000000000"}},
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
		{"irql-fault", "notmyfault irql", bugcheck.DriverIrqlNotLessOrEqual,
			[]string{"*** STOP: 0x000000D1 (0xFFFFF8A0", "0x0000000000000002,0x0000000000000001,", "DRIVER_IRQL_NOT_LESS_OR_EQUAL"}},
		{"irql-paged-out", "notmyfault paged-out-dispatch", bugcheck.IrqlNotLessOrEqual,
			[]string{"*** STOP: 0x0000000A (0xFFFFF8A0", "0x0000000000000002,0x0000000000000000,", "IRQL_NOT_LESS_OR_EQUAL"}},
		{"return-at-dispatch", "notmyfault return-at-dispatch", bugcheck.IrqlGtZeroAtSystemService,
			[]string{"*** STOP: 0x0000004A (0x0000000000", ",0x0000000000000002,0x0000000000000000,0x0000000000000000) IRQL_GT_ZERO_AT_SYSTEM_SERVICE",
				"FAULTING_IP:", "ntgo/kernel.runSystemRoutine", "STACK_TEXT:", "ntgo/kernel/console.Execute"}},
		{"sleep-at-dispatch", "notmyfault sleep-at-dispatch", bugcheck.AttemptedSwitchFromDpc,
			[]string{"*** STOP: 0x000000B8 (", ",0x0000000000000002) ATTEMPTED_SWITCH_FROM_DPC",
				"Arguments:", "Arg4: 0000000000000002, IRQL", "FAULTING_IP:", "STACK_TEXT:", "REGISTERS:", "trap 256",
				"cr8=0000000000000002", "DISASSEMBLY:", "Powering off with exit status 0x38 (56)."}},
		{"exit-at-dispatch", "notmyfault exit-at-dispatch", bugcheck.AttemptedSwitchFromDpc,
			[]string{"*** STOP: 0x000000B8 (", ",0x0000000000000002) ATTEMPTED_SWITCH_FROM_DPC",
				// the exit system call (rax 0x3c), or a futex wait where the
				// thread was the runtime's main thread, which it parks for good
				"trap 256", "cr8=0000000000000002"}},
		{"panic-goroutine", "notmyfault panic-goroutine", bugcheck.SystemThreadExceptionNotHandled,
			[]string{"panic: notmyfault: panic in a goroutine", // the runtime's own report
				"*** STOP: 0x0000007E (0x00000000E0476F50,0x0000000000000000,", "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED",
				"EXCEPTION_RECORD:", "panic: notmyfault: panic in a goroutine", "goroutine ", "ntgo/drivers/notmyfault.init.func",
				"FAULTING_IP:", "STACK_TEXT:", "REGISTERS:", "trap 256"}},
		{"fatal-error", "notmyfault fatal-error", bugcheck.KmodeExceptionNotHandled,
			[]string{"fatal error: sync: unlock of unlocked mutex",
				"*** STOP: 0x0000001E (0x00000000E0476F46,0x0000000000000000,", "KMODE_EXCEPTION_NOT_HANDLED",
				"EXCEPTION_RECORD:", "fatal error: sync: unlock of unlocked mutex", "goroutine ", "ntgo/drivers/notmyfault.init.func"}},
		{"secure-write", "notmyfault secure-write", bugcheck.AttemptedWriteToReadonlyMemory,
			[]string{"*** STOP: 0x000000BE (0xFFFFFF0000000", "ATTEMPTED_WRITE_TO_READONLY_MEMORY",
				"FAULTING_IP:", "ntgo/drivers/notmyfault.storeByte", "STACK_TEXT:", "ntgo/drivers/notmyfault.secureWrite",
				"trap 14 (#PF page fault), error code 0x3", "cr2=ffffff0000000", "DISASSEMBLY:", "=> "}},
		{"pfn", "notmyfault pfn", bugcheck.PfnListCorrupt,
			[]string{"*** STOP: 0x0000004E (0x0000000000000099,", "PFN_LIST_CORRUPT"}},
		{"stack-overflow", "notmyfault stack-overflow", bugcheck.UnexpectedKernelModeTrap,
			[]string{"KERNEL STACK OVERFLOW: interrupt stack, limit 0xFFFFF880",
				"*** STOP: 0x0000007F (0x0000000000000008,0x0000000000000000,0xFFFFF880", "UNEXPECTED_KERNEL_MODE_TRAP",
				"trap 14 (#PF page fault), error code 0x2", "cr2=fffff880"}},
		{"explicit", "bugcheck e2 1 2 3 4", bugcheck.ManuallyInitiatedCrash,
			[]string{"*** STOP: 0x000000E2 (0x0000000000000001,0x0000000000000002,0x0000000000000003,0x0000000000000004) MANUALLY_INITIATED_CRASH",
				"ntgo/kernel.cmdBugcheck", "DISASSEMBLY:", "=> ", "CALL ntgo/nt/bugcheck.KeBugCheckEx"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm := startVM(t, "run="+tc.script)
			expect(t, vm, tc.show[0], tc.show[1:]...)
			expectBugcheck(t, vm, tc.code)
		})
	}
}

// A Go panic that escapes a console command is NT's unhandled exception
// in a system thread, 0x7E. At PASSIVE_LEVEL the console's guard catches
// it: the goroutine screen with the panic's report, the panic site as
// FAULTING_IP and the Go stack from there. At HIGH_LEVEL the goroutine
// holds the dispatch pin, so the runtime refuses to unwind ("panic holding
// locks") and its fatal path reports the panic with its own traceback; the
// kernel turns that exit into the same stop, on the trap-context screen.
func TestPanic(t *testing.T) {
	t.Run("passive", func(t *testing.T) {
		vm := startVM(t, "run=panic on purpose")
		expect(t, vm, "*** STOP: 0x0000007E (0x00000000E0476F50,0x0000000000",
			"SYSTEM_THREAD_EXCEPTION_NOT_HANDLED",
			"EXCEPTION_RECORD:", "panic: ",
			"FAULTING_IP:", "ntgo/",
			"STACK_TEXT:", "ntgo/kernel/console.Execute",
			"DISASSEMBLY:", "=> ", "CALL runtime.gopanic")
		expectBugcheck(t, vm, bugcheck.SystemThreadExceptionNotHandled)
	})
	t.Run("high-level", func(t *testing.T) {
		vm := startVM(t, "run=notmyfault panic-high")
		expect(t, vm, "panic: notmyfault: panic at HIGH_LEVEL", "fatal error: panic holding locks",
			"ntgo/drivers/notmyfault.", "ntgo/kernel/console.Execute",
			"*** STOP: 0x0000007E (0x00000000E0476F50,0x0000000000",
			"SYSTEM_THREAD_EXCEPTION_NOT_HANDLED",
			"EXCEPTION_RECORD:", "panic: notmyfault: panic at HIGH_LEVEL")
		expectBugcheck(t, vm, bugcheck.SystemThreadExceptionNotHandled)
	})
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
		"KPCR for Processor ", // the one the console's goroutine runs on
		"CurrentThread:  ",
		"PageFaults:",
		"Stacks:", "interrupt                 fffff880`", "system call               fffff880`",
		"!thread", "\n0    0     ")
	// The boot processor's idle thread halts in idleLoop, or was last
	// interrupted zeroing pages in idleWork (processors idle while the
	// console runs elsewhere, and every one while the others start).
	if idle := expect(t, vm, " idle"); !regexp.MustCompile(`  ntgo/kernel\.idle(Loop|Work)\S* idle$`).MatchString(idle) {
		t.Errorf("idle thread's row: %q", idle)
	}
	// The console goroutine runs on whichever thread (M) the runtime gave it.
	threads := expect(t, vm, "kd> poweroff 0")
	for _, s := range []string{"RUNNING", "(this console command)", "\n2    2 "} {
		if !strings.Contains(threads, s) {
			t.Errorf("!thread lacks %q:\n%s", s, threads)
		}
	}
	expectExit(t, vm, 0)
}

// A software bugcheck's REGISTERS show the caller's RIP, the instruction
// after its call to KeBugCheckEx (as NT's screen does), not 0: the
// disassembly marks the call, and the next line is at rip.
func TestSoftwareBugcheckShowsCallersRIP(t *testing.T) {
	vm := startVM(t, "run=bugcheck e2 1 2 3 4")
	regs := expect(t, vm, "REGISTERS:", "DISASSEMBLY:")
	rip := regexp.MustCompile(`rip=([0-9a-f]{16})`).FindStringSubmatch(regs)
	if rip == nil || strings.Trim(rip[1], "0") == "" {
		t.Fatalf("no non-zero rip in\n%s", regs)
	}
	screen := expect(t, vm, "Powering off")
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "=> ") {
			if !strings.Contains(l, "CALL ntgo/nt/bugcheck.KeBugCheckEx") || i+1 == len(lines) ||
				!strings.Contains(strings.ReplaceAll(lines[i+1], "`", ""), rip[1]) {
				t.Fatalf("marked line %q is not the call before rip %s:\n%s", l, rip[1], screen)
			}
			expectBugcheck(t, vm, bugcheck.ManuallyInitiatedCrash)
			return
		}
	}
	t.Fatalf("no marked instruction in\n%s", screen)
}

// Four processors (QEMU -smp 4): ver counts them from the MADT and the
// runtime uses them all (GOMAXPROCS 4); !pcr N shows each one's KPCR with
// its own APIC ID and trap stacks, and !pcr alone the processor running
// the command, whose current thread is then not its idle thread.
func TestFourProcessors(t *testing.T) {
	vm := bootVM(t, ntqemu.Config{CPUs: 4, Batch: true, Args: []string{"run=ver; ~; ~ 3; !pcr; !pcr 0; !pcr 1; !pcr 2; !pcr 3; !pcr 4"}})
	expect(t, vm, "GOMAXPROCS 4", "4 processors of 4 in the MADT")
	procs := expect(t, vm, "PROC IRQL STATE", "kd> ~ 3")
	rows := regexp.MustCompile(`(?m)^([0-3]) +\d+ +(current|stalled) +[0-9a-f]{16}  `).FindAllStringSubmatch(procs, -1)
	seen, onThis := map[string]bool{}, 0
	for _, r := range rows {
		seen[r[1]] = true
		if r[2] == "current" {
			onThis++
		}
	}
	if len(rows) != 4 || len(seen) != 4 || onThis != 1 {
		t.Errorf("~ under SMP=4: want processors 0-3, one current; got %d rows (%d current) in\n%s", len(rows), onThis, procs)
	}
	expect(t, vm, "Processor 3 (", "rip=", "cr8=")
	current := expect(t, vm, "KPCR for Processor ", "CurrentThread:  ", "Irql:")
	if strings.Contains(current, "idle loop") {
		t.Errorf("!pcr: the processor running it is in its idle loop: %q", current)
	}
	for n := 0; n < 4; n++ {
		expect(t, vm, fmt.Sprintf("KPCR for Processor %d at ", n), fmt.Sprintf("APIC ID:        %d (node 0)", n),
			"CurrentThread:  ", "system call               fffff880`")
	}
	expect(t, vm, "!pcr: 4: out of range (0 to 3)")
	expectExit(t, vm, 1) // the batch script's failing command
}
