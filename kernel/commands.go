package kernel

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"

	"ntgo/kernel/console"
	"ntgo/mm/physmem"
)

func init() {
	console.Register(console.Command{Name: "ver", Help: "build, Go version, CPU, memory", Run: cmdVer})
	console.Register(console.Command{Name: "poweroff", Args: "[code]", Help: "power off with exit status code (default 0)", Run: cmdPoweroff})
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
