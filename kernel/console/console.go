// Package console is the kernel's serial console: the `kd> ` prompt with
// line editing, a registry of commands that other packages extend, and the
// boot-time script from the kernel command line's run= key.
//
// Commands run in an ordinary goroutine (not trap context), so they may
// allocate, print with fmt and block.
package console

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
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

// Register adds c; registering a name twice is a programming error.
func Register(c Command) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := commands[c.Name]; dup {
		panic("console: command registered twice: " + c.Name)
	}
	commands[c.Name] = c
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

// Execute runs one command line (a command and its arguments).
func Execute(w io.Writer, line string) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return
	}
	mu.Lock()
	c, ok := commands[fields[0]]
	mu.Unlock()
	if !ok {
		fmt.Fprintf(w, "%s: unknown command (try help)\n", fields[0])
		return
	}
	if err := guard(c, func() error { return c.Run(w, fields[1:]) }); err != nil {
		if errors.Is(err, ErrUsage) {
			fmt.Fprintf(w, "usage: %s %s\n", c.Name, c.Args)
			return
		}
		fmt.Fprintf(w, "%s: %v\n", c.Name, err)
	}
}

// RunScript runs the ;-separated commands of script, echoing each after the
// prompt as if typed.
func RunScript(w io.Writer, script string) {
	for _, line := range strings.Split(script, ";") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		fmt.Fprintf(w, "%s%s\n", Prompt, line)
		Execute(w, line)
	}
}

// Control characters the line editor handles.
const (
	keyBackspace = 0x08
	keyDelete    = 0x7F
	keyCtrlC     = 0x03
	keyCtrlU     = 0x15
)

// ReadLine reads one line from r, echoing to w, with backspace, ^U (erase
// line) and ^C (discard line).
func ReadLine(r *bufio.Reader, w io.Writer) (string, error) {
	var line []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return string(line), err
		}
		switch {
		case c == '\r' || c == '\n':
			io.WriteString(w, "\n")
			return string(line), nil
		case c == keyBackspace || c == keyDelete:
			if len(line) > 0 {
				line = line[:len(line)-1]
				io.WriteString(w, "\b \b")
			}
		case c == keyCtrlU:
			io.WriteString(w, strings.Repeat("\b \b", len(line)))
			line = line[:0]
		case c == keyCtrlC:
			io.WriteString(w, "^C\n")
			return "", nil
		case c >= ' ' && c < keyDelete:
			line = append(line, c)
			w.Write([]byte{c})
		}
	}
}

// Serve is the interactive console: prompt, read, execute, until r ends.
func Serve(r io.Reader, w io.Writer) {
	br := bufio.NewReader(r)
	for {
		io.WriteString(w, Prompt)
		line, err := ReadLine(br, w)
		Execute(w, line)
		if err != nil {
			return
		}
	}
}

func init() {
	Register(Command{Name: "help", Help: "list the commands", Run: func(w io.Writer, _ []string) error {
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
