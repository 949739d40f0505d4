// Package interleave runs benchmark variants interleaved.
//
// This machine is shared, and sequential benchmark runs moved 20-40%
// between boots as load came and went. Run runs the variants of one
// measurement (the Go heap's make or new and the pool pairs of the same
// size) in alternating chunks of a few thousand pairs within one
// benchmark, so that load falls on all of them alike, and reports each as
// a custom metric, ns per pair (the median chunk's), with its ratio to the
// first: the ratios are what to compare across runs (benchstat reads them
// as any metric). It depends on nothing of ntgo, so the pool's own tests
// can use it.
package interleave

import (
	"slices"
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
// The figure is the median over the chunks of each chunk's ns per pair, so
// that a chunk during which the host descheduled the whole VM does not
// count. It returns those figures, in the variants' order, for ratios
// among other variants than the first.
func Run(b *testing.B, vs ...Variant) []float64 {
	b.Helper()
	perPair := make([][]float64, len(vs))
	for _, v := range vs { // warm: caches filled, lists at depth
		v.Run(Chunk)
	}
	b.ResetTimer()
	for done := 0; done < b.N; done += Chunk {
		n := min(Chunk, b.N-done)
		for i, v := range vs {
			start := time.Now()
			v.Run(n)
			perPair[i] = append(perPair[i], float64(time.Since(start).Nanoseconds())/float64(n))
		}
	}
	b.StopTimer()
	med := make([]float64, len(vs))
	for i, v := range vs {
		med[i] = median(perPair[i])
		b.ReportMetric(med[i], v.Name+"-ns/pair")
		if i > 0 && med[0] > 0 {
			b.ReportMetric(med[i]/med[0], v.Name+"/"+vs[0].Name)
		}
	}
	return med
}

// median of a non-empty sample; it sorts x.
func median(x []float64) float64 {
	slices.Sort(x)
	if m := len(x) / 2; len(x)%2 == 0 {
		return (x[m-1] + x[m]) / 2
	}
	return x[len(x)/2]
}
