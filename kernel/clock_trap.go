// The clock: monotonic time is the TSC scaled to nanoseconds. The TSC rate
// comes from KVM's paravirtual clock when the hypervisor offers it (exact and
// instant), else from counting TSC ticks across a PIT channel-2 countdown.
// Wall time is the RTC read once at boot (tamago's soc/intel/rtc) plus
// monotonic time since.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.

package kernel

import (
	"unsafe"

	"ntgo/nt/arch"
)

// tscToNs converts TSC ticks to ns as ticks*tscMul >> tscShift.
var (
	tscBase  uint64
	tscMul   uint64
	tscHz    uint64
	clockSrc string
)

const tscShift = 24

// realtimeOffset is wall-clock ns at monotonic time 0.
var realtimeOffset int64

//go:nosplit
func nanotime() int64 {
	d := arch.RDTSC() - tscBase
	// Split to avoid overflowing 64 bits: d*mul would overflow after ~hours.
	hi, lo := d>>32, d&0xFFFFFFFF
	return int64((hi*tscMul)<<(32-tscShift) + (lo*tscMul)>>tscShift)
}

//go:nosplit
func setTSCHz(hz uint64) {
	tscHz = hz
	tscMul = (1_000_000_000 << tscShift) / hz
}

// KVM paravirtual clock (Documentation/virt/kvm/x86/msr.rst).
const (
	cpuidHypervisorBase  = 0x40000000
	cpuidKVMFeatures     = 0x40000001
	kvmFeatureClocksrc2  = 1 << 3
	msrKVMSystemTimeNew  = 0x4b564d01
	kvmSystemTimeEnable  = 1
	kvmSignatureEBX      = 0x4b4d564b // "KVMK"
	cpuidFeatures        = 1
	cpuidHypervisorBitEC = 1 << 31
)

// pvclockTime is struct pvclock_vcpu_time_info.
type pvclockTime struct {
	Version  uint32
	_        uint32
	TSCStamp uint64
	System   uint64
	TSCMul   uint32
	TSCShift int8
	Flags    uint8
	_        [2]uint8
}

var pvclock pvclockTime

// The PIT counts at 1.193182 MHz. Channel 0 is read directly (latched)
// rather than through channel 2's gate on port 0x61, which microvm lacks.
const (
	pitHz          = 1193182
	pitChannel0    = 0x40
	pitCommand     = 0x43
	pitCh0Mode2    = 0x34 // channel 0, lobyte/hibyte, rate generator, binary
	pitLatchCh0    = 0x00
	pitCalibTicks  = pitHz / 200 // calibrate over 5 ms
	pitStuckReads  = 100000      // a counter that never moves: no PIT
	pitCounterSpan = 1 << 16
)

//go:nosplit
func calibrateClock() {
	tscBase = arch.RDTSC()
	if hz := kvmclockTSCHz(); hz != 0 {
		clockSrc = "kvmclock"
		setTSCHz(hz)
		return
	}
	if hz := pitTSCHz(); hz != 0 {
		clockSrc = "PIT"
		setTSCHz(hz)
		return
	}
	// No time reference: assume 1 GHz so time still moves forward.
	clockSrc = "none (TSC assumed 1 GHz)"
	setTSCHz(1_000_000_000)
}

//go:nosplit
func kvmclockTSCHz() uint64 {
	_, _, ecx, _ := arch.CPUID(cpuidFeatures, 0)
	if ecx&cpuidHypervisorBitEC == 0 {
		return 0
	}
	_, ebx, _, _ := arch.CPUID(cpuidHypervisorBase, 0)
	if ebx != kvmSignatureEBX {
		return 0
	}
	feat, _, _, _ := arch.CPUID(cpuidKVMFeatures, 0)
	if feat&kvmFeatureClocksrc2 == 0 {
		return 0
	}
	// The image is identity-mapped: pvclock's address is its physical address.
	arch.WriteMSR(msrKVMSystemTimeNew, uint64(uintptr(unsafe.Pointer(&pvclock)))|kvmSystemTimeEnable)
	if pvclock.TSCMul == 0 {
		return 0
	}
	// ns = (ticks shifted by TSCShift) * TSCMul / 2^32, so
	// Hz = 1e9 * 2^32 / TSCMul, shifted back.
	hz := (uint64(1_000_000_000) << 32) / uint64(pvclock.TSCMul)
	if pvclock.TSCShift < 0 {
		hz <<= uint(-pvclock.TSCShift)
	} else {
		hz >>= uint(pvclock.TSCShift)
	}
	return hz
}

//go:nosplit
func pitRead() uint32 {
	arch.Out8(pitCommand, pitLatchCh0)
	lo := arch.In8(pitChannel0)
	hi := arch.In8(pitChannel0)
	return uint32(hi)<<8 | uint32(lo)
}

// pitTSCHz counts TSC ticks across pitCalibTicks of PIT channel 0, or
// returns 0 when no PIT answers.
//
//go:nosplit
func pitTSCHz() uint64 {
	arch.Out8(pitCommand, pitCh0Mode2)
	arch.Out8(pitChannel0, 0xFF)
	arch.Out8(pitChannel0, 0xFF)
	prev := pitRead()
	for i := 0; pitRead() == prev; i++ {
		if i == pitStuckReads {
			return 0
		}
	}
	prev = pitRead()
	t0 := arch.RDTSC()
	elapsed := uint32(0)
	for elapsed < pitCalibTicks {
		cur := pitRead()
		elapsed += (prev - cur) % pitCounterSpan
		prev = cur
	}
	t1 := arch.RDTSC()
	return (t1 - t0) * pitHz / uint64(elapsed)
}
