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

// ErrUsage is returned by a command given the wrong arguments; Execute then
// prints the command's synopsis.
var ErrUsage = errors.New("usage")

// Execute runs one command line (a command and its arguments).
func Execute(w io.Writer, line string) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return
	}
	c, ok := Lookup(fields[0])
	if !ok {
		fmt.Fprintf(w, "%s: unknown command (try help)\n", fields[0])
		return
	}
	if err := c.Run(w, fields[1:]); err != nil {
		if errors.Is(err, ErrUsage) {
			fmt.Fprintf(w, "usage: %s %s\n", c.Name, c.Args)
			return
		}
		fmt.Fprintf(w, "%s: %v\n", c.Name, err)
	}
}

// SplitCommands cuts a line into its ';'-separated commands, dropping
// empty ones.
func SplitCommands(line string) []string {
	var out []string
	for _, c := range strings.Split(line, ";") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// RunScript runs the ;-separated commands of script, echoing each after the
// prompt as if typed.
func RunScript(w io.Writer, script string) {
	for _, line := range SplitCommands(script) {
		fmt.Fprintf(w, "%s%s\n", Prompt, line)
		Execute(w, line)
	}
}

// Serve is the interactive console: prompt, read, execute, until r ends.
func Serve(r io.Reader, w io.Writer) {
	var e Editor
	br := bufio.NewReader(r)
	for {
		io.WriteString(w, Prompt)
		line, err := e.ReadLine(br, w)
		for _, c := range SplitCommands(line) {
			Execute(w, c)
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
