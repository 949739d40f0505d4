package vf_test

// Driver Verifier's costs, interleaved (interleave.Run), 64-byte nonpaged
// pairs (allocate + free):
//
//	off         an unverified caller, nothing verified: the pool's one flag
//	unverified  the same caller while another driver (this test package)
//	            is verified: the caller's attribution on every call
//	tracked     the verified driver's own pairs: attribution, tracking
//	special     POOL_FLAG_SPECIAL_POOL pairs: a page mapped, filled, checked
//	            and unmapped per pair (inside the kernel only: the host has
//	            no special pool)
//
// The ratios to off are the figures (docs/figures.md).

import (
	"testing"

	"ntgo/kernel/kd"
	"ntgo/kernel/ldr"
	"ntgo/kernel/vf"
	"ntgo/mm/ex"
	"ntgo/mm/ex/extest"
	"ntgo/mm/layout"
	"ntgo/mm/pool"
	"ntgo/mm/pool/interleave"
	"ntgo/mm/verifier"
	"ntgo/nt/arch"
)

func BenchmarkVerifierPairs(b *testing.B) {
	if !arch.Bare() {
		p := extest.Setup(b)
		verifier.Init(p, nil, 0)
		b.Cleanup(func() { p.SetVerifier(nil) })
	}
	fs, end := kd.RuntimeSymbols{}.Functions()
	verifier.SetCode(vf.Spans(fs, end, []ldr.Module{thisModule}))
	verifier.Apply(verifier.Settings{Flags: verifier.PoolTracking, Drivers: []string{thisModule.Name}})
	b.Cleanup(func() { verifier.Apply(verifier.Settings{}) })
	tag := pool.MakeTag("VfBn")
	p := ex.Pools()
	pair := func(k int) {
		for range k {
			vf.FreeFromVf(vf.AllocateFromVf(tag), tag)
		}
	}
	vs := []interleave.Variant{
		{Name: "off", Run: func(k int) { p.SetVerifying(false); pair(k) }},
		{Name: "unverified", Run: func(k int) { p.SetVerifying(true); pair(k) }},
		{Name: "tracked", Run: func(k int) {
			p.SetVerifying(true)
			for range k {
				ex.FreePoolWithTag(allocateHere(tag), tag)
			}
		}},
	}
	if arch.Bare() {
		vs = append(vs, interleave.Variant{Name: "special", Run: func(k int) {
			p.SetVerifying(false)
			for range k {
				q := ex.AllocatePool2(ex.PoolFlagNonPaged|ex.PoolFlagSpecialPool, 64, tag)
				if r, _ := layout.Find(uintptr(q)); r.ID != layout.SpecialPool {
					b.Fatalf("POOL_FLAG_SPECIAL_POOL gave %p, not special pool", q)
				}
				ex.FreePoolWithTag(q, tag)
			}
		}})
	}
	interleave.Run(b, vs...)
}
