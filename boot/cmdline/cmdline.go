// Package cmdline is the kernel command line's syntax, shared by the host
// that writes it (ntgo/qemu: Join) and the boot entry that reads it
// (ntgo/boot: Split), with the limits the boot entry has room for.
//
// Words are separated by spaces or tabs. Double quotes group (`"a b"` is one
// word, `""` an empty one) and a backslash takes the next byte literally,
// inside quotes or out, so any word without a NUL byte survives Join then
// Split. Split runs in the boot entry before the Go runtime: it is nosplit,
// works in place on a fixed buffer and allocates nothing.
package cmdline

import (
	"errors"
	"fmt"
	"strings"
)

// Limits of the boot entry's static buffers (ntgo/boot). QEMU's Multiboot
// loader passes "<kernel path> <-append text>" with no limit of its own, so
// these are the real ones.
const (
	// Max is the longest command line the kernel reads, path included; the
	// buffer keeps one byte for the NUL terminator.
	Max = 4096 - 1
	// MaxWords bounds the words after the path: MaxArgs arguments and
	// MaxEnv key=value words.
	MaxArgs = 128
	MaxEnv  = 64
)

// BatchKey is the key (BatchKey=1) that tells the kernel nobody is at the
// console: cmd/ntgo powers off when its run= script fails or ends.
const BatchKey = "batch"

// Span is one word of a split line: buf[Off:Off+N].
type Span struct{ Off, N int }

//go:nosplit
func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// Split splits buf[:n] into words in place, removing quotes and escapes and
// ending each word with a NUL (so that argv can point into buf, which must
// have room for one byte past n), and records them in words. It returns how
// many words it found, at most len(words).
//
//go:nosplit
func Split(buf []byte, n int, words []Span) int {
	count, w, r := 0, 0, 0
	for r < n && count < len(words) {
		for r < n && isSpace(buf[r]) {
			r++
		}
		if r == n {
			break
		}
		start, quoted := w, false
		for r < n && (quoted || !isSpace(buf[r])) {
			switch c := buf[r]; {
			case c == '\\' && r+1 < n:
				r++
				buf[w] = buf[r]
				w++
			case c == '"':
				quoted = !quoted
			default:
				buf[w] = c
				w++
			}
			r++
		}
		words[count] = Span{start, w - start}
		count++
		buf[w] = 0 // w <= r: the separator's byte, or the one past n
		w++
		r++
	}
	return count
}

// IsEnv reports whether word is a key=value word, which the boot entry puts
// in the environment (as Linux does for init) instead of the arguments.
//
//go:nosplit
func IsEnv(word string) bool {
	if word == "" || word[0] == '-' {
		return false
	}
	for i := 0; i < len(word); i++ {
		if word[i] == '=' {
			return true
		}
	}
	return false
}

// ErrTooLong means a command line does not fit the kernel's buffer.
var ErrTooLong = errors.New("kernel command line too long")

// Join quotes words into a command line that Split reads back as the same
// words, after the kernel path QEMU puts first. It refuses words the kernel
// could not read back: a NUL byte, a line longer than Max with the path, or
// more words than the boot entry keeps.
func Join(kernelPath string, words []string) (string, error) {
	var b strings.Builder
	args, env := 0, 0
	for i, w := range words {
		if strings.IndexByte(w, 0) >= 0 {
			return "", fmt.Errorf("kernel command line word %q has a NUL byte", w)
		}
		if IsEnv(w) {
			env++
		} else {
			args++
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		if w != "" && !strings.ContainsAny(w, " \t\"\\") {
			b.WriteString(w)
			continue
		}
		b.WriteByte('"')
		for j := 0; j < len(w); j++ {
			if w[j] == '"' || w[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(w[j])
		}
		b.WriteByte('"')
	}
	line := b.String()
	if total := len(kernelPath) + 1 + len(line); total > Max {
		return "", fmt.Errorf("%w: %d bytes with the kernel path %s, the kernel reads at most %d (boot/cmdline.Max)", ErrTooLong, total, kernelPath, Max)
	}
	if args > MaxArgs || env > MaxEnv {
		return "", fmt.Errorf("%w: %d arguments and %d key=value words, the kernel keeps at most %d and %d", ErrTooLong, args, env, MaxArgs, MaxEnv)
	}
	if strings.ContainsAny(kernelPath, " \t\"\\") {
		return "", fmt.Errorf("kernel path %q: the kernel would split it (spaces, quotes or backslashes)", kernelPath)
	}
	return line, nil
}
