// Package rtl is the run-time library routines drivers use on raw memory:
// RtlCopyMemory and friends (this file) and ProbeForRead/ProbeForWrite
// (probe.go).
//
// The memory routines take unsafe.Pointer and a byte count, as the WDK's
// take PVOID and SIZE_T, because their operands are usually pool memory or
// device buffers that no Go slice describes. They build a slice over the
// range for the duration of the call and use Go's copy, clear and compare,
// which compile to the runtime's memmove, memclr and memequal.
//
// RtlCopyMemory is documented as undefined for overlapping ranges and
// RtlMoveMemory as overlap-safe; Go's copy is memmove, so both are
// overlap-safe here and share one implementation. RtlSecureZeroMemory is
// assembly (REP STOSB): a call the compiler cannot see into cannot be
// dropped as a dead store, which is the routine's whole promise.
package rtl

import "unsafe"

// bytes is the n bytes at p. A zero n needs no valid p.
func bytes(p unsafe.Pointer, n uintptr) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), n)
}

// CopyMemory is RtlCopyMemory: n bytes from src to dst.
func CopyMemory(dst, src unsafe.Pointer, n uintptr) { MoveMemory(dst, src, n) }

// MoveMemory is RtlMoveMemory: CopyMemory that allows the ranges to
// overlap.
func MoveMemory(dst, src unsafe.Pointer, n uintptr) { copy(bytes(dst, n), bytes(src, n)) }

// FillMemory is RtlFillMemory: n bytes at dst set to fill.
func FillMemory(dst unsafe.Pointer, n uintptr, fill byte) {
	b := bytes(dst, n)
	for i := range b {
		b[i] = fill
	}
}

// ZeroMemory is RtlZeroMemory.
func ZeroMemory(dst unsafe.Pointer, n uintptr) { clear(bytes(dst, n)) }

// secureZero is REP STOSB of zeros over n bytes at p.
//
//go:noescape
func secureZero(p unsafe.Pointer, n uintptr)

// SecureZeroMemory is RtlSecureZeroMemory: ZeroMemory that is never
// optimized away, for keys and passwords about to be released.
func SecureZeroMemory(dst unsafe.Pointer, n uintptr) { secureZero(dst, n) }

// EqualMemory is RtlEqualMemory: whether the n bytes at a and b are the
// same.
func EqualMemory(a, b unsafe.Pointer, n uintptr) bool {
	return string(bytes(a, n)) == string(bytes(b, n))
}

// wordSize is the stride CompareMemory compares in before finding the byte.
const wordSize = unsafe.Sizeof(uint64(0))

// CompareMemory is RtlCompareMemory: how many leading bytes of the n at a
// and b are equal (n if all are).
func CompareMemory(a, b unsafe.Pointer, n uintptr) uintptr {
	i := uintptr(0)
	for ; i+wordSize <= n && *(*uint64)(unsafe.Add(a, i)) == *(*uint64)(unsafe.Add(b, i)); i += wordSize {
	}
	for ; i < n && *(*byte)(unsafe.Add(a, i)) == *(*byte)(unsafe.Add(b, i)); i++ {
	}
	return i
}
