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

// printHexDigits prints the low n hex digits of v, 0x-prefixed, upper case
// as NT's bugcheck screen does. No buffer and no indexing that needs a
// bounds check: the fault path's nosplit chain is near its limit.
//
//go:nosplit
//go:noinline
func printHexDigits(v uint64, n int) {
	const digits = "0123456789ABCDEF"
	serialWriteString("0x")
	for shift := 4 * (n - 1); shift >= 0; shift -= 4 {
		com1.Tx(digits[(v>>uint(shift))&0xF])
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
		com1.Tx(byte('0' + v/d%base))
	}
}
