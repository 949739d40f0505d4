package kernel

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"ntgo/kernel/console"
	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
)

func init() {
	console.Register(console.Command{Name: "ver", Help: "build, Go version, CPU, memory", Run: cmdVer})
	console.Register(console.Command{Name: "poweroff", Args: "[status]", Help: "power off: the launcher exits with status 0..0xff (default 0)", Run: cmdPoweroff})
	console.Register(console.Command{Name: ".sleep", Args: "<ms>", Help: "wait ms milliseconds (at most 0n600000; ^C stops it), as WinDbg's .sleep", Run: cmdSleep})
}

// maxSleep is the longest .sleep.
const maxSleep = 10 * time.Minute

func cmdVer(w io.Writer, _ []string) error {
	total, free := MemoryInfo()
	src, hz := ClockInfo()
	fmt.Fprintf(w, "ntgo kernel, build %s\n", BuildRevision())
	fmt.Fprintf(w, "Go %s %s/%s, GOMAXPROCS %d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "CPU: %s (hypervisor %s), %s\n", CPUBrand(), Hypervisor(), ProcessorSummary())
	fmt.Fprintf(w, "clock: %s, TSC %d.%03d MHz; random: %s\n", src, hz/1_000_000, hz/1000%1000, RandomSource())
	fmt.Fprintf(w, "memory: %d KiB physical, %d KiB free\n", total*physmem.PageSize/1024, free*physmem.PageSize/1024)
	return nil
}

// maxStatus is the largest exit status poweroff takes.
const maxStatus = 0xff

func cmdPoweroff(w io.Writer, args []string) error {
	var code uint64
	if len(args) > 1 {
		return console.ErrUsage
	}
	if len(args) == 1 {
		var err error
		if code, err = console.Bounded(args[0], 0, maxStatus); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "powering off (status %d)\n", code)
	os.Exit(int(code))
	return nil
}

func cmdSleep(w io.Writer, args []string) error {
	if len(args) != 1 {
		return console.ErrUsage
	}
	d, err := console.Duration(args[0], time.Millisecond, maxSleep)
	if err != nil {
		return err
	}
	return console.Sleep(d)
}

func init() {
	console.Register(console.Command{Name: "bugcheck", Args: "<code> [p1 [p2 [p3 [p4]]]]", Help: "stop the system with KeBugCheckEx (a 32-bit code, 64-bit parameters)", Run: cmdBugcheck})
	console.Register(console.Command{Name: ".crash", Help: "stop with MANUALLY_INITIATED_CRASH (0xE2), as WinDbg's .crash", Run: cmdCrash})
	console.Register(console.Command{Name: "touch", Args: "read|write|exec <va>", Help: "access va on purpose (to see the page-fault handler's verdict)", Run: cmdTouch})
	console.Register(console.Command{Name: "panic", Args: "[message]", Help: "raise a Go panic in the console goroutine", Run: cmdPanic})
}

func cmdBugcheck(w io.Writer, args []string) error {
	if len(args) < 1 || len(args) > 5 {
		return console.ErrUsage
	}
	code, err := console.Bounded(args[0], 0, math.MaxUint32)
	if err != nil {
		return err
	}
	var p [4]uintptr
	for i, a := range args[1:] {
		if p[i], err = console.Address(a); err != nil {
			return err
		}
	}
	bugcheck.KeBugCheckEx(bugcheck.Code(code), p[0], p[1], p[2], p[3])
	return nil
}

func cmdCrash(w io.Writer, args []string) error {
	if len(args) != 0 {
		return console.ErrUsage
	}
	bugcheck.KeBugCheckEx(bugcheck.ManuallyInitiatedCrash, 0, 0, 0, 0)
	return nil
}

// touch accesses memory the way its first argument says. The execute case
// calls the address as a function with no arguments.
func cmdTouch(w io.Writer, args []string) error {
	if len(args) != 2 {
		return console.ErrUsage
	}
	addr, err := console.Address(args[1])
	if err != nil {
		return err
	}
	p := (*byte)(unsafePointerAt(uintptr(addr)))
	switch args[0] {
	case "read":
		fmt.Fprintf(w, "%#x: %#02x\n", addr, *p)
	case "write":
		storeByte(p, *p)
		fmt.Fprintf(w, "%#x: written\n", addr)
	case "exec":
		// A func value points at a closure whose first word is the code
		// address: build one that holds addr.
		closure := &addr
		fn := *(*func())(unsafe.Pointer(&closure))
		fn()
	default:
		return console.ErrUsage
	}
	return nil
}

func cmdPanic(w io.Writer, args []string) error {
	panic("console: " + strings.Join(args, " "))
}

// storeByte writes v at p; a call the compiler cannot see through, so a
// store of the value already there is not optimized away.
//
//go:noinline
func storeByte(p *byte, v byte) { *p = v }
