package ramdisk

import (
	"math/rand/v2"
	"testing"

	"ntgo/kernel/kd"
	"ntgo/kernel/vf"
	"ntgo/mm/ex/extest"
	"ntgo/mm/verifier"
	"ntgo/nt/ntstatus"
)

// Under Driver Verifier's low-resource simulation a quarter of the
// driver's allocations fail after a short grace period: every request
// either completes or fails cleanly, what was written and read back
// matches a shadow copy wherever the write completed, and unloading
// leaves nothing allocated.
func TestSurvivesLowResources(t *testing.T) {
	p := extest.Setup(t)
	verifier.Init(p, nil, 0)
	fs, end := kd.RuntimeSymbols{}.Functions()
	verifier.SetCode(vf.Spans(fs, end, nil))
	if st := verifier.Apply(verifier.Settings{Flags: verifier.LowResources | verifier.PoolTracking,
		Drivers: []string{moduleName}, Seed: 1, Probability: 2500, Grace: 3}); st.IsError() {
		t.Fatal(st)
	}
	t.Cleanup(func() { verifier.Apply(verifier.Settings{}); p.SetVerifier(nil) })
	injected := func() uint64 { return verifier.Injected(verifier.InjectPool) }
	before := injected()

	const size = 16 * extentSize
	var d *Disk
	for d == nil {
		var st ntstatus.Status
		if d, st = Load(size); st != ntstatus.Success && st != ntstatus.InsufficientResources {
			t.Fatalf("Load: %v", st)
		}
	}
	shadow := make([]byte, size)
	known := make([]bool, size) // bytes whose content is defined
	r := rand.New(rand.NewPCG(2, 3))
	failed := 0
	for range 400 {
		off := uintptr(r.IntN(size - 256))
		n := uintptr(1 + r.IntN(255))
		if r.IntN(2) == 0 {
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			st := d.Write(off, data)
			for i := range n {
				shadow[off+i], known[off+i] = data[i], st == ntstatus.Success
			}
			if st != ntstatus.Success {
				failed++
			}
			continue
		}
		got, st := d.Read(off, n)
		if st != ntstatus.Success {
			failed++
			continue
		}
		for i := range n {
			if known[off+i] && got[i] != shadow[off+i] {
				t.Fatalf("read at %#x+%d = %#x, wrote %#x", off, i, got[i], shadow[off+i])
			}
		}
	}
	if leaks := d.Unload(); len(leaks) != 0 {
		t.Errorf("leaks after unload: %v", leaks)
	}
	if out := verifier.Outstanding(moduleName); len(out) != 0 {
		t.Errorf("verifier still tracks %d allocations", len(out))
	}
	if injected()-before == 0 || failed == 0 {
		t.Errorf("no failure injected (%d injected, %d requests failed)", injected()-before, failed)
	}
	t.Logf("%d failures injected, %d of 400 requests failed cleanly", injected()-before, failed)
}
