package kd

// Address expressions, as the commands' arguments take them.
//
// Numbers are hexadecimal, WinDbg's default radix, with or without 0x, and
// may carry WinDbg's backtick between the halves of a 64-bit address
// (fffff680`00000000); 0n introduces a decimal number. A register is
// @name (@rip, @rsp, @rax ...), read from the Context of the thread being
// debugged. Terms combine with + and -, without spaces: @rsp+8.
//
// Symbol names are not accepted: Go keeps no name-to-address table at run
// time (symbols.go), and building one would mean carrying the kernel's
// symbol table into the kernel. To start from a function, take an address
// from k, r or u output.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Prefixes of the expression syntax.
const (
	hexPrefix      = "0x"
	decimalPrefix  = "0n"
	registerPrefix = "@"
	addressSplit   = "`"
	countPrefix    = "l" // WinDbg's L<count>
)

// halfAddressBits is where FormatAddress puts WinDbg's backtick.
const halfAddressBits = 32

// FormatAddress prints a 64-bit address as WinDbg does: two 8-digit halves
// joined by a backtick.
func FormatAddress(a uint64) string {
	return fmt.Sprintf("%08x%s%08x", a>>halfAddressBits, addressSplit, uint32(a))
}

// errNoContext is returned for @register when no thread context exists.
var errNoContext = errors.New("no register context")

// Evaluate computes expression s. regs supplies @register values; nil if
// there is no thread context.
func Evaluate(s string, regs *Registers) (uint64, error) {
	if s == "" {
		return 0, errors.New("empty expression")
	}
	var total uint64
	sign := uint64(1)
	for {
		end := strings.IndexAny(s, "+-")
		term := s
		if end >= 0 {
			term = s[:end]
		}
		v, err := evaluateTerm(term, regs)
		if err != nil {
			return 0, err
		}
		total += sign * v
		if end < 0 {
			return total, nil
		}
		sign = 1
		if s[end] == '-' {
			sign = ^uint64(0) // -1: subtraction modulo 2^64
		}
		s = s[end+1:]
	}
}

func evaluateTerm(t string, regs *Registers) (uint64, error) {
	if name, ok := strings.CutPrefix(t, registerPrefix); ok {
		if regs == nil {
			return 0, fmt.Errorf("%s: %w", t, errNoContext)
		}
		return regs.Register(name)
	}
	return parseNumber(t)
}

func parseNumber(t string) (uint64, error) {
	lower := strings.ToLower(t)
	base, digits := 16, strings.TrimPrefix(lower, hexPrefix)
	if d, ok := strings.CutPrefix(lower, decimalPrefix); ok {
		base, digits = 10, d
	}
	digits = strings.ReplaceAll(digits, addressSplit, "")
	v, err := strconv.ParseUint(digits, base, 64)
	if digits == "" || err != nil {
		return 0, fmt.Errorf("%q is not a number", t)
	}
	return v, nil
}

// parseCount parses a count argument: an expression, optionally with
// WinDbg's L prefix (L20 = 0x20 items).
func parseCount(s string, regs *Registers) (uint64, error) {
	if len(s) > len(countPrefix) && strings.EqualFold(s[:len(countPrefix)], countPrefix) {
		s = s[len(countPrefix):]
	}
	return Evaluate(s, regs)
}
