// Command ntgo-qemu boots an ntgo kernel or in-kernel test binary under QEMU.
//
//	ntgo-qemu [-machine pc] [-gdb [-gdbport N]] [-dump FILE] kernel.elf [kernel args...]
//	    boots the (already bootable) kernel with the serial console on this
//	    terminal, and exits with the kernel's status. With -gdb the CPU
//	    starts halted and QEMU's gdb stub listens on 127.0.0.1:N; with
//	    -dump, a bugcheck writes a crash dump to FILE (go run ./cmd/ntgo-dump FILE).
//	ntgo-qemu -test pkg.test [-test.v ...]
//	    the `go test -exec` runner: makes a copy of the test binary bootable,
//	    boots it with the test flags as its command line, streams its output
//	    and exits with its status.
//	ntgo-qemu -overlay FILE packages...
//	    writes the `go test -overlay` FILE that links ntgo/boot into each
//	    package's test binary (see ntgo/qemu's ktest.go), so -test can boot it.
//	ntgo-qemu -list packages...
//	    prints the packages whose tests run in the kernel: those with tests,
//	    less the host tools (ntgo/qemu/..., ntgo/cmd/...).
//
// SIGTERM is passed on to QEMU, so that killing the launcher ends the VM
// (`make gdb` does when gdb quits) instead of leaving QEMU running.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"ntgo/boot/image"
	"ntgo/qemu"
)

// exitTerminated is the status after a SIGTERM, as a shell reports a
// process that signal ended: 128 + the signal number.
const exitTerminated = 128 + int(syscall.SIGTERM)

func main() {
	machine := flag.String("machine", qemu.DefaultMachine, "QEMU machine: microvm or pc")
	mem := flag.String("m", qemu.DefaultMemory, "guest memory")
	gdb := flag.Bool("gdb", false, "start halted with the gdb stub on 127.0.0.1")
	gdbPort := flag.Int("gdbport", qemu.DefaultGDBPort, "the gdb stub's TCP port")
	dumpFile := flag.String("dump", "", "write a crash dump to `file` on a bugcheck (COM2; read it with go run ./cmd/ntgo-dump)")
	test := flag.Bool("test", false, "run a Go test binary (go test -exec mode)")
	overlay := flag.String("overlay", "", "write the go test `overlay` that makes the packages' test binaries bootable")
	list := flag.Bool("list", false, "list the packages whose tests run in the kernel")
	flag.Parse()
	switch {
	case *overlay != "":
		if err := qemu.WriteBootOverlay(*overlay, flag.Args()); err != nil {
			fatal(err)
		}
		return
	case *list:
		pkgs, err := qemu.KernelTestPackages(flag.Args())
		if err != nil {
			fatal(err)
		}
		fmt.Println(strings.Join(pkgs, " "))
		return
	}
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: ntgo-qemu [-machine M] [-m MEM] [-gdb [-gdbport N]] [-dump FILE] [-test] kernel [args...] | -overlay FILE packages... | -list packages...")
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
	cfg := qemu.Config{Kernel: kernel, Args: args, Machine: *machine, Memory: *mem, GDB: *gdb, GDBPort: *gdbPort, Halted: *gdb, Dump: *dumpFile}
	cmd := cfg.Command()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if *test {
		fmt.Fprintf(os.Stderr, "ntgo-qemu: booting %s in QEMU (%s, %s)\n", filepath.Base(kernel), *machine, cfg.QEMUArgs()[3])
		cmd.Stdin = nil
	}
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	var terminated atomic.Bool
	terminate := make(chan os.Signal, 1)
	signal.Notify(terminate, syscall.SIGTERM)
	go func() {
		for sig := range terminate {
			terminated.Store(true)
			cmd.Process.Signal(sig)
		}
	}()
	waitErr := cmd.Wait()
	if terminated.Load() {
		os.Exit(exitTerminated) // asked to end: no kernel status to report
	}
	status, err := qemu.Status(waitErr)
	if err != nil {
		fatal(err)
	}
	os.Exit(status)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ntgo-qemu:", err)
	os.Exit(1)
}
