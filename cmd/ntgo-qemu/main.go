// Command ntgo-qemu boots an ntgo kernel or in-kernel test binary under QEMU.
//
//	ntgo-qemu [-machine pc] [-m MEM] [-pagefile IMG] [-pagefile-size SIZE] [-blkdebug CONF] [-batch] [-gdb [-gdbport N]] [-dump FILE] kernel.elf [kernel args...]
//	    boots the (already bootable) kernel with the serial console on this
//	    terminal, and exits with the kernel's status. With -batch nobody
//	    is at the console: the kernel powers off when its run= script
//	    fails or ends. With -gdb the CPU starts halted and QEMU's gdb stub
//	    listens on 127.0.0.1:N; with -dump, a bugcheck writes a crash dump
//	    to FILE (go run ./cmd/ntgo-dump FILE).
//	ntgo-qemu -test pkg.test [-test.v ...]
//	    the `go test -exec` runner: makes a copy of the test binary bootable,
//	    boots it with the test flags as its command line, streams its output
//	    and exits with its status. Each test boot has its own temporary page
//	    file, behind blkdebug with the package's testdata/blkdebug.conf when
//	    it has one. A boot that runs past the binary's -test.timeout by
//	    qemu.TestTimeoutGrace (a kernel hung where its own timeout cannot
//	    fire) is ended, with status qemu.StatusLauncher.
//	ntgo-qemu -overlay FILE packages...
//	    writes the `go test -overlay` FILE that links ntgo/boot into each
//	    package's test binary (see ntgo/qemu's ktest.go), so -test can boot it.
//	ntgo-qemu -list packages...
//	    prints the packages whose tests run in the kernel: those with tests,
//	    less the host tools (ntgo/qemu/..., ntgo/cmd/...).
//
// Every boot gets a page file disk (virtio-blk: virtio-mmio on microvm,
// virtio-pci on pc): -pagefile-size
// (256M; 0 for none) of sparse raw -pagefile image, emptied at each boot
// (a temporary one by default), optionally behind QEMU's blkdebug error
// injector (-blkdebug config).
//
// The exit status is the kernel's (nt/bugcheck/exitstatus.go has the
// table); after a bugcheck the last stderr line names its code, since codes
// can share a status. When there is no kernel status (QEMU failed, the
// kernel never ran or died without powering off) the launcher says why on
// stderr, quoting QEMU, and exits with qemu.StatusLauncher (125). Leaving an
// interactive console with QEMU's Ctrl-A x exits 0.
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
	"time"

	"ntgo/boot/image"
	"ntgo/qemu"
)

// exitTerminated is the status after a SIGTERM, as a shell reports a
// process that signal ended: 128 + the signal number.
const exitTerminated = 128 + int(syscall.SIGTERM)

func main() {
	machine := flag.String("machine", qemu.DefaultMachine, "QEMU machine: microvm or pc")
	mem := flag.String("m", "", "guest memory (default $"+qemu.MemoryVar+", else "+qemu.DefaultMemory+")")
	pageFile := flag.String("pagefile", "", "the page file's raw `image`, created sparse and emptied at each boot (default: a temporary one)")
	pageFileSize := flag.String("pagefile-size", "", "the page file's `size` (0: none; default $"+qemu.PageFileVar+", else "+qemu.DefaultPageFileSize+")")
	blkDebug := flag.String("blkdebug", "", "put QEMU's blkdebug error injector with this `config` in front of the page file")
	smp := flag.Int("smp", 0, "processors (QEMU -smp); 0: $NTGO_SMP, else qemu.DefaultCPUs")
	nodes := flag.Int("numa", 0, "split memory and processors into `n` NUMA nodes (boots -machine pc, which has an SRAT)")
	gdb := flag.Bool("gdb", false, "start halted with the gdb stub on 127.0.0.1")
	gdbPort := flag.Int("gdbport", qemu.DefaultGDBPort, "the gdb stub's TCP port")
	dumpFile := flag.String("dump", "", "write a crash dump to `file` on a bugcheck (COM2; read it with go run ./cmd/ntgo-dump)")
	test := flag.Bool("test", false, "run a Go test binary (go test -exec mode)")
	batch := flag.Bool("batch", false, "nobody at the console: power off when the run= script fails or ends")
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
		fmt.Fprintln(os.Stderr, "usage: ntgo-qemu [-machine M] [-m MEM] [-numa N] [-batch] [-gdb [-gdbport N]] [-dump FILE] [-test] kernel [args...] | -overlay FILE packages... | -list packages...")
		os.Exit(2)
	}
	kernel, args := flag.Arg(0), flag.Args()[1:]
	if *test {
		dir, err := os.MkdirTemp("", "ntgo-ktest")
		if err != nil {
			fatal(err)
		}
		temporary = append(temporary, dir)
		boot := filepath.Join(dir, filepath.Base(kernel)+".elf")
		if err := image.PatchFile(kernel, boot); err != nil {
			fatal(fmt.Errorf("cannot boot test binary: %w", err))
		}
		kernel = boot
		// Test boots never share an image; a package's tests may ask for
		// errors on theirs.
		*pageFile = ""
		if *blkDebug == "" {
			if _, err := os.Stat(testBlkDebug); err == nil {
				*blkDebug, _ = filepath.Abs(testBlkDebug)
			}
		}
	}
	interactive := !*test && !*batch && !*gdb
	cfg := qemu.Config{Kernel: kernel, Args: args, Machine: *machine, Memory: *mem, CPUs: *smp, Nodes: *nodes, GDB: *gdb, GDBPort: *gdbPort, Halted: *gdb,
		Dump: *dumpFile, Batch: *batch, Interactive: interactive, PageFile: *pageFile, PageFileSize: *pageFileSize, BlkDebug: *blkDebug}
	b, err := cfg.NewBoot()
	if err != nil {
		fatal(err)
	}
	temporary = append(temporary, b.Dir())
	cmd := b.Command()
	// QEMU's own messages go straight to stderr, above the verdict.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if *test {
		fmt.Fprintf(os.Stderr, "ntgo-qemu: booting %s in QEMU (%s, %s)\n", filepath.Base(kernel), *machine, b.Accel)
		cmd.Stdin = nil
	}
	if interactive {
		fmt.Fprintln(os.Stderr, "ntgo-qemu: leave with `poweroff [status]` at kd>, or QEMU's Ctrl-A x")
	}
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	var terminated, overran atomic.Bool
	if limit := qemu.TestTimeout(args); *test && limit > 0 {
		limit += qemu.TestTimeoutGrace
		time.AfterFunc(limit, func() {
			overran.Store(true)
			fmt.Fprintf(os.Stderr, "ntgo-qemu: the guest ran past its -test.timeout and %v more: ending QEMU (a hung kernel)\n", qemu.TestTimeoutGrace)
			cmd.Process.Kill()
		})
	}
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
		exit(exitTerminated) // asked to end: no kernel status to report
	}
	if overran.Load() {
		exit(qemu.StatusLauncher)
	}
	o, err := b.Outcome(waitErr, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ntgo-qemu:", err)
		exit(qemu.StatusLauncher)
	}
	if o.Record.Bugcheck {
		fmt.Fprintf(os.Stderr, "ntgo-qemu: bugcheck 0x%08X\n", uint32(o.Record.Code))
	}
	exit(o.Status)
}

// testBlkDebug is the blkdebug config a package's in-kernel tests get in
// front of their page file when the package has one (go test runs -exec
// in the package's directory).
const testBlkDebug = "testdata/blkdebug.conf"

// temporary lists the directories to remove on exit: the test binary's
// bootable copy, the run's status channel.
var temporary []string

// exit removes the temporary directories and exits (os.Exit runs no defers).
func exit(status int) {
	for _, dir := range temporary {
		os.RemoveAll(dir)
	}
	os.Exit(status)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ntgo-qemu:", err)
	exit(qemu.StatusLauncher)
}
