package kd

import (
	"fmt"
	"ntgo/nt/arch"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"ntgo/nt/bugcheck"
)

// section returns the lines of screen between the header line and the next
// blank line.
func section(t *testing.T, screen, header string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(screen, "\n"+header+"\n")
	if !ok {
		t.Fatalf("no %s section in\n%s", header, screen)
	}
	body, _, _ := strings.Cut(rest, "\n\n")
	return strings.Split(body, "\n")
}

func markedLine(t *testing.T, lines []string) string {
	t.Helper()
	var marked []string
	for _, l := range lines {
		if strings.HasPrefix(l, marker) {
			marked = append(marked, l)
		}
	}
	if len(marked) != 1 {
		t.Fatalf("%d marked lines in\n%s", len(marked), strings.Join(lines, "\n"))
	}
	return marked[0]
}

func TestStopScreenForSoftwareBugcheck(t *testing.T) {
	mem := loadText(t)
	rec, stack := crash(t)
	// The kernel's registers for a call to KeBugCheckEx: rip is the return
	// address into the caller.
	regs := Registers{RAX: 0x1111, R15: 0xf15, RIP: uint64(rec.PC), RFLAGS: arch.RflagsIF | arch.RflagsZF, CS: 0x8, SS: 0x10, CR2: 0xfffff68000001000, CR3: 0x1000}
	var b strings.Builder
	WriteStopScreen(&b, &Target{Memory: mem}, rec, Context{Registers: regs, Stack: stack})
	screen := b.String()
	line := rec.Params[1]

	stop := fmt.Sprintf("*** STOP: 0x000000C2 (0x0000000000000007,0x%016X,0x0000000000000000,0x000000000000DEAD) BAD_POOL_CALLER", line)
	if !strings.Contains(screen, stop) {
		t.Errorf("no %q in\n%s", stop, screen)
	}
	info := bugcheck.Lookup(bugcheck.BadPoolCaller)
	args := section(t, screen, "Arguments:")
	for i, want := range []string{
		"Arg1: 0000000000000007, " + info.Params[0],
		fmt.Sprintf("Arg2: %016x, %s", line, info.Params[1]),
		"Arg4: 000000000000dead, " + info.Params[3],
	} {
		if !strings.Contains(strings.Join(args, "\n"), want) {
			t.Errorf("argument %d: no %q in %q", i, want, args)
		}
	}

	fault := strings.Join(section(t, screen, "FAULTING_IP:"), "\n")
	if !strings.Contains(fault, "ntgo/kernel/kd.crashSite+0x") || !strings.Contains(fault, fmt.Sprintf("helpers_test.go:%d", line)) {
		t.Errorf("FAULTING_IP does not name crashSite at helpers_test.go:%d:\n%s", line, fault)
	}

	stackText := strings.Join(section(t, screen, "STACK_TEXT:"), "\n")
	for _, want := range []string{"ntgo/nt/bugcheck.KeBugCheckEx+0x", "ntgo/kernel/kd.crashSite+0x", "ntgo/nt/bugcheck.Catch"} {
		if !strings.Contains(stackText, want) {
			t.Errorf("STACK_TEXT lacks %s:\n%s", want, stackText)
		}
	}
	if !regexp.MustCompile(`(?m)^01 ntgo/kernel/kd\.crashSite\+0x[0-9a-f]+ \[.*helpers_test\.go:` + fmt.Sprint(line) + `\]$`).MatchString(stackText) {
		t.Errorf("frame 01 is not crashSite at its line:\n%s", stackText)
	}

	regText := strings.Join(section(t, screen, "REGISTERS:"), "\n")
	for _, want := range []string{"rax=0000000000001111", "r15=0000000000000f15", fmt.Sprintf("rip=%016x", rec.PC), "iopl=0 nv up ei pl zr na po nc", "cs=0008  ss=0010  efl=00000240", "cr2=fffff68000001000", "cr3=0000000000001000"} {
		if !strings.Contains(regText, want) {
			t.Errorf("REGISTERS lacks %q:\n%s", want, regText)
		}
	}

	// The marked instruction is the call that raised the bugcheck: the one
	// that ends at the record's return address.
	dis := section(t, screen, "DISASSEMBLY:")
	marked := markedLine(t, dis)
	if !strings.Contains(marked, "CALL ntgo/nt/bugcheck.KeBugCheckEx(SB)") {
		t.Errorf("marked line is not the call to KeBugCheckEx: %q", marked)
	}
	if !strings.HasPrefix(dis[0], "ntgo/kernel/kd.crashSite+0x") || !strings.HasSuffix(dis[0], ":") {
		t.Errorf("listing does not open with crashSite's label: %q", dis[0])
	}
	if !strings.Contains(screen, "exit status 0x42 (66)") {
		t.Errorf("no exit status line in\n%s", screen)
	}
}

func TestStopScreenMarksTrapRIP(t *testing.T) {
	mem := loadText(t)
	target := &Target{Memory: mem}
	entry := runtime.FuncForPC(funcPC(crashSite)).Entry()
	code := target.Disassemble(entry, 4)
	if len(code) != 4 {
		t.Fatalf("crashSite's code not readable: %v", code)
	}
	rip := code[2].PC
	rec := &bugcheck.Record{Code: bugcheck.PageFaultInNonpagedArea, Params: [4]uintptr{0xdead0000, 0, rip, 0}}
	var b strings.Builder
	trap := &Trap{Vector: 14, Name: "#PF page fault", ErrorCode: 2}
	WriteStopScreen(&b, target, rec, Context{Registers: Registers{RIP: uint64(rip)}, Trap: trap})
	if !strings.Contains(b.String(), "\nREGISTERS:\ntrap 14 (#PF page fault), error code 0x2\n") {
		t.Fatalf("no trap line before the registers:\n%s", b.String())
	}
	dis := section(t, b.String(), "DISASSEMBLY:")
	marked := markedLine(t, dis)
	if !strings.Contains(marked, FormatAddress(uint64(rip))) || !strings.HasSuffix(marked, code[2].Text) {
		t.Fatalf("marked %q, want the instruction at %#x (%s)", marked, rip, code[2].Text)
	}
	// Decoded forward from the entry: both earlier instructions are shown,
	// then the marked one.
	var idx int
	for i, l := range dis {
		if l == marked {
			idx = i
		}
	}
	if idx < 2 || !strings.Contains(dis[idx-2], FormatAddress(uint64(code[0].PC))) || !strings.Contains(dis[idx-1], FormatAddress(uint64(code[1].PC))) {
		t.Fatalf("instructions before RIP missing:\n%s", strings.Join(dis, "\n"))
	}
	if !strings.Contains(b.String(), "PAGE_FAULT_IN_NONPAGED_AREA") {
		t.Fatal("no code name on the screen")
	}
}

func TestStopScreenRIPInsideAnInstruction(t *testing.T) {
	mem := loadText(t)
	target := &Target{Memory: mem}
	entry := runtime.FuncForPC(funcPC(crashSite)).Entry()
	first, ok := target.Decode(entry)
	if !ok || len(first.Bytes) < 2 {
		t.Fatalf("first instruction of crashSite: %+v", first)
	}
	rip := entry + 1
	var b strings.Builder
	WriteStopScreen(&b, target, &bugcheck.Record{Code: bugcheck.UnexpectedKernelModeTrap},
		Context{Registers: Registers{RIP: uint64(rip)}, Trap: &Trap{Vector: 6, Name: "#UD invalid opcode"}})
	dis := section(t, b.String(), "DISASSEMBLY:")
	if !strings.Contains(dis[0], "did not reach it") {
		t.Errorf("no note that the walk failed: %q", dis[0])
	}
	if marked := markedLine(t, dis); !strings.Contains(marked, FormatAddress(uint64(rip))) {
		t.Errorf("marked %q, want %#x", marked, rip)
	}
}

func TestStopScreenUnreadableCode(t *testing.T) {
	const wild = 0xdead0000
	var b strings.Builder
	WriteStopScreen(&b, &Target{Memory: pageMemory{}}, &bugcheck.Record{Code: bugcheck.KmodeExceptionNotHandled},
		Context{Registers: Registers{RIP: wild}, Stack: []uintptr{wild + 1}, Trap: &Trap{Vector: 13, Name: "#GP general protection"}})
	screen := b.String()
	for _, want := range []string{
		"code at 00000000`dead0000 is not readable",
		"00000000`dead0000 (no Go function holds this address)",
		"00 00000000`dead0001",
		"KMODE_EXCEPTION_NOT_HANDLED",
		"exit status 0x1e (30)",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("no %q in\n%s", want, screen)
		}
	}
}

func funcPC(f func()) uintptr { return reflect.ValueOf(f).Pointer() }
