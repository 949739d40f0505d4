package vf_test

import (
	"testing"

	"ntgo/kernel/kd"
	"ntgo/kernel/ldr"
	"ntgo/kernel/vf"
	"ntgo/mm"
	"ntgo/mm/pte"
	"ntgo/mm/verifier"
	"ntgo/nt/arch"
)

// Low-resource simulation fails a verified driver's page allocations
// (contiguous memory, pages for an MDL) and MDL mappings the way
// exhaustion does, nil or 0, and counts them; with the probability at 0
// the same calls succeed.
func TestLowResourcesFailPagesAndMappings(t *testing.T) {
	if !arch.Bare() {
		t.Skip("MDLs and contiguous memory are the kernel's memory manager's")
	}
	fs, end := kd.RuntimeSymbols{}.Functions()
	verifier.SetCode(vf.Spans(fs, end, []ldr.Module{thisModule}))
	fail := func(all bool) {
		s := verifier.Settings{Flags: verifier.LowResources, Drivers: []string{thisModule.Name}}
		if all {
			s.Probability = 10000
		}
		if st := verifier.Apply(s); st.IsError() {
			t.Fatal(st)
		}
	}
	t.Cleanup(func() { verifier.Apply(verifier.Settings{}) })
	pages, mdls := verifier.Injected(verifier.InjectPages), verifier.Injected(verifier.InjectMdl)

	fail(true)
	if p := mm.AllocateContiguousMemory(4096, ^uint64(0)); p != nil {
		t.Error("contiguous memory allocated under a 100% failure rate")
	}
	if m := mm.AllocatePagesForMdl(0, ^uint64(0), 0, 4096); m != nil {
		t.Error("pages for an MDL allocated under a 100% failure rate")
	}
	fail(false)
	m := mm.AllocatePagesForMdl(0, ^uint64(0), 0, 2*4096)
	if m == nil {
		t.Fatal("pages for an MDL refused with no failure injected")
	}
	defer mm.FreeMdl(m)
	defer mm.FreePagesFromMdl(m)
	fail(true)
	if va := mm.MapLockedPagesSpecifyCache(m, pte.Cached, false, mm.NormalPagePriority); va != 0 {
		t.Error("an MDL mapped under a 100% failure rate")
	}
	fail(false)
	va := mm.MapLockedPagesSpecifyCache(m, pte.Cached, false, mm.NormalPagePriority)
	if va == 0 {
		t.Fatal("MDL mapping refused with no failure injected")
	}
	mm.UnmapLockedPages(va, m)
	if got := verifier.Injected(verifier.InjectPages) - pages; got != 2 {
		t.Errorf("%d page allocations failed on purpose, want 2", got)
	}
	if got := verifier.Injected(verifier.InjectMdl) - mdls; got != 1 {
		t.Errorf("%d MDL mappings failed on purpose, want 1", got)
	}
}
