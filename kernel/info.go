package kernel

import (
	"runtime/debug"
	"strings"
	"time"

	"github.com/usbarmory/tamago/soc/intel/rtc"

	"ntgo/mm"
	"ntgo/nt/arch"
)

// initWallClock reads the RTC once; wall time is that plus monotonic time.
func initWallClock() {
	var clock rtc.RTC
	for i := 0; i < 3; i++ { // the RTC refuses while it updates
		if t, err := clock.Now(); err == nil {
			realtimeOffset = t.UnixNano() - nanotime()
			break
		}
		time.Sleep(time.Millisecond)
	}
}

// CPUBrand is the processor brand string (CPUID 0x80000002-4).
func CPUBrand() string {
	const brandFirst, brandLast = 0x80000002, 0x80000004
	if max, _, _, _ := arch.CPUID(0x80000000, 0); max < brandLast {
		return "unknown"
	}
	var b []byte
	for leaf := uint32(brandFirst); leaf <= brandLast; leaf++ {
		a, bx, c, d := arch.CPUID(leaf, 0)
		for _, r := range []uint32{a, bx, c, d} {
			b = append(b, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
		}
	}
	return strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
}

// Hypervisor names the hypervisor from CPUID's hypervisor leaf, or "none".
func Hypervisor() string {
	if _, _, ecx, _ := arch.CPUID(cpuidFeatures, 0); ecx&cpuidHypervisorBitEC == 0 {
		return "none"
	}
	_, b, c, d := arch.CPUID(cpuidHypervisorBase, 0)
	var s []byte
	for _, r := range []uint32{b, c, d} {
		s = append(s, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
	}
	return strings.TrimRight(string(s), "\x00")
}

// ClockInfo says where monotonic time comes from and the TSC rate.
func ClockInfo() (source string, hz uint64) { return clockSrc, tscHz }

// RandomSource names the getrandom source.
func RandomSource() string {
	if hasRDRAND {
		return "RDRAND"
	}
	return "TSC-seeded xorshift (no RDRAND)"
}

// MemoryInfo returns physical frames in the allocator and free.
func MemoryInfo() (total, free uint64) {
	s := mm.PFN.Stats()
	return s.RAM(), s.Available()
}

// BuildRevision is the VCS revision the kernel was built from, if known.
func BuildRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "unknown", ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	return rev + dirty
}
