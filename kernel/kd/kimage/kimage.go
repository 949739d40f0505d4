// Package kimage reads the kernel's ELF file on the host, for the crash
// dump viewer (cmd/ntgo-dump): its symbols, so that addresses in a dump
// print as function+offset with file and line as on the live screen, and
// its read-only segments (code and constants), so that u and db work over
// kernel text, which a dump does not carry.
//
// Symbols come from the Go line table (.gopclntab, debug/gosym), the table
// the running kernel's runtime.FuncForPC reads, so a name is the same on
// both sides; inlined calls are expanded from the DWARF the kernel keeps
// (a DW_TAG_inlined_subroutine per inlined call, with its call site), as
// the runtime's CallersFrames expands them, so the viewer's frames are the
// live screen's. Writable segments are left
// out of Memory: the file holds their initial values, not the state at the
// stop, and showing those would be a lie.
//
// This package runs on the host only; the kernel never links it.
package kimage

import (
	"debug/dwarf"
	"debug/elf"
	"debug/gosym"
	"fmt"

	"ntgo/kernel/kd"
)

// Image is a kernel ELF file opened for symbols and text.
type Image struct {
	Path     string
	table    *gosym.Table
	dwarf    *dwarf.Data // nil without DWARF: no inline expansion
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
	if d, err := f.DWARF(); err == nil {
		im.dwarf = d
	}
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

// Frames implements kd.Symbols: the innermost frame's file and line from
// the line table, each enclosing one at the call site DWARF records.
func (im *Image) Frames(pc uintptr) []kd.Frame {
	file, line, fn := im.table.PCToLine(uint64(pc))
	if fn == nil {
		return nil
	}
	chain := im.inlined(uint64(pc))
	if len(chain) == 0 || chain[0].function != fn.Name {
		chain = []call{{function: fn.Name}}
	}
	frames := make([]kd.Frame, len(chain))
	for i := range chain {
		f := kd.Frame{Function: chain[len(chain)-1-i].function, Entry: uintptr(fn.Entry), File: file, Line: line}
		if i > 0 {
			site := chain[len(chain)-i]
			f.File, f.Line = site.file, site.line
		}
		frames[i] = f
	}
	return frames
}

// call is one function on an inline chain: its name and, for an inlined
// one, where its caller called it.
type call struct {
	function string
	file     string
	line     int
}

// inlined is the chain of functions executing at pc, outermost (the real
// function) first, from DWARF; nil if DWARF does not describe pc.
func (im *Image) inlined(pc uint64) []call {
	if im.dwarf == nil {
		return nil
	}
	r := im.dwarf.Reader()
	cu, err := r.SeekPC(pc)
	if err != nil {
		return nil
	}
	var files []*dwarf.LineFile
	if lr, err := im.dwarf.LineReader(cu); err == nil && lr != nil {
		files = lr.Files()
	}
	var chain []call
	for {
		e, err := r.Next()
		if err != nil || e == nil || e.Tag == 0 {
			return chain
		}
		holds := im.holds(e, pc)
		switch {
		case holds && e.Tag == dwarf.TagSubprogram && chain == nil:
			chain = []call{{function: im.name(e)}}
		case holds && e.Tag == dwarf.TagInlinedSubroutine && chain != nil:
			c := call{function: im.name(e)}
			if i, ok := e.Val(dwarf.AttrCallFile).(int64); ok && i >= 0 && int(i) < len(files) && files[i] != nil {
				c.file = files[i].Name
			}
			if l, ok := e.Val(dwarf.AttrCallLine).(int64); ok {
				c.line = int(l)
			}
			chain = append(chain, c)
		case holds && e.Tag == dwarf.TagLexDwarfBlock && chain != nil:
		default:
			if chain != nil && e.Tag == dwarf.TagSubprogram {
				return chain
			}
			if e.Children {
				r.SkipChildren()
			}
			continue
		}
		if !e.Children {
			return chain
		}
	}
}

// holds reports whether entry e's code ranges cover pc.
func (im *Image) holds(e *dwarf.Entry, pc uint64) bool {
	ranges, err := im.dwarf.Ranges(e)
	if err != nil {
		return false
	}
	for _, r := range ranges {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}

// name is e's function name, from its abstract origin for an inlined call.
func (im *Image) name(e *dwarf.Entry) string {
	if n, ok := e.Val(dwarf.AttrName).(string); ok {
		return n
	}
	off, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
	if !ok {
		return ""
	}
	r := im.dwarf.Reader()
	r.Seek(off)
	origin, err := r.Next()
	if err != nil || origin == nil {
		return ""
	}
	n, _ := origin.Val(dwarf.AttrName).(string)
	return n
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
