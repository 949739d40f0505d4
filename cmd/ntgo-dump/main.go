// Command ntgo-dump reads a crash dump written by the kernel on a bugcheck
// (kernel/kd/dump; make run DUMP=build/crash.dmp, or ntgo-qemu -dump) and
// runs debugger commands over it, offline:
//
//	go run ./cmd/ntgo-dump crash.dmp                   the bugcheck screen
//	go run ./cmd/ntgo-dump crash.dmp '!vm' poolmon '!pool fffffa80`00001010' '!pfn 123' '!pte 401000' r k
//	go run ./cmd/ntgo-dump crash.dmp help              the commands
//
// Each argument after the file is one command line, run through the same
// console registry and dispatcher as the kernel's kd> prompt. The views are
// the memory manager's own code over the dumped data (see
// kernel/kd/dump/read.go); db/dw/dd/dq read the pool pages the dump holds.
// The dump holds no symbol table, so addresses print bare; resolve them
// with `go tool addr2line build/kernel.linked`.
package main

import (
	"fmt"
	"os"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/kernel/kd/dump"
)

// usageStatus is the exit status for a bad command line or unreadable dump.
const usageStatus = 2

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ntgo-dump dump.bin [command ...]")
		os.Exit(usageStatus)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(usageStatus)
	}
	d, err := dump.Read(f)
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(usageStatus)
	}
	defer d.Close()
	commands := os.Args[2:]
	if len(commands) == 0 {
		kd.WriteStopScreen(os.Stdout, d.Target(), &d.Record, d.Context)
		return
	}
	for _, c := range d.Commands() {
		console.Register(c)
	}
	for _, line := range commands {
		fmt.Printf("%s%s\n", console.Prompt, line)
		console.Execute(os.Stdout, line)
	}
}
