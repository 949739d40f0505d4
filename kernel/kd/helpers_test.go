package kd

import (
	"debug/elf"
	"os"
	"runtime"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
)

// pageMemory is a sparse address space: the pages it holds are mapped,
// every other address is refused.
type pageMemory map[uintptr][]byte

func (m pageMemory) Read(addr uintptr, b []byte) bool {
	for i := range b {
		a := addr + uintptr(i)
		page, ok := m[a&^physmem.PageMask]
		if !ok {
			return false
		}
		b[i] = page[a&physmem.PageMask]
	}
	return true
}

// mapPage maps a page at va filled by fill(offset).
func (m pageMemory) mapPage(va uintptr, fill func(int) byte) {
	page := make([]byte, physmem.PageSize)
	for i := range page {
		page[i] = fill(i)
	}
	m[va] = page
}

// textMemory is this test binary's code, read from its ELF file: real
// instructions at their real addresses, without touching process memory.
type textMemory struct {
	base uintptr
	text []byte
}

func (m textMemory) Read(addr uintptr, b []byte) bool {
	if addr < m.base || addr-m.base+uintptr(len(b)) > uintptr(len(m.text)) {
		return false
	}
	copy(b, m.text[addr-m.base:])
	return true
}

func loadText(t *testing.T) textMemory {
	t.Helper()
	if arch.Bare() {
		t.Skip("no executable file inside the kernel")
	}
	path, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC {
		t.Skipf("test binary is %v: its addresses are not its load addresses", f.Type)
	}
	sec := f.Section(".text")
	text, err := sec.Data()
	if err != nil {
		t.Fatal(err)
	}
	return textMemory{base: uintptr(sec.Addr), text: text}
}

// callerLine is the line its caller is at: a source of truth for line
// numbers that does not go through Symbols.
func callerLine() uintptr {
	_, _, line, _ := runtime.Caller(1)
	return uintptr(line)
}

// crashSite raises BAD_POOL_CALLER with the line of the call as its second
// parameter.
//
//go:noinline
func crashSite() {
	bugcheck.KeBugCheckEx(bugcheck.BadPoolCaller, 7, callerLine(), 0, 0xdead)
}

// crash runs crashSite and returns its record and the stack the bugcheck
// handler saw, as the kernel's handler collects it.
func crash(t *testing.T) (*bugcheck.Record, []uintptr) {
	t.Helper()
	var stack []uintptr
	const skipToKeBugCheckEx = 2 // runtime.Callers and the handler
	old := bugcheck.SetHandler(func(r *bugcheck.Record) {
		pcs := make([]uintptr, 32)
		stack = pcs[:runtime.Callers(skipToKeBugCheckEx, pcs)]
		panic(r)
	})
	defer bugcheck.SetHandler(old)
	rec := bugcheck.Catch(crashSite)
	if rec == nil {
		t.Fatal("crashSite raised no bugcheck")
	}
	return rec, stack
}
