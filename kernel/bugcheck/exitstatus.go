// The exit status a bugcheck powers QEMU off with.
//
// QEMU's isa-debug-exit device turns the byte the kernel writes into the
// process exit code (status<<1)|1, and the host keeps only the low 8 bits of
// an exit code, so the launcher (ntgo/qemu.Status) recovers just the low 7
// bits of what the kernel wrote: `poweroff 194` (0xC2) comes back as 66
// (0x42). A bugcheck's status is therefore the low 7 bits of its code, which
// is what the kernel writes, so the number the launcher prints is the number
// the kernel chose.
//
// Three statuses mean something else and are never a bugcheck's: 0 is a
// clean power-off, 1 is os.Exit(1) (a failed in-kernel test run), 2 is the
// Go runtime's exit after an unrecovered panic or fatal error. A code whose
// low 7 bits are one of those exits with StatusOtherBugcheck instead.
//
// Codes whose status is not their own value, and codes that share a status
// (the launcher cannot tell those apart; the console's STOP line can):
//
//	status  codes
//	0x2E    0x12E INVALID_MDL_RANGE
//	0x39    0x139 KERNEL_SECURITY_CHECK_FAILURE
//	0x3E    0xBE ATTEMPTED_WRITE_TO_READONLY_MEMORY
//	0x42    0xC2 BAD_POOL_CALLER
//	0x44    0xC4 DRIVER_VERIFIER_DETECTED_VIOLATION
//	0x45    0xC5 DRIVER_CORRUPTED_EXPOOL
//	0x4B    0xCB DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS
//	0x4E    0x4E PFN_LIST_CORRUPT, 0xCE DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS (ntgo raises only 0x4E)
//	0x51    0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL
//	0x5A    0xDA SYSTEM_PTE_MISUSE, and boot.ProbeStatus (harmless: the probe powers off before the runtime starts, so no bugcheck can happen in it)
//	0x62    0xE2 MANUALLY_INITIATED_CRASH
//	0x7C    0xFC ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY
//
// Every other code of the table exits with its own value (0x09, 0x0A, 0x19, 0x1A,
// 0x1E, 0x31, 0x3F, 0x50, 0x77, 0x7A, 0x7D, 0x7E, 0x7F). exitstatus_test.go checks
// this table against the codes and that no two codes ntgo raises collide.

package bugcheck

// Statuses that are not bugchecks.
const (
	StatusPoweredOff = 0 // clean power-off
	StatusGoExit     = 1 // os.Exit(1): a failed in-kernel test run
	StatusGoPanic    = 2 // the Go runtime's exit after an unrecovered panic

	// StatusOtherBugcheck is the status of a code whose low 7 bits are one
	// of the three above (0x80 NMI_HARDWARE_FAILURE, 0x101, ...).
	StatusOtherBugcheck = 3
)

// statusBits is how many bits of the byte written to isa-debug-exit reach
// the launcher.
const statusBits = 7

// ExitStatus is the status the kernel powers off with after bugcheck c.
//
//go:nosplit
func (c Code) ExitStatus() uint8 {
	s := uint8(c) & (1<<statusBits - 1)
	if s <= StatusGoPanic {
		return StatusOtherBugcheck
	}
	return s
}
