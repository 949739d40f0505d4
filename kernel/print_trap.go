package kernel

// Trap context: nosplit, no allocation. Number printing for messages that
// must work when the Go runtime cannot (early boot, fatal traps).

//go:nosplit
func printHex(v uint64) {
	const digits = "0123456789abcdef"
	var buf [18]byte
	buf[0], buf[1] = '0', 'x'
	for i := 0; i < 16; i++ {
		buf[17-i] = digits[v&0xF]
		v >>= 4
	}
	serialWrite(buf[:])
}

//go:nosplit
func printDec(v uint64) {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	serialWrite(buf[i:])
}
