// Package kd is the kernel debugger's formatting: the bugcheck (STOP)
// screen, and the kd> console's memory, disassembly, register, stack and
// expression commands (db/dw/dd/dq, u, r, k, ln, ?), !analyze -v and !thread. It owns no
// state of the kernel: the kernel hands it a Target (how to read memory,
// how to get the registers and stack of the thread being looked at, the
// bugcheck a dump stopped with, the loaded modules) and a bugcheck record,
// and kd only reads and formats. The same code serves the host tests,
// which give it fake memory, and the dump viewer (cmd/ntgo-dump, over
// kernel/kd/dump). The packages below it are the debugger's extensions:
// mmext (the memory manager's views), dt (NT structures), dump (the crash
// dump) and kimage (the kernel ELF, on the host).
//
// kd runs after a fatal error, in goroutine context (the kernel injects the
// screen there): it may allocate modestly and print with fmt, but it takes
// no lock of the memory manager (pool, PFN database), since the failing
// code may hold one. Every access to memory goes through Memory, which must
// refuse an unmapped address instead of faulting, so a wild pointer in a
// register or parameter is shown as unreadable, never dereferenced.
package kd
