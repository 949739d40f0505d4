// Command ntgo-qemu boots an ntgo kernel or in-kernel test binary under QEMU.
//
//	ntgo-qemu [-machine pc] [-gdb] [-dump FILE] kernel.elf [kernel args...]
//	    boots the (already bootable) kernel with the serial console on this
//	    terminal, and exits with the kernel's status; with -dump, a
//	    bugcheck writes a crash dump to FILE (go run ./cmd/ntgo-dump FILE).
//	ntgo-qemu -test pkg.test [-test.v ...]
//	    the `go test -exec` runner: makes a copy of the test binary bootable,
//	    boots it with the test flags as its command line, streams its output
//	    and exits with its status.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"ntgo/boot/image"
	"ntgo/qemu"
)

func main() {
	machine := flag.String("machine", qemu.DefaultMachine, "QEMU machine: microvm or pc")
	mem := flag.String("m", qemu.DefaultMemory, "guest memory")
	gdb := flag.Bool("gdb", false, "start halted with the gdb stub on :1234")
	dumpFile := flag.String("dump", "", "write a crash dump to `file` on a bugcheck (COM2; read it with go run ./cmd/ntgo-dump)")
	test := flag.Bool("test", false, "run a Go test binary (go test -exec mode)")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: ntgo-qemu [-machine M] [-m MEM] [-gdb] [-dump FILE] [-test] kernel [args...]")
		os.Exit(2)
	}
	kernel, args := flag.Arg(0), flag.Args()[1:]
	if *test {
		dir, err := os.MkdirTemp("", "ntgo-ktest")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(dir)
		boot := filepath.Join(dir, filepath.Base(kernel)+".elf")
		if err := image.PatchFile(kernel, boot); err != nil {
			fatal(fmt.Errorf("cannot boot test binary: %w", err))
		}
		kernel = boot
	}
	cfg := qemu.Config{Kernel: kernel, Args: args, Machine: *machine, Memory: *mem, GDB: *gdb, Halted: *gdb, Dump: *dumpFile}
	cmd := cfg.Command()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if *test {
		fmt.Fprintf(os.Stderr, "ntgo-qemu: booting %s in QEMU (%s, %s)\n", filepath.Base(kernel), *machine, cfg.QEMUArgs()[3])
		cmd.Stdin = nil
	}
	status, err := qemu.Status(cmd.Run())
	if err != nil {
		fatal(err)
	}
	os.Exit(status)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ntgo-qemu:", err)
	os.Exit(1)
}
