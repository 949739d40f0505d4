// Goroutine waits on a read's futex word (inpage_trap.go): the futex
// system call, which the kernel's Linux-ABI layer serves like Linux, so
// that one word serves goroutines here and threads blocked in a fault.

package paging

import "syscall"

// Linux futex operations (linux/futex.h), private to the process.
const (
	futexWaitPrivate = 0 | 128
	futexWakePrivate = 1 | 128
)

// futexWait sleeps while the word at addr holds val.
func futexWait(addr uintptr, val uint32) {
	syscall.Syscall6(syscall.SYS_FUTEX, addr, futexWaitPrivate, uintptr(val), 0, 0, 0)
}

// futexWake wakes every waiter on the word at addr.
func futexWake(addr uintptr) {
	syscall.Syscall6(syscall.SYS_FUTEX, addr, futexWakePrivate, 1<<30, 0, 0, 0)
}
