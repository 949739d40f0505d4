package qemu_test

// BenchmarkBoot boots the kernel in $NTGO_KERNEL (`make bench` sets it to
// build/kernel.elf) once per iteration and reports the median time from
// starting QEMU to the console prompt, under TCG and, when the launcher's
// probe finds KVM usable, under KVM. The median rather than the mean (ns/op,
// which also covers the power-off) because a host shared with other VMs
// gives the occasional slow boot. `make bench` runs 10 boots per
// accelerator (-benchtime 10x).

import (
	"os"
	"slices"
	"testing"
	"time"

	"ntgo/qemu"
)

func BenchmarkBoot(b *testing.B) {
	kernel := os.Getenv("NTGO_KERNEL")
	if kernel == "" {
		b.Skip("NTGO_KERNEL not set: run through `make bench`")
	}
	for _, accel := range []string{"tcg", "kvm"} {
		b.Run(accel, func(b *testing.B) {
			if accel == "kvm" && (qemu.Config{Kernel: kernel}).Accelerator() != "kvm" {
				b.Skip("the launcher's probe finds KVM unusable here")
			}
			cfg := qemu.Config{Kernel: kernel, Accel: accel}
			boots := make([]time.Duration, 0, b.N)
			for range b.N {
				d, err := cfg.BootToPrompt(qemu.BootTimeout)
				if err != nil {
					b.Fatal(err)
				}
				boots = append(boots, d)
			}
			b.ReportMetric(float64(median(boots))/float64(time.Millisecond), "ms/boot-median")
		})
	}
}

// median of a non-empty sample; it sorts d.
func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	mid := len(d) / 2
	if len(d)%2 == 1 {
		return d[mid]
	}
	return (d[mid-1] + d[mid]) / 2
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{[]time.Duration{3}, 3},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{8, 2, 4, 100}, 6},
	} {
		if got := median(slices.Clone(c.in)); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
