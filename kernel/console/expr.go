// Expressions: the one way every command reads a number, an address, a
// count, a size or a duration, so all of them follow kd's convention.
//
// Numbers are hexadecimal by default, as in kd: 10 is sixteen, 0x10 too,
// 0n10 is ten. WinDbg's backtick may split a 64-bit address into halves
// (fffff680`00000000). A literal wider than 64 bits is refused; arithmetic
// wraps modulo 2^64 as kd's does (-1 is ffffffff`ffffffff).
//
// Grammar (precedence climbing, no spaces inside one argument):
//
//	sum     = product { ("+" | "-") product }
//	product = unary { "*" unary }
//	unary   = [ "-" | "+" ] unary | primary
//	primary = number | "@" register | symbol | "(" sum ")"
//
// A symbol is a package-qualified Go name (ntgo/mm.cmdPte,
// ntgo/mm/pool.(*System).Allocate): a word holding a dot. A word without
// one is a number; that is also how kd reads "add" (a number). Registers
// and symbols come from the Names the caller passes; the live console's
// are installed once at boot (SetNames).
//
// Errors name the offending text and the reason in one format,
// "<text>: <reason>", which Execute prefixes with the command's name.

package console

import (
	"errors"
	"strconv"
	"strings"
	"sync"
)

// Names resolves the names an expression may hold.
type Names interface {
	// Register returns @name's value, or an error if there is no such
	// register or no thread context to read it from.
	Register(name string) (uint64, error)
	// Symbol returns the address of a function by its full name.
	Symbol(name string) (uint64, bool)
}

// Prefixes and separators of the number syntax.
const (
	hexPrefix      = "0x"
	decimalPrefix  = "0n"
	registerPrefix = '@'
	addressSplit   = "`"
)

// Convention is the number syntax in one line, for help and messages.
const Convention = "hex by default, 0n for decimal"

var (
	errNotNumber  = errors.New("not a number (" + Convention + ")")
	errTooLarge   = errors.New("too large (over 64 bits)")
	errNoSymbol   = errors.New("no such symbol")
	errSyntax     = errors.New("not an expression (terms joined by + - *, parentheses, no spaces)")
	errNoRegister = errors.New("registers need a thread context (none here)")
)

// ArgError is a refused argument: the text refused and why.
type ArgError struct {
	Text string
	Err  error
}

func (e *ArgError) Error() string { return e.Text + ": " + e.Err.Error() }
func (e *ArgError) Unwrap() error { return e.Err }

func refuse(text string, err error) error { return &ArgError{Text: text, Err: err} }

// Evaluate computes expression s with names (nil: no registers, no
// symbols).
func Evaluate(s string, names Names) (uint64, error) {
	p := parser{s: s, names: names}
	if s == "" {
		return 0, refuse(`""`, errSyntax)
	}
	v, err := p.sum()
	if err == nil && p.pos < len(s) {
		err = refuse(s, errSyntax)
	}
	return v, err
}

type parser struct {
	s     string
	pos   int
	names Names
}

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) sum() (uint64, error) {
	v, err := p.product()
	for err == nil {
		op := p.peek()
		if op != '+' && op != '-' {
			return v, nil
		}
		p.pos++
		var w uint64
		if w, err = p.product(); op == '+' {
			v += w
		} else {
			v -= w
		}
	}
	return 0, err
}

func (p *parser) product() (uint64, error) {
	v, err := p.unary()
	for err == nil && p.peek() == '*' {
		p.pos++
		var w uint64
		w, err = p.unary()
		v *= w
	}
	return v, err
}

func (p *parser) unary() (uint64, error) {
	switch p.peek() {
	case '-':
		p.pos++
		v, err := p.unary()
		return -v, err
	case '+':
		p.pos++
		return p.unary()
	}
	return p.primary()
}

func (p *parser) primary() (uint64, error) {
	switch c := p.peek(); {
	case c == '(':
		p.pos++
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		if p.peek() != ')' {
			return 0, refuse(p.s, errSyntax)
		}
		p.pos++
		return v, nil
	case c == registerPrefix:
		p.pos++
		name := p.word()
		if p.names == nil {
			return 0, refuse("@"+name, errNoRegister)
		}
		v, err := p.names.Register(name)
		if err != nil {
			return 0, refuse("@"+name, err)
		}
		return v, nil
	}
	w := p.word()
	if w == "" {
		return 0, refuse(p.s, errSyntax)
	}
	if strings.Contains(w, ".") {
		if p.names != nil {
			if v, ok := p.names.Symbol(w); ok {
				return v, nil
			}
		}
		return 0, refuse(w, errNoSymbol)
	}
	return parseNumber(w)
}

// word scans a number, register or symbol: letters, digits, _ ` . / and,
// after a dot, a method's parenthesized receiver (pkg.(*T).M) or a
// generic's brackets.
func (p *parser) word() string {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z',
			c == '_', c == '`', c == '.', c == '/':
			p.pos++
		case (c == '(' || c == '[') && p.pos > start && p.s[p.pos-1] == '.':
			end := strings.IndexByte(p.s[p.pos:], closing(c))
			if end < 0 {
				return p.s[start:p.pos]
			}
			p.pos += end + 1
		default:
			return p.s[start:p.pos]
		}
	}
	return p.s[start:]
}

func closing(open byte) byte {
	if open == '(' {
		return ')'
	}
	return ']'
}

// parseNumber reads one literal: hex, 0x hex or 0n decimal, backticks
// allowed between digits.
func parseNumber(t string) (uint64, error) {
	lower := strings.ToLower(t)
	base, digits := 16, strings.TrimPrefix(lower, hexPrefix)
	if d, ok := strings.CutPrefix(lower, decimalPrefix); ok {
		base, digits = 10, d
	}
	if strings.HasPrefix(digits, addressSplit) || strings.HasSuffix(digits, addressSplit) {
		return 0, refuse(t, errNotNumber)
	}
	digits = strings.ReplaceAll(digits, addressSplit, "")
	v, err := strconv.ParseUint(digits, base, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, refuse(t, errTooLarge)
	case digits == "" || err != nil:
		return 0, refuse(t, errNotNumber)
	}
	return v, nil
}

var (
	namesMu sync.Mutex
	names   Names
)

// SetNames installs the registers and symbols the live console's commands
// evaluate their arguments with (the kernel's debugger does, at boot).
func SetNames(n Names) {
	namesMu.Lock()
	defer namesMu.Unlock()
	names = n
}

func installedNames() Names {
	namesMu.Lock()
	defer namesMu.Unlock()
	return names
}
