// Memory display: db, dw, dd and dq, in WinDbg's layout.
//
// Every row covers 16 bytes from the address given (rows are not aligned,
// as in WinDbg): the row's address, the values in the command's unit, and
// for db the bytes as ASCII. Values are read a page at a time (memory.go);
// a value any byte of which lies on an unmapped page prints as question
// marks, and a range with no readable byte at all is refused with an error
// rather than a screen of question marks.

package kd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A display command's unit.
type unit struct {
	command string
	size    int // bytes
	name    string
}

var units = [...]unit{
	{"db", 1, "bytes"},
	{"dw", 2, "words"},
	{"dd", 4, "double words"},
	{"dq", 8, "quad words"},
}

// Display limits.
const (
	rowBytes = 16
	// defaultDisplayBytes is what a display command shows without a count
	// (WinDbg's default range, 0x80 bytes).
	defaultDisplayBytes = 0x80
	// maxDisplayBytes caps a count, so that a typo does not flood the
	// serial console.
	maxDisplayBytes = 1 << 16
	// halfRowSeparator is db's mark between the row's two halves of eight.
	halfRowSeparator = '-'
	// unreadableASCII stands for an unreadable byte, unprintable stands for
	// a byte outside printable ASCII.
	unreadableASCII = '?'
	unprintable     = '.'
	firstPrintable  = ' '
	lastPrintable   = '~'
)

// maxCount is the most units of u one display shows.
func maxCount(u unit) uint64 { return maxDisplayBytes / uint64(u.size) }

// errUnmapped is returned when no byte of a range can be read.
var errUnmapped = errors.New("is not mapped")

// display prints count units of u at addr; count is 1 to maxCount(u)
// (the command's parser checks it).
func display(w io.Writer, m Memory, u unit, addr uintptr, count uint64) error {
	buf := make([]byte, int(count)*u.size)
	ok := make([]bool, len(buf))
	if !readPages(m, addr, buf, ok) {
		return fmt.Errorf("memory at %s %w", FormatAddress(uint64(addr)), errUnmapped)
	}
	for row := 0; row < len(buf); row += rowBytes {
		end := min(row+rowBytes, len(buf))
		var line strings.Builder
		fmt.Fprintf(&line, "%s ", FormatAddress(uint64(addr)+uint64(row)))
		for v := row; v < end; v += u.size {
			sep := byte(' ')
			if u.size == 1 && v-row == rowBytes/2 {
				sep = halfRowSeparator
			}
			line.WriteByte(sep)
			line.WriteString(formatUnit(buf[v:v+u.size], ok[v:v+u.size]))
		}
		if u.size == 1 {
			line.WriteString(strings.Repeat("   ", rowBytes-(end-row)))
			line.WriteString("  ")
			for i := row; i < end; i++ {
				line.WriteByte(asciiOf(buf[i], ok[i]))
			}
		}
		fmt.Fprintln(w, line.String())
	}
	return nil
}

// formatUnit prints one little-endian value, or question marks if any of
// its bytes is unreadable.
func formatUnit(b []byte, ok []bool) string {
	for _, o := range ok {
		if !o {
			return strings.Repeat(string(unreadableASCII), 2*len(b))
		}
	}
	switch len(b) {
	case 1:
		return fmt.Sprintf("%02x", b[0])
	case 2:
		return fmt.Sprintf("%04x", binary.LittleEndian.Uint16(b))
	case 4:
		return fmt.Sprintf("%08x", binary.LittleEndian.Uint32(b))
	}
	return FormatAddress(binary.LittleEndian.Uint64(b))
}

func asciiOf(c byte, ok bool) byte {
	switch {
	case !ok:
		return unreadableASCII
	case c < firstPrintable || c > lastPrintable:
		return unprintable
	}
	return c
}
