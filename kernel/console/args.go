// Argument parsers: each command turns its words into values with one call
// per argument, all through Evaluate (expr.go), so that every command reads
// numbers the same way and refuses bad ones with the same message:
//
//	poweroff: 1g: not a number (hex by default, 0n for decimal)
//	poweroff: 0n256: out of range (0 to 0xff)
//
// Values with a limit (a status, a code, a count, a size, a duration) are
// refused outside it, and a written minus sign is refused outright rather
// than wrapped to a huge value as an address would be.

package console

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// countPrefix is WinDbg's L before a count (L20: 0x20 items).
const countPrefix = "l"

var errNegative = errors.New("negative")

// Number evaluates an address or any other 64-bit value.
func Number(arg string) (uint64, error) {
	return Evaluate(arg, installedNames())
}

// Address evaluates an address.
func Address(arg string) (uintptr, error) {
	v, err := Number(arg)
	return uintptr(v), err
}

// Bounded evaluates a value that must lie in [lo, hi].
func Bounded(arg string, lo, hi uint64) (uint64, error) {
	return BoundedWith(arg, lo, hi, installedNames())
}

// BoundedWith is Bounded over the given names (a debugger target's).
func BoundedWith(arg string, lo, hi uint64, n Names) (uint64, error) {
	if strings.HasPrefix(arg, "-") {
		return 0, refuse(arg, rangeError(errNegative, lo, hi))
	}
	v, err := Evaluate(arg, n)
	if err != nil {
		return 0, err
	}
	if v < lo || v > hi {
		return 0, refuse(arg, rangeError(errors.New("out of range"), lo, hi))
	}
	return v, nil
}

// DecimalConvention is how Decimal reads its argument.
const DecimalConvention = "decimal by default, 0x for hex"

var errNotDecimal = errors.New("not a number (" + DecimalConvention + ")")

// Decimal is Bounded for a size a person types in decimal (`stress paged
// 160` is 160 MiB): plain digits are decimal, anything else (0x hex, 0n
// decimal, an expression) is evaluated as every other argument is.
func Decimal(arg string, lo, hi uint64) (uint64, error) {
	if arg == "" || strings.Trim(arg, "0123456789") != "" || strings.HasPrefix(arg, "0x") {
		if strings.Trim(arg, "0123456789abcdefABCDEF") == "" {
			return 0, refuse(arg, errNotDecimal) // hex digits without 0x
		}
		return Bounded(arg, lo, hi)
	}
	v, err := Bounded(decimalPrefix+arg, lo, hi)
	if ae, ok := err.(*ArgError); ok {
		ae.Text = arg
	}
	return v, err
}

// CountWith is BoundedWith for a count, which may carry WinDbg's L prefix.
func CountWith(arg string, lo, hi uint64, n Names) (uint64, error) {
	if len(arg) > len(countPrefix) && strings.EqualFold(arg[:len(countPrefix)], countPrefix) {
		v, err := BoundedWith(arg[len(countPrefix):], lo, hi, n)
		if ae, ok := err.(*ArgError); ok && ae.Text == arg[len(countPrefix):] {
			ae.Text = arg
		}
		return v, err
	}
	return BoundedWith(arg, lo, hi, n)
}

// Count is CountWith over the console's names.
func Count(arg string, lo, hi uint64) (uint64, error) {
	return CountWith(arg, lo, hi, installedNames())
}

// Duration evaluates a number of units (seconds for poolmon, milliseconds
// for .sleep) from 1 up to max.
func Duration(arg string, unit, max time.Duration) (time.Duration, error) {
	v, err := Bounded(arg, 1, uint64(max/unit))
	return time.Duration(v) * unit, err
}

func rangeError(err error, lo, hi uint64) error {
	return fmt.Errorf("%w (%s to %s)", err, hex(lo), hex(hi))
}

// hex prints a limit in the console's radix: 0x-prefixed from 10 up,
// where it could be misread as decimal.
func hex(v uint64) string {
	if v < 10 {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%#x", v)
}
