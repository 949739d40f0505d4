// Command ntgo-dump reads a crash dump written by the kernel on a bugcheck
// (kernel/kd/dump; make run DUMP=build/crash.dmp, or ntgo-qemu -dump) and
// runs debugger commands over it, offline:
//
//	ntgo-dump crash.dmp                     the bugcheck screen
//	ntgo-dump crash.dmp '!analyze -v' '!vm' '!poolused' 'u @rip' k
//	ntgo-dump -kernel build/kernel.linked crash.dmp lm
//	ntgo-dump -h                            usage and every command
//
// Each argument after the file is one command line, run through the same
// console registry and dispatcher as the kernel's kd> prompt, over the
// same views (kernel/kd, kernel/kd/mmext). Symbols and kernel text come
// from the kernel's ELF (kernel/kd/kimage): -kernel names it, otherwise
// the viewer looks next to the dump and in build/ for kernel.linked or
// kernel.elf, and uses it only if its code matches the code page the dump
// holds (the caller of KeBugCheckEx). Without one, addresses print bare
// and u/db see only the pages the dump holds.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/kernel/kd/dump"
	"ntgo/kernel/kd/kimage"
)

// usageStatus is the exit status for a bad command line or unreadable dump.
const usageStatus = 2

// kernelNames are the kernel ELF files the viewer looks for, in order.
var kernelNames = []string{"kernel.linked", "kernel.elf"}

func main() {
	kernelFlag := flag.String("kernel", "", "the kernel ELF the dump was written by (default: kernel.linked or kernel.elf next to the dump, then in build/)")
	flag.Usage = func() { usage(flag.CommandLine.Output()) }
	flag.Parse()
	if flag.NArg() < 1 {
		usage(os.Stderr)
		os.Exit(usageStatus)
	}
	file := flag.Arg(0)
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(usageStatus)
	}
	d, err := dump.Read(f)
	f.Close()
	switch {
	case d == nil:
		fmt.Fprintf(os.Stderr, "%s: %v\n", file, err)
		os.Exit(usageStatus)
	case err != nil: // truncated: the whole sections are usable
		fmt.Fprintf(os.Stderr, "%s: %v; showing the sections that arrived whole\n", file, err)
	}
	defer d.Close()
	im, err := openKernel(*kernelFlag, file)
	if err == nil {
		var checked bool
		if checked, err = d.MatchKernel(im); err == nil && !checked {
			fmt.Fprintf(os.Stderr, "%s: the dump holds no code to check it against\n", im.Path)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v: addresses print bare\n", err)
		if *kernelFlag != "" {
			os.Exit(usageStatus)
		}
	} else {
		d.Kernel = im
	}

	commands := flag.Args()[1:]
	if len(commands) == 0 {
		kd.WriteStopScreen(os.Stdout, d.Target(), &d.Record, d.Context)
		return
	}
	for _, c := range d.Commands() {
		console.Register(c)
	}
	for _, line := range commands {
		fmt.Printf("%s%s\n", console.Prompt, line)
		console.Execute(os.Stdout, line)
	}
}

// openKernel opens the kernel ELF given, or the first found next to the
// dump or in build/.
func openKernel(given, dumpFile string) (*kimage.Image, error) {
	if given != "" {
		return kimage.Open(given)
	}
	for _, dir := range []string{filepath.Dir(dumpFile), "build"} {
		for _, name := range kernelNames {
			path := filepath.Join(dir, name)
			if _, err := os.Stat(path); err == nil {
				return kimage.Open(path)
			}
		}
	}
	return nil, errors.New("no kernel ELF next to the dump or in build/ (give -kernel)")
}

// usage prints the command line and every command the viewer has.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ntgo-dump [-kernel kernel.linked] dump.bin [command ...]")
	fmt.Fprintln(w, "\nWith no command, ntgo-dump prints the bugcheck screen. Flags:")
	flag.CommandLine.SetOutput(w)
	flag.PrintDefaults()
	fmt.Fprintln(w, "\nCommands (one argument each; numbers in hex, 0n for decimal):")
	for _, c := range (&dump.Dump{}).Commands() {
		console.Register(c)
	}
	console.Execute(w, "help")
}
