// Disassembly through Memory with golang.org/x/arch's x86asm decoder.
//
// x86 instructions have variable length and cannot be decoded backwards:
// from an arbitrary address one cannot tell where the previous instruction
// starts. So the instructions before an address are found by decoding
// forward from the entry of the function that holds it (Symbols knows the
// entry) and keeping the last few. If that walk does not land exactly on
// the address (it is no instruction boundary, or the function holds data),
// the walk is abandoned and decoding starts at the address itself, with no
// context before it; Listing says which happened.

package kd

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"ntgo/mm/physmem"
)

// Syntax is the assembler syntax of the listing.
type Syntax uint8

const (
	GoSyntax    Syntax = iota // Go/Plan 9: MOVQ 0x8(SP), AX
	IntelSyntax               // Intel: mov rax, qword ptr [rsp+0x8]
)

// Decoder limits.
const (
	maxInstructionLen = 15 // Intel SDM vol. 2, 2.3.11: longest legal instruction
	longMode          = 64 // x86asm.Decode's mode for 64-bit code
	// maxWalkBytes bounds the forward walk from a function's entry: a
	// larger distance means the entry is not this code's, and reading that
	// much through Memory at crash time would be slow.
	maxWalkBytes = 1 << 16
)

// Instruction is one decoded instruction.
type Instruction struct {
	PC    uintptr
	Bytes []byte
	Text  string // badInstruction if the bytes decode to nothing
}

// badInstruction stands for a byte that starts no valid instruction; the
// listing moves on one byte.
const badInstruction = "(bad)"

// fetch reads the bytes of the instruction at pc: up to the longest
// instruction, fewer where the mapping ends. It returns nil if pc itself
// cannot be read.
func (t *Target) fetch(pc uintptr) []byte {
	var buf [maxInstructionLen]byte
	if t.Memory.Read(pc, buf[:]) {
		return buf[:]
	}
	toPageEnd := physmem.PageSize - pc%physmem.PageSize
	if toPageEnd < maxInstructionLen && t.Memory.Read(pc, buf[:toPageEnd]) {
		return buf[:toPageEnd]
	}
	return nil
}

// Decode decodes the instruction at pc; false if pc cannot be read.
func (t *Target) Decode(pc uintptr) (Instruction, bool) {
	src := t.fetch(pc)
	if src == nil {
		return Instruction{}, false
	}
	inst, err := x86asm.Decode(src, longMode)
	if err != nil {
		return Instruction{PC: pc, Bytes: src[:1], Text: badInstruction}, true
	}
	return Instruction{PC: pc, Bytes: src[:inst.Len], Text: t.format(inst, pc)}, true
}

func (t *Target) format(inst x86asm.Inst, pc uintptr) string {
	if t.Syntax == IntelSyntax {
		return x86asm.IntelSyntax(inst, uint64(pc), t.symbolName)
	}
	return x86asm.GoSyntax(inst, uint64(pc), t.symbolName)
}

// symbolName is x86asm's SymLookup: the function holding addr and its entry.
func (t *Target) symbolName(addr uint64) (string, uint64) {
	f, ok := outermost(t.symbols(), uintptr(addr))
	if !ok {
		return "", 0
	}
	return f.Function, uint64(f.Entry)
}

// Disassemble decodes up to n instructions from pc, stopping early at
// memory it cannot read.
func (t *Target) Disassemble(pc uintptr, n int) []Instruction {
	var out []Instruction
	for range n {
		in, ok := t.Decode(pc)
		if !ok {
			break
		}
		out = append(out, in)
		pc += uintptr(len(in.Bytes))
	}
	return out
}

// Listing is the code around one address.
type Listing struct {
	Instructions []Instruction
	At           int  // index of the instruction at the address; -1 if unreadable
	FromEntry    bool // the instructions before At come from a walk from the function's entry
}

// Around decodes up to before instructions preceding pc, the one at pc and
// up to after following it.
func (t *Target) Around(pc uintptr, before, after int) Listing {
	prev, fromEntry := t.walkFromEntry(pc, before)
	rest := t.Disassemble(pc, after+1)
	if len(rest) == 0 {
		return Listing{Instructions: prev, At: -1, FromEntry: fromEntry}
	}
	return Listing{Instructions: append(prev, rest...), At: len(prev), FromEntry: fromEntry}
}

// walkFromEntry decodes from the entry of pc's function up to pc and
// returns the last n instructions before pc, or false if the walk is not
// possible or does not land on pc.
func (t *Target) walkFromEntry(pc uintptr, n int) ([]Instruction, bool) {
	f, ok := outermost(t.symbols(), pc)
	if !ok || f.Entry > pc || pc-f.Entry > maxWalkBytes {
		return nil, false
	}
	var window []Instruction
	at := f.Entry
	for at < pc {
		in, ok := t.Decode(at)
		if !ok {
			return nil, false
		}
		if len(window) == n {
			window = window[1:]
		}
		if n > 0 {
			window = append(window, in)
		}
		at += uintptr(len(in.Bytes))
	}
	if at != pc {
		return nil, false
	}
	return window, true
}

// marker flags the instruction a listing is about.
const marker = "=>"

// writeInstructions prints instructions as WinDbg's u does, with a label
// line where the function changes, and marks the one at index mark (-1:
// none).
func writeInstructions(w io.Writer, s Symbols, ins []Instruction, mark int) {
	lastFunction := ""
	for i, in := range ins {
		f, ok := outermost(s, in.PC)
		if ok && f.Function != lastFunction {
			fmt.Fprintf(w, "%s:\n", Symbolize(s, in.PC))
			lastFunction = f.Function
		}
		prefix := strings.Repeat(" ", len(marker))
		if i == mark {
			prefix = marker
		}
		fmt.Fprintf(w, "%s %s %-20x %s\n", prefix, FormatAddress(uint64(in.PC)), in.Bytes, in.Text)
	}
}
