// The exit status a run ends with: one documented table for the kernel, the
// launcher (ntgo/qemu) and whoever reads its exit status.
//
// The kernel powers off through QEMU's isa-debug-exit device, but the
// launcher takes the status from the exit record on the status channel
// (channel.go), which carries the full byte: `poweroff N` exits N for every
// N in 0..255. These statuses are never a bugcheck's:
//
//	0        clean power-off (poweroff, poweroff 0)
//	1        os.Exit(1): a failed in-kernel test run; in a batch boot, a
//	         command of the run= script failed (StatusScriptFailed)
//	2        the Go runtime's exit after an unrecovered panic or fatal error
//	3        StatusOtherBugcheck: a bugcheck whose own status would be one of
//	         these
//	4        StatusScriptUnfinished: a batch boot's run= script ended without
//	         poweroff
//	124      timeout(1)'s "timed out"
//	125      the launcher's own failure: QEMU never ran the kernel, or the
//	         kernel died without powering off (ntgo/qemu.StatusLauncher)
//	126, 127 the shell's "cannot execute", "not found"
//	128+n    the shell's "killed by signal n" (every bugcheck status is
//	         below 128)
//
// A bugcheck exits with the low 7 bits of its code, unless those are one of
// the statuses above, when it exits with StatusOtherBugcheck; the launcher
// prints the code itself as its last stderr line (`ntgo-qemu: bugcheck
// 0x000000C2`), since different codes can share a status.
//
// Codes whose status is not their own value, and codes that share a status
// (the launcher's last line, and the console's STOP line, tell them apart):
//
//	0x03    0x3 INVALID_AFFINITY_SET, 0x4D NO_PAGES_AVAILABLE, 0x7D INSTALL_MORE_MEMORY, 0x7E SYSTEM_THREAD_EXCEPTION_NOT_HANDLED, 0x7F UNEXPECTED_KERNEL_MODE_TRAP, 0xFC ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY
//	0x2E    0x12E INVALID_MDL_RANGE
//	0x33    0x133 DPC_WATCHDOG_VIOLATION
//	0x38    0xB8 ATTEMPTED_SWITCH_FROM_DPC
//	0x39    0x139 KERNEL_SECURITY_CHECK_FAILURE
//	0x3E    0xBE ATTEMPTED_WRITE_TO_READONLY_MEMORY
//	0x41    0xC1 SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION
//	0x42    0xC2 BAD_POOL_CALLER
//	0x44    0xC4 DRIVER_VERIFIER_DETECTED_VIOLATION
//	0x45    0xC5 DRIVER_CORRUPTED_EXPOOL
//	0x4B    0xCB DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS
//	0x4C    0xCC PAGE_FAULT_IN_FREED_SPECIAL_POOL
//	0x4D    0xCD PAGE_FAULT_BEYOND_END_OF_ALLOCATION
//	0x4E    0x4E PFN_LIST_CORRUPT, 0xCE DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS
//	0x51    0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL
//	0x55    0xD5 DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL
//	0x56    0xD6 DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION
//	0x5A    0xDA SYSTEM_PTE_MISUSE, and boot.ProbeStatus (harmless: the probe powers off before the runtime starts, so no bugcheck can happen in it)
//	0x62    0xE2 MANUALLY_INITIATED_CRASH
//
// Every other code of the table exits with its own value (0x09, 0x0A, 0x0F, 0x10, 0x19, 0x1A,
// 0x1E, 0x31, 0x3F, 0x4A, 0x50, 0x77, 0x7A). exitstatus_test.go checks this
// table against the codes.

package bugcheck

// Statuses that are not bugchecks' own.
const (
	StatusPoweredOff = 0 // clean power-off
	StatusGoExit     = 1 // os.Exit(1): a failed in-kernel test run
	StatusGoPanic    = 2 // the Go runtime's exit after an unrecovered panic

	// StatusOtherBugcheck is the status of a code whose low 7 bits are a
	// status that means something else (0x80 NMI_HARDWARE_FAILURE, 0x7F,
	// 0x101, ...), and of NO_PAGES_AVAILABLE, whose 0x4D the more common
	// PAGE_FAULT_BEYOND_END_OF_ALLOCATION (0xCD) has.
	StatusOtherBugcheck = 3

	// StatusScriptFailed: a batch boot's run= script had a failing command
	// (the same status as a failed test run: the run's own check failed).
	StatusScriptFailed = StatusGoExit
	// StatusScriptUnfinished: a batch boot's run= script ended without
	// powering off.
	StatusScriptUnfinished = 4

	// The first and last status of the range kept for timeout(1), the
	// launcher and the shell.
	statusHostFirst = 124
	statusHostLast  = 127
)

// statusBits is how many bits of a code its status keeps: statuses of 128
// and more read as "killed by a signal" to a shell.
const statusBits = 7

// ExitStatus is the status the kernel powers off with after bugcheck c.
//
//go:nosplit
func (c Code) ExitStatus() uint8 {
	s := uint8(c) & (1<<statusBits - 1)
	if c == NoPagesAvailable || s <= StatusScriptUnfinished || s >= statusHostFirst && s <= statusHostLast {
		return StatusOtherBugcheck
	}
	return s
}
