// Command ntgo-dump reads a crash dump written by the kernel on a bugcheck
// (kernel/kd/dump) and runs debugger commands over it, offline:
//
//	go run ./cmd/ntgo-dump dump.bin                   the bugcheck screen
//	go run ./cmd/ntgo-dump dump.bin '!pfn 123' '!memusage' '!pte fffff680`00000000' poolmon r k
//	go run ./cmd/ntgo-dump dump.bin help              the commands
//
// Each argument after the file is one command line, run through the same
// console registry and dispatcher as the kernel's kd> prompt. The views are
// the memory manager's own code over the dumped data (see
// kernel/kd/dump/read.go). The dump holds no symbol table, so addresses
// print bare; resolve them with `go tool addr2line build/kernel.linked`.
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
