// Package kimage reads the kernel's ELF file on the host, for the crash
// dump viewer (cmd/ntgo-dump): its symbols, so that addresses in a dump
// print as function+offset with file and line as on the live screen, and
// its read-only segments (code and constants), so that u and db work over
// kernel text, which a dump does not carry.
//
// Symbols come from the Go line table (.gopclntab, debug/gosym), the table
// the running kernel's runtime.FuncForPC reads, so a name is the same on
// both sides. gosym does not expand inlined calls: a frame is the real
// function with the innermost file and line. Writable segments are left
// out of Memory: the file holds their initial values, not the state at the
// stop, and showing those would be a lie.
//
// This package runs on the host only; the kernel never links it.
package kimage

import (
	"debug/elf"
	"debug/gosym"
	"fmt"

	"ntgo/kernel/kd"
)

// Image is a kernel ELF file opened for symbols and text.
type Image struct {
	Path     string
	table    *gosym.Table
	segments []segment
}

// segment is a read-only loaded segment's bytes at its address.
type segment struct {
	addr uint64
	data []byte
}

// Open reads the kernel ELF at path (build/kernel.linked or kernel.elf).
func Open(path string) (*Image, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil, fmt.Errorf("%s: no Go line table (.gopclntab): not a Go kernel", path)
	}
	b, err := pcln.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	table, err := gosym.NewTable(nil, gosym.NewLineTable(b, text.Addr))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	im := &Image{Path: path, table: table}
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_W != 0 || p.Filesz == 0 {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			return nil, fmt.Errorf("%s: segment at %#x: %w", path, p.Vaddr, err)
		}
		im.segments = append(im.segments, segment{p.Vaddr, data})
	}
	return im, nil
}

// Frames implements kd.Symbols.
func (im *Image) Frames(pc uintptr) []kd.Frame {
	file, line, fn := im.table.PCToLine(uint64(pc))
	if fn == nil {
		return nil
	}
	return []kd.Frame{{Function: fn.Name, Entry: uintptr(fn.Entry), File: file, Line: line}}
}

// Read implements kd.Memory over the read-only segments.
func (im *Image) Read(addr uintptr, b []byte) bool {
	a := uint64(addr)
	for _, s := range im.segments {
		if a >= s.addr && a-s.addr <= uint64(len(s.data)) && uint64(len(b)) <= uint64(len(s.data))-(a-s.addr) {
			copy(b, s.data[a-s.addr:])
			return true
		}
	}
	return false
}
