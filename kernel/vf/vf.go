// Package vf is Driver Verifier's front end: the `verifier` console
// command, shaped like verifier.exe, the `verifier=` kernel command-line
// key for boot-time settings, and the table of which code is which
// driver's that the memory manager's verifier attributes calls with.
//
// The checks themselves are mm/verifier's. It cannot build the table: the
// function table is the debugger's (kd.RuntimeSymbols, from the pclntab)
// and the module list is kernel/ldr's, both layers above the memory
// manager. So this package, at the kernel's layer, turns the functions
// into spans (one per run of one package's functions, each naming the
// driver module that package is) and hands them down with
// verifier.SetCode, once, the first time anything is verified: the image
// does not change while it runs, and a driver's package is its module
// whether loaded or not (ldr's entry for a package names it; a package
// under ntgo/drivers/ that ldr does not list yet is named by its last
// path element, which is what its load will call it).
//
//	verifier                      the settings, counters and outstanding allocations
//	verifier /flags F /driver D.. verify drivers D with flags F (hex: 1 special pool,
//	verifier /flags F /all        2 force IRQL checking, 4 low resources, 8 pool tracking)
//	  /underrun                   special pool aligned to verify start
//	  /faults [P [G]]             low-resource simulation: probability P/10000 (0n600)
//	                              after G verified calls (0n100); implies flag 4
//	  /seed S                     the simulation's seed
//	verifier /reset               verify nothing
//
// Numbers follow the console's rule (hex by default, 0n for decimal). Each
// command replaces the settings whole and takes effect at once, as
// verifier.exe's /volatile does.
package vf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/kernel/ldr"
	"ntgo/mm/verifier"
)

// BootKey is the kernel command-line key: verifier="/flags 9 /driver ramdisk".
const BootKey = "verifier"

func init() {
	console.Register(console.Command{Name: "verifier",
		Args: "[/flags F] [/driver D...|/all] [/underrun] [/faults [P [G]]] [/seed S] | /reset",
		Help: "Driver Verifier: verify drivers (no arguments: settings, counters, outstanding allocations)",
		Run:  run})
}

// Boot applies the boot key, if set (kernel/start.go calls it before the
// drivers start).
func Boot() error {
	v := os.Getenv(BootKey)
	if v == "" {
		return nil
	}
	return apply(strings.Fields(v))
}

func run(w io.Writer, args []string) error {
	if len(args) == 0 || len(args) == 1 && strings.EqualFold(args[0], "/query") {
		verifier.WriteReport(w)
		return nil
	}
	if err := apply(args); err != nil {
		return err
	}
	s := verifier.Current()
	fmt.Fprintf(w, "verifier: flags %#x (%v) for %s\n", uint32(s.Flags), s.Flags, who(s))
	return nil
}

func who(s verifier.Settings) string {
	switch {
	case s.Flags == 0:
		return "no driver"
	case s.All:
		return "all drivers"
	}
	return strings.Join(s.Drivers, " ")
}

// apply parses args and applies them.
func apply(args []string) error {
	s, err := parse(args)
	if err != nil {
		return err
	}
	if s.Flags != 0 {
		known := setCode()
		for _, d := range s.Drivers {
			if !slices.Contains(known, d) {
				return fmt.Errorf("verifier: no driver %q (drivers: %s)", d, strings.Join(known, " "))
			}
		}
	}
	if st := verifier.Apply(s); st.IsError() {
		return fmt.Errorf("verifier: %v", st)
	}
	return nil
}

var errNoFlags = errors.New("verifier: /driver and /all need /flags (or /faults)")

// parse reads verifier.exe-style options.
func parse(args []string) (verifier.Settings, error) {
	s := verifier.Settings{Probability: verifier.DefaultProbability, Grace: verifier.DefaultGrace}
	reset := false
	for i := 0; i < len(args); i++ {
		opt := strings.ToLower(args[i])
		more := func() bool { return i+1 < len(args) && !strings.HasPrefix(args[i+1], "/") }
		number := func(hi uint64) (uint64, error) {
			if !more() {
				return 0, fmt.Errorf("verifier: %s needs a number", opt)
			}
			i++
			return console.Bounded(args[i], 0, hi)
		}
		var v uint64
		var err error
		switch opt {
		case "/reset":
			reset = true
		case "/flags":
			v, err = number(1<<32 - 1)
			s.Flags |= verifier.Flags(v)
		case "/all":
			s.All = true
		case "/driver":
			if !more() {
				return s, errors.New("verifier: /driver needs a driver name")
			}
			for more() {
				i++
				s.Drivers = append(s.Drivers, args[i])
			}
		case "/underrun":
			s.Underrun = true
		case "/faults":
			s.Flags |= verifier.LowResources
			if more() {
				v, err = number(10000)
				s.Probability = uint32(v)
			}
			if err == nil && more() {
				s.Grace, err = number(1<<63 - 1)
			}
		case "/seed":
			s.Seed, err = number(1<<64 - 1)
		default:
			return s, console.ErrUsage
		}
		if err != nil {
			return s, err
		}
	}
	switch {
	case reset:
		return verifier.Settings{}, nil
	case s.Flags == 0:
		return s, errNoFlags
	case !s.All && len(s.Drivers) == 0:
		return s, errors.New("verifier: name the drivers (/driver D...) or /all")
	}
	return s, nil
}

var (
	codeOnce sync.Once
	modules  []string
)

// setCode hands the image's text to the verifier (once) and returns the
// driver modules it found.
func setCode() []string {
	codeOnce.Do(func() {
		fs, end := kd.RuntimeSymbols{}.Functions()
		spans := Spans(fs, end, ldr.Modules())
		for _, sp := range spans {
			if sp.Module != "" && !slices.Contains(modules, sp.Module) {
				modules = append(modules, sp.Module)
			}
		}
		slices.Sort(modules)
		verifier.SetCode(spans)
	})
	return modules
}

// driversPrefix is where the image's drivers live.
const driversPrefix = "ntgo/drivers/"

// Spans turns functions (by entry, the text ending at end) into one span
// per run of one package's functions, naming each driver package's module:
// ldr's entry for it, else the package's last path element.
func Spans(fs []kd.FunctionEntry, end uintptr, mods []ldr.Module) []verifier.Span {
	var out []verifier.Span
	for i, f := range fs {
		hi := end
		if i+1 < len(fs) {
			hi = fs[i+1].Entry
		}
		pkg := packageOf(f.Name)
		if n := len(out); n > 0 && out[n-1].Package == pkg && out[n-1].Hi == f.Entry {
			out[n-1].Hi = hi
			continue
		}
		out = append(out, verifier.Span{Lo: f.Entry, Hi: hi, Package: pkg, Module: moduleOf(pkg, mods)})
	}
	return out
}

// moduleOf is the driver module whose package is pkg, or "".
func moduleOf(pkg string, mods []ldr.Module) string {
	for _, m := range mods {
		if m.Package == pkg {
			return m.Name
		}
	}
	if rest, ok := strings.CutPrefix(pkg, driversPrefix); ok && !strings.Contains(rest, "/") {
		return rest
	}
	return ""
}

// packageOf is the package of a function's full name:
// ntgo/drivers/ramdisk.(*Disk).Unload is ntgo/drivers/ramdisk, and a
// generic instance's type arguments (in brackets) do not count.
func packageOf(name string) string {
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	slash := strings.LastIndexByte(name, '/') + 1
	if dot := strings.IndexByte(name[slash:], '.'); dot >= 0 {
		return name[:slash+dot]
	}
	return name
}
