// The kd> console commands over a Target: memory display (db dw dd dq),
// disassembly (u), registers (r), stack (k), nearest symbol (ln) and
// expression evaluation (?). Arguments are expressions (expr.go); counts are
// hexadecimal like every number, optionally written WinDbg's way (L20).

package kd

import (
	"fmt"
	"io"
	"strings"

	"ntgo/kernel/console"
)

// defaultUnassemble is how many instructions u shows without a count.
const defaultUnassemble = 8

// maxUnassemble caps u's count.
const maxUnassemble = 0x1000

// Register adds the debugger's commands to the console, and makes t's
// registers and symbols the names of every command's expressions; the
// kernel calls it once at boot with its Target.
func Register(t *Target) {
	console.SetNames(t.Names())
	for _, c := range Commands(t) {
		console.Register(c)
	}
}

// Commands returns the debugger's commands over t.
func Commands(t *Target) []console.Command {
	var cs []console.Command
	for _, u := range units {
		cs = append(cs, console.Command{
			Name: u.command, Args: "<addr> [count]",
			Help: fmt.Sprintf("display memory as %s (count in %s, hex; default %#x bytes)", u.name, u.name, defaultDisplayBytes),
			Run:  func(w io.Writer, args []string) error { return t.displayCommand(w, u, args) },
		})
	}
	return append(cs,
		console.Command{Name: "u", Args: "<addr> [count]", Help: "disassemble count instructions (default 8)", Run: t.unassemble},
		console.Command{Name: "r", Args: "[register]", Help: "registers of the current thread", Run: t.registers},
		console.Command{Name: "k", Help: "call stack of the current thread", Run: t.stack},
		console.Command{Name: "ln", Args: "<addr>", Help: "nearest symbol: function, file and line", Run: t.nearest},
		console.Command{Name: "?", Args: "<expr>", Help: "evaluate an expression: its value in decimal and hex", Run: t.evaluate},
		console.Command{Name: "!analyze", Args: "-v", Help: "the bugcheck explained: code, parameters, faulting IP, stack, probable culprit", Run: t.analyzeCommand},
	)
}

// Registers is the current thread's registers for @register terms,
// nil without a thread.
func (t *Target) Registers() *Registers {
	ctx, ok := t.context()
	if !ok {
		return nil
	}
	return &ctx.Registers
}

// AddressArgument is the one argument of a command that takes an address
// (or a frame number): an expression over names.
func AddressArgument(args []string, names console.Names) (uintptr, error) {
	if len(args) != 1 {
		return 0, console.ErrUsage
	}
	v, err := console.Evaluate(args[0], names)
	return uintptr(v), err
}

// addressAndCount parses "<addr> [count]", the count 1 to maxCount.
func (t *Target) addressAndCount(args []string, defaultCount, maxCount uint64) (uintptr, uint64, error) {
	if len(args) < 1 || len(args) > 2 {
		return 0, 0, console.ErrUsage
	}
	names := t.Names()
	addr, err := console.Evaluate(args[0], names)
	if err != nil {
		return 0, 0, err
	}
	count := defaultCount
	if len(args) == 2 {
		if count, err = console.CountWith(args[1], 1, maxCount, names); err != nil {
			return 0, 0, err
		}
	}
	return uintptr(addr), count, nil
}

func (t *Target) displayCommand(w io.Writer, u unit, args []string) error {
	addr, count, err := t.addressAndCount(args, uint64(defaultDisplayBytes/u.size), maxCount(u))
	if err != nil {
		return err
	}
	return display(w, t.Memory, u, addr, count)
}

func (t *Target) unassemble(w io.Writer, args []string) error {
	addr, count, err := t.addressAndCount(args, defaultUnassemble, maxUnassemble)
	if err != nil {
		return err
	}
	ins := t.Disassemble(addr, int(count))
	if len(ins) == 0 {
		return fmt.Errorf("code at %s %w", FormatAddress(uint64(addr)), errUnmapped)
	}
	writeInstructions(w, t.symbols(), ins, -1)
	return nil
}

func (t *Target) registers(w io.Writer, args []string) error {
	if len(args) > 1 {
		return console.ErrUsage
	}
	ctx, ok := t.context()
	if !ok {
		return errNoContext
	}
	if len(args) == 0 {
		ctx.Registers.Write(w)
		return nil
	}
	v, err := ctx.Registers.Register(args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s=%016x\n", strings.ToLower(args[0]), v)
	return nil
}

func (t *Target) stack(w io.Writer, args []string) error {
	if len(args) != 0 {
		return console.ErrUsage
	}
	ctx, ok := t.context()
	if !ok {
		return errNoContext
	}
	writeStack(w, t.symbols(), ctx.Stack)
	return nil
}

func (t *Target) nearest(w io.Writer, args []string) error {
	if len(args) != 1 {
		return console.ErrUsage
	}
	addr, err := console.Evaluate(args[0], t.Names())
	if err != nil {
		return err
	}
	writeLocation(w, t.symbols(), uintptr(addr))
	return nil
}

// evaluate is kd's ?: "Evaluate expression: 4198400 = 00000000`00401000".
// Spaces inside the expression are allowed here, as kd allows them.
func (t *Target) evaluate(w io.Writer, args []string) error {
	if len(args) == 0 {
		return console.ErrUsage
	}
	v, err := console.Evaluate(strings.Join(args, ""), t.Names())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Evaluate expression: %d = %s\n", int64(v), FormatAddress(v))
	return nil
}
