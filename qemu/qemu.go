// Package qemu launches ntgo under QEMU: the machine it boots on, the
// accelerator (KVM when /dev/kvm really works, TCG otherwise), and how a run
// ended (launch.go), for ntgo-qemu, the boot benchmark and figures, the KVM
// probe and the console tests (through u-root's vmtest harness).
package qemu

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"ntgo/boot/cmdline"
	"ntgo/kernel/kd/dump"
	"ntgo/nt/bugcheck"
)

// Defaults for the VMs the tools and tests start.
const (
	DefaultMachine = "microvm"
	DefaultMemory  = "256M"
	// DefaultCPUs: two, so that every run starts an application
	// processor.
	DefaultCPUs = 2
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
	Memory  string   // -m value; $NTGO_MEM, else DefaultMemory, if empty
	CPUs    int      // -smp value; 0: $NTGO_SMP, else DefaultCPUs
	// Nodes splits memory (and the processors) into that many NUMA nodes
	// (numaArgs); 1 is none, 0 means $NTGO_NUMA (make's NUMA=N) or none.
	// QEMU's microvm accepts -numa but builds no SRAT, so a NUMA boot runs
	// on pc whatever Machine says.
	Nodes   int
	Accel   string   // "kvm", "tcg", or "" to pick
	GDB     bool     // gdb stub on GDBPort of 127.0.0.1
	GDBPort int      // the stub's TCP port; DefaultGDBPort if 0
	Halted  bool     // start with the CPU stopped (-S), for gdb
	Dump    string   // file COM2 writes to; enables crash dumps (crashdump=com2)
	Extra   []string // more QEMU arguments
	// The page file's disk (pagefile.go): PageFileSize is its size
	// ($NTGO_PAGEFILE, else DefaultPageFileSize, if empty; "0" for none),
	// PageFile the image (a fresh one in the Boot's directory if empty),
	// BlkDebug a blkdebug config file to put in front of it
	// (BlkDebugConfig writes one).
	PageFileSize string
	PageFile     string
	BlkDebug     string
	// Batch: nobody is at the console; the kernel powers off when its
	// run= script fails or ends (cmdline.BatchKey).
	Batch bool
	// Interactive: a user is at the console, so QEMU ending cleanly after
	// the boot without an exit record is them leaving (Ctrl-A x).
	Interactive bool
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
	ok := false
	if b, err := p.NewBoot(); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		cmd := exec.CommandContext(ctx, Binary(), b.QEMUArgs()...)
		status, err := b.Status(cmd.Run(), nil)
		cancel()
		b.Close()
		ok = err == nil && status == probeStatus
	}
	if cache != "" {
		answer := "tcg"
		if ok {
			answer = "kvm"
		}
		os.WriteFile(cache, []byte(answer), 0o644)
	}
	return ok
}

// qemuArgs returns the QEMU command line (without the binary) for c booting
// kernel, serial console on stdio (with QEMU's monitor behind Ctrl-A c) and
// the status channel to statusFile. -display none, not -nographic: that also
// turns the machine's graphics off, and on pc QEMU then points SeaBIOS's
// serial console (etc/sercon-port) at COM1, which clears the terminal and
// switches off line wrapping (ESC c, ESC [?7l, ESC [2J) before printing its
// and iPXE's banners there.
func (c Config) qemuArgs(kernel, statusFile, pageFile string) ([]string, error) {
	nodes, err := c.nodes()
	if err != nil {
		return nil, err
	}
	machine := c.machine()
	if machine == "microvm" {
		machine += ",pit=on,rtc=on" // the kernel calibrates the TSC with the PIT
	}
	mem := c.memory()
	cpus, err := c.cpus()
	if err != nil {
		return nil, err
	}
	accel := c.accel()
	if accel == "tcg" && cpus > 1 {
		accel += ",thread=multi" // one host thread per processor
	}
	a := []string{
		"-machine", machine,
		"-accel", accel,
		"-cpu", DefaultCPU,
		"-m", mem,
		"-smp", strconv.Itoa(cpus),
		"-display", "none", "-parallel", "none", "-no-reboot", "-serial", "mon:stdio",
		"-device", "isa-debug-exit,iobase=" + debugExitPort + ",iosize=0x04",
		"-chardev", "file,id=status,path=" + optionValue(statusFile),
		"-device", fmt.Sprintf("isa-debugcon,chardev=status,iobase=%#x", bugcheck.ChannelPort),
	}
	if nodes > 1 {
		n, err := numaArgs(mem, nodes, cpus)
		if err != nil {
			return nil, err
		}
		a = append(a, n...)
	}
	args := c.Args
	if c.Batch {
		args = append(slices.Clip(args), cmdline.BatchKey+"=1")
	}
	if c.Dump != "" {
		a = append(a, "-chardev", "file,id=crashdump,path="+optionValue(c.Dump),
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
	if pageFile != "" {
		a = append(a, c.pageFileArgs(pageFile)...)
	}
	a = append(a, c.Extra...)
	a = append(a, "-kernel", kernel)
	line, err := cmdline.Join(kernel, args)
	if err != nil {
		return nil, err
	}
	if line != "" {
		a = append(a, "-append", line)
	}
	return a, nil
}

// cpus is the processor count: c.CPUs, else $NTGO_SMP (make's SMP=),
// else DefaultCPUs.
func (c Config) cpus() (int, error) {
	if c.CPUs != 0 {
		return c.CPUs, nil
	}
	if s := os.Getenv("NTGO_SMP"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("NTGO_SMP=%q: not a processor count", s)
		}
		return n, nil
	}
	return DefaultCPUs, nil
}

// NodesVar is the environment variable that splits every boot whose
// Config does not say into that many NUMA nodes (make's NUMA=).
const NodesVar = "NTGO_NUMA"

// nodes is c.Nodes, or $NTGO_NUMA's if that is 0.
func (c Config) nodes() (int, error) {
	if c.Nodes != 0 {
		return c.Nodes, nil
	}
	v := os.Getenv(NodesVar)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%s: not a node count", NodesVar, v)
	}
	return n, nil
}

// numaArgs splits mem (a -m value) into nodes equal RAM backends, the last
// taking the rest, one NUMA node each, and gives the cpus processors to
// the nodes in turn (processor i on node i mod nodes); nodes beyond the
// processors hold memory only. Every node gets at least 1 MiB.
func numaArgs(mem string, nodes, cpus int) ([]string, error) {
	total, err := mebibytes(mem)
	if err != nil {
		return nil, err
	}
	if nodes > int(total) || nodes > maxNodes {
		return nil, fmt.Errorf("NUMA=%d: -m %s cannot make that many nodes (at most %d, 1 MiB each)", nodes, mem, maxNodes)
	}
	share := total / uint64(nodes)
	var a []string
	for i := range nodes {
		size := share
		if i == nodes-1 {
			size = total - share*uint64(nodes-1)
		}
		node := fmt.Sprintf("node,nodeid=%d,memdev=ram%d", i, i)
		for cpu := i; cpu < cpus; cpu += nodes {
			node += fmt.Sprintf(",cpus=%d", cpu)
		}
		a = append(a, "-object", fmt.Sprintf("memory-backend-ram,id=ram%d,size=%dM", i, size), "-numa", node)
	}
	return a, nil
}

// maxNodes is the most NUMA nodes the kernel keeps lists for (ke.MaximumNodes).
const maxNodes = 8

// mebibytes is a -m value in MiB: a number with an optional M, G or T
// suffix (QEMU's default unit is MiB).
func mebibytes(mem string) (uint64, error) {
	s, scale := strings.ToUpper(mem), uint64(1)
	switch {
	case strings.HasSuffix(s, "T"):
		s, scale = s[:len(s)-1], 1<<20
	case strings.HasSuffix(s, "G"):
		s, scale = s[:len(s)-1], 1<<10
	case strings.HasSuffix(s, "M"):
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("-m %s: not a size in whole MiB, GiB or TiB", mem)
	}
	return n * scale, nil
}

// MemoryVar is the environment variable that sets the guest memory of
// every boot whose Config does not (make's MEM=).
const MemoryVar = "NTGO_MEM"

// memory is the -m value c boots with.
func (c Config) memory() string {
	if c.Memory != "" {
		return c.Memory
	}
	if m := os.Getenv(MemoryVar); m != "" {
		return m
	}
	return DefaultMemory
}

// machine is the QEMU machine c boots: a NUMA boot runs on pc (see Nodes).
func (c Config) machine() string {
	if n, _ := c.nodes(); n > 1 {
		return "pc"
	}
	if c.Machine == "" {
		return DefaultMachine
	}
	return c.Machine
}

// optionValue quotes a QEMU option value: commas are doubled.
func optionValue(s string) string { return strings.ReplaceAll(s, ",", ",,") }
