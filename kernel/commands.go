package kernel

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"ntgo/kernel/bugcheck"
	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/mm/physmem"
)

func init() {
	console.Register(console.Command{Name: "ver", Help: "build, Go version, CPU, memory", Run: cmdVer})
	console.Register(console.Command{Name: "poweroff", Args: "[status]", Help: "power off: the launcher exits with status 0..255 (default 0)", Run: cmdPoweroff})
}

func cmdVer(w io.Writer, _ []string) error {
	total, free := MemoryInfo()
	src, hz := ClockInfo()
	fmt.Fprintf(w, "ntgo kernel, build %s\n", BuildRevision())
	fmt.Fprintf(w, "Go %s %s/%s, GOMAXPROCS %d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "CPU: %s (hypervisor %s), 1 processor\n", CPUBrand(), Hypervisor())
	fmt.Fprintf(w, "clock: %s, TSC %d.%03d MHz; random: %s\n", src, hz/1_000_000, hz/1000%1000, RandomSource())
	fmt.Fprintf(w, "memory: %d KiB physical, %d KiB free\n", total*physmem.PageSize/1024, free*physmem.PageSize/1024)
	return nil
}

func cmdPoweroff(w io.Writer, args []string) error {
	code := 0
	if len(args) > 1 {
		return console.ErrUsage
	}
	if len(args) == 1 {
		c, err := strconv.ParseUint(args[0], 0, 8)
		if err != nil {
			return console.ErrUsage
		}
		code = int(c)
	}
	fmt.Fprintf(w, "powering off (status %d)\n", code)
	os.Exit(code)
	return nil
}

func init() {
	console.Register(console.Command{Name: "bugcheck", Args: "<code> [p1 [p2 [p3 [p4]]]]", Help: "stop the system with KeBugCheckEx (hex numbers)", Run: cmdBugcheck})
	console.Register(console.Command{Name: ".crash", Help: "stop with MANUALLY_INITIATED_CRASH (0xE2), as WinDbg's .crash", Run: cmdCrash})
	console.Register(console.Command{Name: "touch", Args: "read|write|exec <va>", Help: "access va on purpose (to see the page-fault handler's verdict)", Run: cmdTouch})
	console.Register(console.Command{Name: "panic", Args: "[message]", Help: "raise a Go panic in the console goroutine", Run: cmdPanic})
}

func cmdBugcheck(w io.Writer, args []string) error {
	if len(args) < 1 || len(args) > 5 {
		return console.ErrUsage
	}
	var v [5]uintptr
	for i, a := range args {
		n, err := kd.Evaluate(a, nil)
		if err != nil {
			return err
		}
		v[i] = uintptr(n)
	}
	bugcheck.KeBugCheckEx(bugcheck.Code(v[0]), v[1], v[2], v[3], v[4])
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
	addr, err := kd.Evaluate(args[1], nil)
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
