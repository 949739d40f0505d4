// Package boot is ntgo's entry from the boot loader: the 64-bit entry point
// that mkboot's Multiboot trampoline jumps to, the parsing of the Multiboot
// information (memory map, command line), and the process stack a Linux
// program starts with, which the Go runtime's _rt0_amd64_linux reads.
//
// Importing boot (blank) makes a binary bootable: the kernel and every
// in-kernel test binary do. In a binary started by a host OS the entry is
// never run and this package does nothing.
//
// The kernel command line is split into words by ntgo/boot/cmdline (double
// quotes group, a backslash escapes). As Linux does for init, words of the form key=value become
// environment variables and the rest become arguments, so
// `-test.v run="ver; poweroff 0"` gives os.Args[1] = "-test.v" and
// os.Getenv("run") = "ver; poweroff 0".
package boot

import (
	"unsafe"

	"ntgo/boot/cmdline"
	"ntgo/kernel"
)

// entry64 is the 64-bit entry (entry_amd64.s); mkboot finds it by name.
func entry64()

// entryInfoAddr returns the address of entryInfo (entry_amd64.s), the marked
// pointer to entry64 that mkboot looks for. Calling it at init keeps both
// linked: nothing else refers to them.
func entryInfoAddr() uintptr

func init() {
	if entryInfoAddr() == 0 {
		panic("boot entry missing")
	}
}

// Set by entry64.
var (
	multibootMagic uint32
	multibootInfo  uintptr
)

const (
	bootStackBytes = 256 << 10
	// The top of the boot stack holds the process vector (argc, argv, envp,
	// auxv); early runs below it.
	processAreaBytes = 16 << 10
	multibootOK      = 0x2BADB002
)

// bootStack is the boot thread's stack: the runtime's m0 uses it as its g0
// stack, so it must outlast boot.
var bootStack [bootStackBytes / 16][2]uint64

// Multiboot information structure fields (Multiboot 1 specification, 3.3).
const (
	mbiFlags        = 0
	mbiCmdline      = 16
	mbiMmapLength   = 44
	mbiMmapAddr     = 48
	mbiFlagCmdline  = 1 << 2
	mbiFlagMmap     = 1 << 6
	mmapEntrySize   = 0 // offset of the size field; the entry follows it
	mmapEntryBase   = 4
	mmapEntryLength = 12
	mmapEntryType   = 20
)

// Linux auxiliary vector keys the runtime reads.
const (
	atNull   = 0
	atPagesz = 6
	atHwcap  = 16
	atClktck = 17
	atRandom = 25
	pageSize = 4096
)

var (
	cmdBuf    [cmdline.Max + 1]byte // + the NUL Split ends the last word with
	cmdlen    int
	words     [1 + cmdline.MaxArgs + cmdline.MaxEnv]cmdline.Span // the path, then the words
	atRandomB [16]byte
	info      kernel.BootInfo
)

// The start of the kernel's text, from the linker: the ELF header is in the
// page before it.
//
//go:linkname runtimeText runtime.text
var runtimeText byte

// at turns a physical (identity-mapped) address into a pointer. The
// indirection keeps vet's unsafe.Pointer check quiet for addresses that never
// were Go pointers.
//
//go:nosplit
func at(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

//go:nosplit
func u32(p uintptr) uint32 { return *(*uint32)(at(p)) }

//go:nosplit
func u64(p uintptr) uint64 { return *(*uint64)(at(p)) }

// early runs on the boot stack before the runtime: it returns the stack
// pointer _rt0_amd64_linux starts with.
//
//go:nosplit
func early() uintptr {
	kernel.MarkBooted()
	if multibootMagic != multibootOK {
		for {
		}
	}
	mbi := multibootInfo
	flags := u32(mbi + mbiFlags)
	if flags&mbiFlagCmdline != 0 {
		p := uintptr(u32(mbi + mbiCmdline))
		for cmdlen < cmdline.Max && *(*byte)(at(p + uintptr(cmdlen))) != 0 {
			cmdBuf[cmdlen] = *(*byte)(at(p + uintptr(cmdlen)))
			cmdlen++
		}
	}
	if flags&mbiFlagMmap != 0 {
		p, end := uintptr(u32(mbi+mbiMmapAddr)), uintptr(u32(mbi+mbiMmapAddr)+u32(mbi+mbiMmapLength))
		for p < end && info.NRanges < len(info.Ranges) {
			r := &info.Ranges[info.NRanges]
			r.Base, r.Length, r.Type = u64(p+mmapEntryBase), u64(p+mmapEntryLength), u32(p+mmapEntryType)
			info.NRanges++
			p += uintptr(u32(p+mmapEntrySize)) + 4
		}
	}
	imageSegments(uintptr(unsafe.Pointer(&runtimeText)))
	kernel.Start(&info)
	kernel.Random(atRandomB[:])
	sp := buildProcessStack()
	if probed {
		kernel.PowerOff(ProbeStatus)
	}
	return sp
}

// ProbeStatus is what the kernel exits with when booted with the word
// ntgo.probe: the launcher boots it so to learn whether an accelerator can
// run it (CPU set up, Go code executed) before committing to it.
const ProbeStatus = 0x5A

var probeWord = [...]byte{'n', 't', 'g', 'o', '.', 'p', 'r', 'o', 'b', 'e'}

// probed is set by buildProcessStack when the command line has ntgo.probe.
var probed bool

//go:nosplit
func isProbeWord(i int) bool {
	wd := words[i]
	if wd.N != len(probeWord) {
		return false
	}
	for j := range probeWord {
		if cmdBuf[wd.Off+j] != probeWord[j] {
			return false
		}
	}
	return true
}

// word returns word i of the split command line, in place.
//
//go:nosplit
func word(i int) string { return unsafe.String(&cmdBuf[words[i].Off], words[i].N) }

//go:nosplit
func isEnvWord(i int) bool { return cmdline.IsEnv(word(i)) }

var argv0 = [...]byte{'n', 't', 'g', 'o', 0}

// vec is the process vector being built (static: early's frames are small).
var vec [1 + 1 + cmdline.MaxArgs + 1 + cmdline.MaxEnv + 1 + 10]uintptr

// buildProcessStack lays out argc, argv, envp and auxv at the top of the
// boot stack as Linux does for a new process. The first word of a Multiboot
// command line is the image's path (QEMU and GRUB put it there); it is
// skipped, argv[0] being "ntgo".
//
//go:nosplit
func buildProcessStack() uintptr {
	n := cmdline.Split(cmdBuf[:], cmdlen, words[:])
	k := 0
	vec[k] = 0 // argc, filled below
	k++
	vec[k] = uintptr(unsafe.Pointer(&argv0[0]))
	k++
	argc := 1
	for i := 1; i < n; i++ {
		if isProbeWord(i) {
			probed = true
		}
		if !isEnvWord(i) && argc <= cmdline.MaxArgs {
			vec[k] = uintptr(unsafe.Pointer(&cmdBuf[words[i].Off]))
			k++
			argc++
		}
	}
	vec[0] = uintptr(argc)
	vec[k] = 0
	k++
	for i, env := 1, 0; i < n; i++ {
		if isEnvWord(i) && env < cmdline.MaxEnv {
			env++
			vec[k] = uintptr(unsafe.Pointer(&cmdBuf[words[i].Off]))
			k++
		}
	}
	vec[k] = 0
	k++
	for _, av := range [...][2]uintptr{
		{atPagesz, pageSize},
		{atClktck, 100},
		{atHwcap, 0},
		{atRandom, uintptr(unsafe.Pointer(&atRandomB[0]))},
		{atNull, 0},
	} {
		vec[k], vec[k+1] = av[0], av[1]
		k += 2
	}
	// The vector goes at the top of the boot stack, above where early runs,
	// 16-byte aligned as the ABI wants at entry.
	top := uintptr(unsafe.Pointer(&bootStack)) + bootStackBytes
	sp := (top - uintptr(k)*8) &^ 15
	for i := 0; i < k; i++ {
		*(*uintptr)(at(sp + uintptr(i)*8)) = vec[i]
	}
	return sp
}
