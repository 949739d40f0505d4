// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Number printing for messages that must work when the Go runtime cannot
// (early boot, fatal traps).

package kernel

// Hexadecimal digits per value width.
const (
	hexDigits64 = 16
	hexDigits32 = 8
)

//go:nosplit
func printHex(v uint64) { printHexDigits(v, hexDigits64) }

//go:nosplit
func printHex32(v uint32) { printHexDigits(uint64(v), hexDigits32) }

// Hex digits: upper case as NT's STOP line prints them, lower case as kd
// prints everything else.
const (
	upperDigits = "0123456789ABCDEF"
	lowerDigits = "0123456789abcdef"
)

// printHexDigits prints the low n hex digits of v, 0x-prefixed, upper case
// as NT's bugcheck screen does.
//
//go:nosplit
//go:noinline
func printHexDigits(v uint64, n int) {
	serialWriteString("0x")
	printDigits(v, n, true)
}

// printLowerHexDigits prints the low n hex digits of v in lower case, as
// kd's %0nx; n 0 prints as many as v needs (%x).
//
//go:nosplit
//go:noinline
func printLowerHexDigits(v uint64, n int) { printDigits(v, n, false) }

//go:nosplit
func printLowerHex(v uint64) { printDigits(v, hexDigits64, false) }

// printAddress prints v as kd.FormatAddress does (00000000`00401000).
//
//go:nosplit
//go:noinline
func printAddress(v uint64) {
	printDigits(v>>32, hexDigits32, false)
	com1Tx('`')
	printDigits(v&0xFFFFFFFF, hexDigits32, false)
}

// printDigits prints the low n hex digits of v (all it needs, at least one,
// for n 0), upper or lower case. No buffer and no indexing that needs a bounds
// check: the fault path's nosplit chain is near its limit.
//
//go:nosplit
//go:noinline
func printDigits(v uint64, n int, upper bool) {
	if n == 0 {
		for n = 1; n < hexDigits64 && v>>(4*uint(n)) != 0; n++ {
		}
	}
	for shift := 4 * (n - 1); shift >= 0; shift -= 4 {
		d := (v >> uint(shift)) & 0xF
		if upper {
			com1Tx(upperDigits[d])
		} else {
			com1Tx(lowerDigits[d])
		}
	}
}

//go:nosplit
//go:noinline
func printDec(v uint64) {
	const base = 10
	d := uint64(1)
	for v/d >= base {
		d *= base
	}
	for ; d > 0; d /= base {
		com1Tx(byte('0' + v/d%base))
	}
}
