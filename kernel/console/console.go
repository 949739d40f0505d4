// Package console is the kernel's serial console: the `kd> ` prompt with
// line editing and history (editor.go), a registry of commands that other
// packages extend, the boot-time script from the kernel command line's run=
// key, and the one argument syntax every command parses its numbers with
// (expr.go, args.go).
//
// Command names are matched without regard to case, as kd matches them
// (!PTE, Help): the registry keys are lower case. A line may hold several
// commands separated by ';'.
//
// A command line is split into words by Fields and a script into command
// lines at `;` by SplitScript, both quote-aware: double quotes group (the
// quotes are removed), a backslash makes the next character literal, so
// `ramdisk write 0 "a; b"` is one command with the words ramdisk, write, 0
// and `a; b`. Execute reports a failing command (unknown, usage, or the
// command's own error) by printing why and returning it; RunScript stops
// at the first failure.
//
// Commands run in an ordinary goroutine (not trap context), so they may
// allocate, print with fmt and block. A long-running one polls Interrupted
// (or sleeps with Sleep) so that ^C typed on the console stops it.
package console

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Prompt is what the console prints when it waits for a command.
const Prompt = "kd> "

// Command is one console command.
type Command struct {
	Name string
	Args string // argument synopsis, e.g. "<addr> [count]"
	Help string // one line
	Run  func(w io.Writer, args []string) error
}

var (
	mu       sync.Mutex
	commands = map[string]Command{}
)

// Register adds c; registering a name twice (in any case) is a programming
// error.
func Register(c Command) {
	mu.Lock()
	defer mu.Unlock()
	key := strings.ToLower(c.Name)
	if _, dup := commands[key]; dup {
		panic("console: command registered twice: " + c.Name)
	}
	commands[key] = c
}

// Lookup finds the command named name, in any case.
func Lookup(name string) (Command, bool) {
	mu.Lock()
	defer mu.Unlock()
	c, ok := commands[strings.ToLower(name)]
	return c, ok
}

// Commands returns the registered commands sorted by name.
func Commands() []Command {
	mu.Lock()
	defer mu.Unlock()
	cs := make([]Command, 0, len(commands))
	for _, c := range commands {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	return cs
}

// guard runs each command's routine (run calls c.Run). The kernel installs
// the system-thread checks here (SetGuard): NT's stop for a routine that
// panics or returns at raised IRQL.
var guard = func(c Command, run func() error) error { return run() }

// SetGuard installs g to run every command. Call it at boot.
func SetGuard(g func(c Command, run func() error) error) { guard = g }

// ErrUsage is returned by a command given the wrong arguments; Execute then
// prints the command's synopsis.
var ErrUsage = errors.New("usage")

var (
	// ErrUnknownCommand is Execute's error for a name no command has.
	ErrUnknownCommand = errors.New("unknown command (try help)")
	// ErrUnterminatedQuote is Fields' and SplitScript's error for a line
	// whose double quote is not closed.
	ErrUnterminatedQuote = errors.New("unterminated quote")
)

// What scan found at one byte of a line.
type part int

const (
	plain     part = iota // may separate: a space, a ;
	literal               // quoted or escaped: never separates
	quoteMark             // a double quote, removed
)

// scan walks line with the quoting rules (package comment), calling each
// with the index of every byte but the escaping backslashes.
func scan(line string, each func(i int, p part)) error {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && i+1 < len(line):
			i++
			each(i, literal)
		case c == '"':
			quoted = !quoted
			each(i, quoteMark)
		case quoted:
			each(i, literal)
		default:
			each(i, plain)
		}
	}
	if quoted {
		return ErrUnterminatedQuote
	}
	return nil
}

// Fields splits a command line into words at spaces and tabs outside
// quotes, removing quotes and escapes (`""` is an empty word).
func Fields(line string) ([]string, error) {
	var words []string
	var word []byte
	inWord := false
	err := scan(line, func(i int, p part) {
		switch {
		case p == quoteMark:
			inWord = true
		case p == plain && (line[i] == ' ' || line[i] == '\t'):
			if inWord {
				words = append(words, string(word))
			}
			word, inWord = word[:0], false
		default:
			word, inWord = append(word, line[i]), true
		}
	})
	if inWord {
		words = append(words, string(word))
	}
	return words, err
}

// SplitScript splits a script into command lines at each `;` outside
// quotes, keeping the quotes for Fields; the lines are trimmed, empty ones
// dropped.
func SplitScript(script string) ([]string, error) {
	var lines []string
	start := 0
	add := func(end int) {
		if l := strings.TrimSpace(script[start:end]); l != "" {
			lines = append(lines, l)
		}
	}
	err := scan(script, func(i int, p part) {
		if p == plain && script[i] == ';' {
			add(i)
			start = i + 1
		}
	})
	add(len(script))
	return lines, err
}

// Execute runs one command line (a command and its arguments). When the
// command fails it prints why (the synopsis, for a usage error) and returns
// the error; an empty line does nothing.
func Execute(w io.Writer, line string) error {
	fields, err := Fields(line)
	if err != nil {
		fmt.Fprintf(w, "%v\n", err)
		return err
	}
	if len(fields) == 0 {
		return nil
	}
	c, ok := Lookup(fields[0])
	if !ok {
		fmt.Fprintf(w, "%s: %v\n", fields[0], ErrUnknownCommand)
		return fmt.Errorf("%s: %w", fields[0], ErrUnknownCommand)
	}
	if err := guard(c, func() error { return c.Run(w, fields[1:]) }); err != nil {
		if errors.Is(err, ErrUsage) {
			fmt.Fprintf(w, "usage: %s %s\n", c.Name, c.Args)
			return fmt.Errorf("%w: %s %s", ErrUsage, c.Name, c.Args)
		}
		fmt.Fprintf(w, "%s: %v\n", c.Name, err)
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	return nil
}

// ScriptError is RunScript's error: which command of the script failed.
type ScriptError struct {
	N    int    // its position in the script, from 1
	Line string // the command line
	Err  error  // Execute's error
}

func (e *ScriptError) Error() string {
	return fmt.Sprintf("command %d (%s) failed: %v", e.N, e.Line, e.Err)
}

func (e *ScriptError) Unwrap() error { return e.Err }

// RunScript runs the ;-separated commands of script, echoing each after the
// prompt as if typed, and stops at the first that fails (a *ScriptError).
func RunScript(w io.Writer, script string) error {
	lines, err := SplitScript(script)
	if err != nil {
		fmt.Fprintf(w, "script: %v\n", err)
		return fmt.Errorf("script: %w", err)
	}
	for i, line := range lines {
		fmt.Fprintf(w, "%s%s\n", Prompt, line)
		if err := Execute(w, line); err != nil {
			return &ScriptError{N: i + 1, Line: line, Err: err}
		}
	}
	return nil
}

// Serve is the interactive console: prompt, read, execute, until r ends.
func Serve(r io.Reader, w io.Writer) {
	var e Editor
	br := bufio.NewReader(r)
	for {
		io.WriteString(w, Prompt)
		line, err := e.ReadLine(br, w)
		if cmds, splitErr := SplitScript(line); splitErr != nil {
			fmt.Fprintf(w, "%v\n", splitErr)
		} else {
			for _, c := range cmds {
				Execute(w, c)
			}
		}
		if err != nil {
			return
		}
	}
}

// ^C: the kernel counts the ^C bytes that reach the serial port as they
// arrive, before anyone reads them; the line editor counts those it reads.
// A ^C received but not yet read by the editor was typed while a command
// ran (or just before it began, ahead of the command's line being read to
// its end): it interrupts that command, and the editor later reads it as
// the discard of a line, which settles the count.
var (
	interruptCount func() uint64
	interruptsRead atomic.Uint64
)

// ErrInterrupted is what a command stopped by ^C returns.
var ErrInterrupted = errors.New("interrupted (^C)")

// SetInterruptSource installs the count of ^C received (the kernel's serial
// input, at boot; tests give their own); those already received count as
// read.
func SetInterruptSource(count func() uint64) {
	interruptCount = count
	if count != nil {
		interruptsRead.Store(count())
	}
}

// Interrupted reports whether a ^C has arrived that the line editor has not
// read: the running command should stop.
func Interrupted() bool {
	return interruptCount != nil && interruptCount() > interruptsRead.Load()
}

// interruptPoll is how often Sleep looks for ^C.
const interruptPoll = 20 * time.Millisecond

// Sleep waits for d, or returns ErrInterrupted as soon as ^C arrives.
func Sleep(d time.Duration) error {
	for end := time.Now().Add(d); ; {
		if Interrupted() {
			return ErrInterrupted
		}
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		time.Sleep(min(left, interruptPoll))
	}
}

// helpHeader states the console's conventions above the command list.
var helpHeader = []string{
	"Numbers: " + Convention + " (0x hex too), ` inside 64-bit addresses (fffff680`00000000).",
	"Arguments are expressions: + - * ( ), @register, function names (ntgo/mm.cmdPte); L<count>.",
	"Commands ignore case; ';' separates commands; up/down arrows recall lines; ^C stops a command.",
}

func init() {
	Register(Command{Name: "help", Help: "list the commands", Run: func(w io.Writer, _ []string) error {
		for _, l := range helpHeader {
			fmt.Fprintln(w, l)
		}
		for _, c := range Commands() {
			syn := c.Name
			if c.Args != "" {
				syn += " " + c.Args
			}
			fmt.Fprintf(w, "  %-28s %s\n", syn, c.Help)
		}
		return nil
	}})
}
