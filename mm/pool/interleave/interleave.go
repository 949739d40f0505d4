// Package interleave runs benchmark variants interleaved.
//
// This machine is shared, and sequential benchmark runs moved 20-40%
// between boots as load came and went. Interleave runs the variants of one
// measurement (the Go heap's make or new and the pool pairs of the same
// size) in alternating chunks of a few thousand pairs within one
// benchmark, so that load falls on all of them alike, and reports each as a
// custom metric, ns per pair, with its ratio to the first: the ratios are
// what to compare across runs (benchstat reads them as any metric). It
// depends on nothing of ntgo, so the pool's own tests can use it.
package interleave

import (
	"testing"
	"time"
)

// Chunk is how many pairs one variant runs before the next takes over.
const Chunk = 2000

// Variant is one way of doing a pair; Run does n of them.
type Variant struct {
	Name string
	Run  func(n int)
}

// Run runs b.N pairs of every variant, Chunk at a time in turn, and
// reports <name>-ns/pair for each and <name>/<first> for all but the first.
func Run(b *testing.B, vs ...Variant) {
	b.Helper()
	elapsed := make([]time.Duration, len(vs))
	for _, v := range vs { // warm: caches filled, lists at depth
		v.Run(Chunk)
	}
	b.ResetTimer()
	for done := 0; done < b.N; done += Chunk {
		n := min(Chunk, b.N-done)
		for i, v := range vs {
			start := time.Now()
			v.Run(n)
			elapsed[i] += time.Since(start)
		}
	}
	b.StopTimer()
	per := func(i int) float64 { return float64(elapsed[i].Nanoseconds()) / float64(b.N) }
	for i, v := range vs {
		b.ReportMetric(per(i), v.Name+"-ns/pair")
		if i > 0 && per(0) > 0 {
			b.ReportMetric(per(i)/per(0), v.Name+"/"+vs[0].Name)
		}
	}
}
