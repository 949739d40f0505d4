// Package qemu launches ntgo under QEMU: the machine it boots on, the
// accelerator (KVM when /dev/kvm really works, TCG otherwise), the exit-status
// convention, and VMs for console tests through u-root's vmtest harness.
//
// Exit status: the kernel powers off through QEMU's isa-debug-exit device,
// which makes QEMU exit with (status<<1)|1. Status decodes that back; a QEMU
// that exits 0 or with an even code did not pass through the device (a
// triple fault with -no-reboot, a QEMU error) and counts as a failure.
package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"ntgo/kernel/kd/dump"
)

// Defaults for the VMs the tools and tests start.
const (
	DefaultMachine = "microvm"
	DefaultMemory  = "256M"
	// Named CPU model: with KVM here, -cpu host and -cpu max fail to start.
	DefaultCPU    = "qemu64,+rdrand"
	debugExitPort = "0xf4"
	// DefaultGDBPort is the gdb stub's port unless Config.GDBPort says
	// otherwise: QEMU's own default (-s), where `make gdb` attaches.
	DefaultGDBPort = 1234
	// gdbHost is where the stub listens: this machine only, since the stub
	// gives whoever connects the whole VM.
	gdbHost = "127.0.0.1"
	// The crash-dump port, COM2, which microvm does not create for a
	// second -serial: it is added as a device.
	dumpPortBase = "0x2f8"
	dumpPortIRQ  = "3"
)

// Config describes one VM.
type Config struct {
	Kernel  string   // bootable ELF (see ntgo/boot/image)
	Args    []string // kernel command line words
	Machine string   // "microvm" (default) or "pc"
	Memory  string   // -m value; DefaultMemory if empty
	Accel   string   // "kvm", "tcg", or "" to pick
	GDB     bool     // gdb stub on GDBPort of 127.0.0.1
	GDBPort int      // the stub's TCP port; DefaultGDBPort if 0
	Halted  bool     // start with the CPU stopped (-S), for gdb
	Dump    string   // file COM2 writes to; enables crash dumps (crashdump=com2)
	Extra   []string // more QEMU arguments
}

// Binary is the QEMU system emulator used.
func Binary() string {
	if b := os.Getenv("NTGO_QEMU"); b != "" {
		return b
	}
	return "qemu-system-x86_64"
}

// KVM ioctls (linux/kvm.h).
const (
	kvmGetAPIVersion = 0xAE00
	kvmCreateVM      = 0xAE01
	kvmAPIVersion    = 12
)

// KVMUsable reports whether KVM works here: it opens /dev/kvm and creates a
// VM, since the device node can exist and still be unusable.
func KVMUsable() bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	v, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), kvmGetAPIVersion, 0)
	if errno != 0 || v != kvmAPIVersion {
		return false
	}
	vm, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), kvmCreateVM, 0)
	if errno != 0 {
		return false
	}
	syscall.Close(int(vm))
	return true
}

// probeStatus is boot.ProbeStatus: what a kernel booted with ntgo.probe
// exits with once its CPU setup and first Go code ran.
const probeStatus = 0x5A

// probeTimeout bounds the KVM probe boot.
const probeTimeout = 5 * time.Second

// accel returns the accelerator c will use: c.Accel or $NTGO_ACCEL when set,
// else KVM if the device works and the kernel really runs under it (some
// hosts' KVM, e.g. a paravirtual one without hardware virtualization,
// opens and creates VMs yet cannot run a stock ring-0 kernel), else TCG.
func (c Config) accel() string {
	if c.Accel != "" {
		return c.Accel
	}
	if a := os.Getenv("NTGO_ACCEL"); a != "" {
		return a
	}
	if KVMUsable() && probeKVM(c) {
		return "kvm"
	}
	return "tcg"
}

var probeMu sync.Mutex

// probeCacheFile remembers the probe's answer until the host reboots, since
// a failing probe costs its whole timeout (QEMU pauses on a KVM internal
// error rather than exiting).
func probeCacheFile() string {
	id, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return filepath.Join(os.TempDir(), "ntgo-kvm-probe-"+strings.TrimSpace(string(id)))
}

// probeKVM boots c's kernel under KVM with ntgo.probe and reports whether it
// came back with probeStatus.
func probeKVM(c Config) bool {
	probeMu.Lock()
	defer probeMu.Unlock()
	cache := probeCacheFile()
	if b, err := os.ReadFile(cache); err == nil && cache != "" {
		return string(b) == "kvm"
	}
	p := Config{Kernel: c.Kernel, Args: []string{"ntgo.probe"}, Machine: c.Machine, Memory: c.Memory, Accel: "kvm"}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(), p.QEMUArgs()...)
	status, err := Status(cmd.Run())
	ok := err == nil && status == probeStatus
	if cache != "" {
		answer := "tcg"
		if ok {
			answer = "kvm"
		}
		os.WriteFile(cache, []byte(answer), 0o644)
	}
	return ok
}

// QEMUArgs returns the QEMU command line (without the binary) for c, serial
// console on stdio. The console's serial port is named although
// -nographic implies it, because a serial device added for the dump would
// otherwise take its place.
func (c Config) QEMUArgs() []string {
	machine := c.Machine
	if machine == "" {
		machine = DefaultMachine
	}
	if machine == "microvm" {
		machine += ",pit=on,rtc=on" // the kernel calibrates the TSC with the PIT
	}
	mem := c.Memory
	if mem == "" {
		mem = DefaultMemory
	}
	a := []string{
		"-machine", machine,
		"-accel", c.accel(),
		"-cpu", DefaultCPU,
		"-m", mem,
		"-nographic", "-no-reboot", "-serial", "mon:stdio",
		"-device", "isa-debug-exit,iobase=" + debugExitPort + ",iosize=0x04",
	}
	args := c.Args
	if c.Dump != "" {
		// QEMU option values double their commas.
		path := strings.ReplaceAll(c.Dump, ",", ",,")
		a = append(a, "-chardev", "file,id=crashdump,path="+path,
			"-device", "isa-serial,chardev=crashdump,iobase="+dumpPortBase+",irq="+dumpPortIRQ)
		args = append(slices.Clip(args), dump.KernelVar+"="+dump.KernelCOM2)
	}
	if c.GDB {
		port := c.GDBPort
		if port == 0 {
			port = DefaultGDBPort
		}
		a = append(a, "-gdb", fmt.Sprintf("tcp:%s:%d", gdbHost, port))
	}
	if c.Halted {
		a = append(a, "-S")
	}
	a = append(a, c.Extra...)
	a = append(a, "-kernel", c.Kernel)
	if cmdline := CommandLine(args); cmdline != "" {
		a = append(a, "-append", cmdline)
	}
	return a
}

// CommandLine joins words into a kernel command line, quoting words that
// contain spaces as the kernel's splitter expects: key="a b" for key=value
// words, "a b" otherwise.
func CommandLine(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case !strings.ContainsAny(w, " \t"):
			b.WriteString(w)
		case strings.Contains(w, "=") && !strings.HasPrefix(w, "-"):
			k, v, _ := strings.Cut(w, "=")
			fmt.Fprintf(&b, "%s=%q", k, v)
		default:
			fmt.Fprintf(&b, "%q", w)
		}
	}
	return b.String()
}

// Command returns an exec.Cmd that runs c.
func (c Config) Command() *exec.Cmd {
	return exec.Command(Binary(), c.QEMUArgs()...)
}

// ErrNoDebugExit means QEMU ended without the kernel powering off through
// isa-debug-exit (a triple fault, a QEMU failure, or a kill).
var ErrNoDebugExit = errors.New("QEMU exited without the kernel's exit status")

// Status decodes the kernel's exit status from QEMU's wait error.
func Status(waitErr error) (int, error) {
	code := 0
	if waitErr != nil {
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) {
			return 0, waitErr
		}
		code = ee.ExitCode()
		if code < 0 { // killed by a signal: no exit code at all
			return 0, fmt.Errorf("%w (QEMU %v)", ErrNoDebugExit, ee)
		}
	}
	if code&1 == 0 {
		return 0, fmt.Errorf("%w (QEMU exit code %d)", ErrNoDebugExit, code)
	}
	return code >> 1, nil
}
