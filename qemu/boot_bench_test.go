package qemu_test

// BenchmarkBoot boots the kernel in $NTGO_KERNEL (`make bench` sets it to
// build/kernel.elf) with -m 256M and with -m 4G once each per iteration and
// reports the median time from starting QEMU to the console prompt for
// each, and their ratio, under TCG and, when the launcher's probe finds KVM
// usable, under KVM. The median rather than the mean (ns/op,
// which also covers the power-off) because a host shared with other VMs
// gives the occasional slow boot. `make bench` runs 10 boots of each size
// per accelerator (-benchtime 10x).

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
			// The two memory sizes boot alternately, so that load on a
			// shared host falls on both alike; the ratio is the figure
			// that shows boot growing with memory.
			sizes := []string{bootSmall, bootLarge}
			boots := make([][]time.Duration, len(sizes))
			for range b.N {
				for i, m := range sizes {
					d, err := qemu.Config{Kernel: kernel, Accel: accel, Memory: m}.BootToPrompt(qemu.BootTimeout)
					if err != nil {
						b.Fatalf("-m %s: %v", m, err)
					}
					boots[i] = append(boots[i], d)
				}
			}
			ms := func(i int) float64 { return float64(median(boots[i])) / float64(time.Millisecond) }
			for i, m := range sizes {
				b.ReportMetric(ms(i), "ms/boot-median-"+m)
			}
			b.ReportMetric(ms(1)/ms(0), bootLarge+"/"+bootSmall)
		})
	}
}

// The memory sizes BenchmarkBoot compares.
const (
	bootSmall = "256M"
	bootLarge = "4G"
)

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
