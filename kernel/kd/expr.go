// Address expressions over a Target: the console's evaluator (its syntax in
// kernel/console/expr.go) with the names a debugger knows, @registers from
// the thread being looked at and function names from the Target's symbols
// when they can be looked up by name (SymbolTable).

package kd

import (
	"errors"
	"fmt"

	"ntgo/kernel/console"
)

// addressSplit is WinDbg's backtick between the halves of an address.
const addressSplit = "`"

// halfAddressBits is where FormatAddress puts WinDbg's backtick.
const halfAddressBits = 32

// FormatAddress prints a 64-bit address as WinDbg does: two 8-digit halves
// joined by a backtick.
func FormatAddress(a uint64) string {
	return fmt.Sprintf("%08x%s%08x", a>>halfAddressBits, addressSplit, uint32(a))
}

// SymbolTable is a Symbols that also finds a function by name; symbols
// without it name addresses only.
type SymbolTable interface {
	Symbols
	// Address returns the entry of the function with the full name
	// (ntgo/mm.cmdPte).
	Address(name string) (uintptr, bool)
}

var (
	errNoContext       = errors.New("no register context")
	errUnknownRegister = errors.New("no such register")
)

// registerNames resolves @registers from one register set (nil: none)
// and function names from a symbol table (nil: none).
type registerNames struct {
	regs    *Registers
	symbols SymbolTable
}

// Names is what an expression resolves against: regs (nil: no thread) and
// symbols (nil: no names), for targets that are not a whole Target.
func Names(regs *Registers, symbols SymbolTable) console.Names {
	return registerNames{regs, symbols}
}

func (n registerNames) Register(name string) (uint64, error) {
	if n.regs == nil {
		return 0, errNoContext
	}
	v, err := n.regs.Register(name)
	if err != nil {
		return 0, errUnknownRegister
	}
	return v, nil
}

func (n registerNames) Symbol(name string) (uint64, bool) {
	if n.symbols == nil {
		return 0, false
	}
	a, ok := n.symbols.Address(name)
	return uint64(a), ok
}

// targetNames resolves against a Target as it is when the expression is
// evaluated: the registers of the thread it looks at, and its symbols.
type targetNames struct{ t *Target }

func (n targetNames) Register(name string) (uint64, error) {
	return registerNames{regs: n.t.Registers()}.Register(name)
}

func (n targetNames) Symbol(name string) (uint64, bool) {
	st, ok := n.t.symbols().(SymbolTable)
	if !ok {
		return 0, false
	}
	a, ok := st.Address(name)
	return uint64(a), ok
}

// Names is what t's expressions resolve against.
func (t *Target) Names() console.Names { return targetNames{t} }
