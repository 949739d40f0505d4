// Command ntgo-figures reports the size figures of a bootable kernel: the
// ELF file's size, the physical memory its loaded image spans, and the
// smallest guest memory (-m, in MiB) it boots in.
//
//	ntgo-figures build/kernel.elf
//
// "Boots" is qemu.BootToPrompt's: the console prompt, then a clean power-off
// from the console. The smallest size is found by bisection between 1 MiB
// and the launcher's default memory, which must boot; that assumes a kernel
// that boots in m MiB boots in more. A size below the image's end may hang
// rather than fail (QEMU loads the image where there is no RAM), so the
// search can take a boot timeout or two. Boot times are `make bench`'s.
package main

import (
	"debug/elf"
	"fmt"
	"os"
	"strconv"
	"strings"

	"ntgo/qemu"
)

const mib = 1 << 20

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ntgo-figures kernel.elf")
		os.Exit(2)
	}
	kernel := os.Args[1]
	st, err := os.Stat(kernel)
	if err != nil {
		fatal(err)
	}
	lo, hi, err := loadSpan(kernel)
	if err != nil {
		fatal(err)
	}
	fmt.Printf("kernel %s: %d bytes (%.1f MiB) ELF file; image loaded at %#x-%#x (%.1f MiB)\n",
		kernel, st.Size(), float64(st.Size())/mib, lo, hi, float64(hi-lo)/mib)

	top, err := strconv.Atoi(strings.TrimSuffix(qemu.DefaultMemory, "M"))
	if err != nil {
		fatal(fmt.Errorf("default memory %q is not in MiB: %w", qemu.DefaultMemory, err))
	}
	cfg := qemu.Config{Kernel: kernel}
	cfg.Accel = cfg.Accelerator()
	smallest, err := smallestMemory(cfg, top)
	if err != nil {
		fatal(err)
	}
	fmt.Printf("smallest -m that boots (%s): %dM\n", cfg.Accel, smallest)
}

// loadSpan returns the physical range the ELF's loadable segments occupy.
func loadSpan(path string) (lo, hi uint64, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	lo = ^uint64(0)
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		lo = min(lo, p.Paddr)
		hi = max(hi, p.Paddr+p.Memsz)
	}
	if hi == 0 {
		return 0, 0, fmt.Errorf("%s: no loadable segments", path)
	}
	return lo, hi, nil
}

// smallestMemory bisects for the smallest MiB count in [1, top] that boots.
func smallestMemory(cfg qemu.Config, top int) (int, error) {
	boots := func(m int) bool {
		c := cfg
		c.Memory = strconv.Itoa(m) + "M"
		_, err := c.BootToPrompt(qemu.BootTimeout)
		fmt.Fprintf(os.Stderr, "-m %s: %v\n", c.Memory, errOr(err, "boots"))
		return err == nil
	}
	if !boots(top) {
		return 0, fmt.Errorf("does not boot in the default %dM", top)
	}
	fail, ok := 0, top // invariant: fail does not boot (0 trivially), ok does
	for ok-fail > 1 {
		mid := (fail + ok) / 2
		if boots(mid) {
			ok = mid
		} else {
			fail = mid
		}
	}
	return ok, nil
}

func errOr(err error, ok string) any {
	if err != nil {
		return err
	}
	return ok
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ntgo-figures:", err)
	os.Exit(1)
}
