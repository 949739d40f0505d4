// The ramdisk console command: load, write, read, stat, leak and unload
// one disk, the way a driver is exercised from a test harness. Loading and
// unloading also enter and leave the loaded-module list (kernel/ldr), as
// starting and stopping a driver service does on NT, so `lm` shows the
// driver and its tags.
//
// The loaded disk is a package variable guarded by loadedMu; the console
// runs commands one at a time, but tests may call Execute from several
// goroutines.

package ramdisk

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"ntgo/kernel/console"
	"ntgo/kernel/ldr"
	"ntgo/mm/pool"
)

// The driver's entry in the loaded-module list.
const (
	moduleName    = "ramdisk"
	modulePackage = "ntgo/drivers/ramdisk"
)

// defaultSize is the disk size `ramdisk load` uses without an argument.
const defaultSize = 1 << 20

var (
	loadedMu sync.Mutex
	loaded   *Disk
)

var (
	errNotLoaded = errors.New("not loaded (ramdisk load)")
	errLoaded    = errors.New("already loaded")
)

func init() {
	console.Register(console.Command{Name: "ramdisk",
		Args: "load [bytes] | write <off> <text> | read <off> <n> | stat | leak [bytes] | unload",
		Help: "sample driver: a RAM disk behind a request queue",
		Run:  run})
}

// Limits of the command's counts: a read is printed, a leak is one pool
// allocation.
const (
	maxRead = 1 << 16
	maxLeak = 1 << 20
)

// bounded parses a size or count argument in [1, hi].
func bounded(arg string, hi uint64) (uintptr, error) {
	v, err := console.Bounded(arg, 1, hi)
	return uintptr(v), err
}

func run(w io.Writer, args []string) error {
	if len(args) == 0 {
		return console.ErrUsage
	}
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if args[0] == "load" {
		return load(w, args[1:])
	}
	if loaded == nil {
		return errNotLoaded
	}
	switch {
	case args[0] == "write" && len(args) >= 3:
		off, err := console.Address(args[1])
		if err != nil {
			return err
		}
		text := strings.Join(args[2:], " ")
		if st := loaded.Write(off, []byte(text)); st.IsError() {
			return st
		}
		fmt.Fprintf(w, "wrote %d bytes at %#x\n", len(text), off)
	case args[0] == "read" && len(args) == 3:
		off, err := console.Address(args[1])
		if err != nil {
			return err
		}
		n, err := bounded(args[2], maxRead)
		if err != nil {
			return err
		}
		data, st := loaded.Read(off, n)
		if st.IsError() {
			return st
		}
		fmt.Fprintf(w, "%q\n", data)
	case args[0] == "stat" && len(args) == 1:
		writeStats(w, loaded.Stat())
	case args[0] == "leak" && len(args) <= 2:
		n := uintptr(defaultLeak)
		if len(args) == 2 {
			var err error
			if n, err = bounded(args[1], maxLeak); err != nil {
				return err
			}
		}
		if !loaded.Leak(n) {
			return errors.New("leak: allocation failed")
		}
		fmt.Fprintf(w, "leaked %d bytes under tag %v\n", n, tagData)
	case args[0] == "unload" && len(args) == 1:
		leaks := loaded.Unload()
		loaded = nil
		ldr.Unload(moduleName)
		writeLeaks(w, leaks)
	default:
		return console.ErrUsage
	}
	return nil
}

// defaultLeak is what `ramdisk leak` leaks without an argument.
const defaultLeak = 100

func load(w io.Writer, args []string) error {
	if loaded != nil {
		return errLoaded
	}
	size := uintptr(defaultSize)
	switch len(args) {
	case 0:
	case 1:
		var err error
		if size, err = bounded(args[0], MaxSize); err != nil {
			return err
		}
	default:
		return console.ErrUsage
	}
	d, st := Load(size)
	if st.IsError() {
		return st
	}
	if st := ldr.Load(ldr.Module{Name: moduleName, Package: modulePackage, Tags: Tags}); st.IsError() {
		d.Unload()
		return st
	}
	loaded = d
	fmt.Fprintf(w, "ramdisk loaded: %d bytes\n", d.Stat().Size)
	return nil
}

func writeStats(w io.Writer, s Stats) {
	fmt.Fprintf(w, "size %d, extents %d (%d bytes), reads %d, writes %d, errors %d\n",
		s.Size, s.Extents, s.StorageBytes, s.Reads, s.Writes, s.Errors)
	r := s.Requests
	fmt.Fprintf(w, "request lookaside: allocates %d, misses %d, frees %d, free misses %d, depth %d/%d\n",
		r.TotalAllocates, r.AllocateMisses, r.TotalFrees, r.FreeMisses, r.Depth, r.MaximumDepth)
	for _, tag := range Tags {
		fmt.Fprintf(w, "  %v %8d bytes\n", tag, s.BytesByTag[tag])
	}
}

func writeLeaks(w io.Writer, leaks []pool.TagStat) {
	if len(leaks) == 0 {
		fmt.Fprintln(w, "ramdisk unloaded: no leaks")
		return
	}
	fmt.Fprintln(w, "ramdisk unloaded: LEAKS")
	for _, l := range leaks {
		fmt.Fprintf(w, "  %v %d allocations, %d bytes outstanding\n", l.Tag, l.Outstanding(), l.Bytes())
	}
}
