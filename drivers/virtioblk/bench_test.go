package virtioblk

import (
	"testing"

	"ntgo/mm/physmem"
	"ntgo/mm/pool/interleave"
	"ntgo/nt/ntstatus"
)

// The raw disk figures the paging code compares itself against (`make
// bench` or `make ktest PKG=./drivers/virtioblk ARGS='-run ^$ -bench .'`),
// interleaved so that host load falls on both alike; a "pair" is one page:
//
//	read-page   one-page reads (ReadPages of a one-page MDL), the cost a
//	            hard fault pays for its I/O
//	write-16    sequential writes in 16-page clusters, the modified page
//	            writer's pattern, per page written
//
// The pages read cycle through readSpan pages, the writes through
// writeSpan pages after them; none is one testdata's config fails.
func BenchmarkRawIO(b *testing.B) {
	d := testDisk(b)
	const (
		cluster   = 16
		readBase  = 4096
		readSpan  = 2048
		writeBase = readBase + readSpan
		writeSpan = 16384
	)
	one, _ := pagesMdl(b, 1)
	sixteen, sb := pagesMdl(b, cluster)
	pattern(sb, 0, 0xC3)
	var nextRead, nextWrite uint64
	check := func(st ntstatus.Status) {
		if st != ntstatus.Success {
			b.Fatal(st)
		}
	}
	interleave.Run(b,
		interleave.Variant{Name: "read-page", Run: func(n int) {
			for range n {
				check(d.ReadPages((readBase+nextRead%readSpan)*physmem.PageSize, one))
				nextRead++
			}
		}},
		interleave.Variant{Name: "write-16", Run: func(n int) {
			for i := 0; i < n; i += cluster {
				check(d.WritePages((writeBase+nextWrite%writeSpan)*physmem.PageSize, sixteen))
				nextWrite += cluster
			}
		}},
	)
}
