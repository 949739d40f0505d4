package kd

import (
	"bytes"
	"fmt"
	"ntgo/nt/arch"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"ntgo/kernel/console"
	"ntgo/kernel/console/commandtest"
	"ntgo/mm/physmem"
)

// A page of pattern bytes at a WinDbg-style kernel address, with nothing
// mapped after it.
const (
	testPage  = 0xfffff68000000000
	testAfter = testPage + physmem.PageSize
)

func patternMemory() pageMemory {
	m := pageMemory{}
	m.mapPage(testPage, func(i int) byte { return byte(i) })
	return m
}

// run executes one command line through the console's dispatcher, as the
// kd> prompt does, over the commands of t.
func run(t *testing.T, target *Target, line string) string {
	t.Helper()
	return commandtest.Run(t, Commands(target), line)
}

func TestDisplayBytes(t *testing.T) {
	target := &Target{Memory: patternMemory()}
	got := run(t, target, "db fffff680`00000030 l20")
	want := "fffff680`00000030  30 31 32 33 34 35 36 37-38 39 3a 3b 3c 3d 3e 3f  0123456789:;<=>?\n" +
		"fffff680`00000040  40 41 42 43 44 45 46 47-48 49 4a 4b 4c 4d 4e 4f  @ABCDEFGHIJKLMNO\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// A short last row keeps the ASCII column aligned; bytes outside
	// printable ASCII are dots.
	got = run(t, target, "db 0xfffff68000000000 3")
	if want := "fffff680`00000000  00 01 02" + strings.Repeat("   ", 13) + "  ...\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestDisplayUnits(t *testing.T) {
	target := &Target{Memory: patternMemory()}
	for _, c := range []struct{ line, want string }{
		{"dw fffff68000000010 8", "fffff680`00000010  1110 1312 1514 1716 1918 1b1a 1d1c 1f1e\n"},
		{"dd fffff68000000010 4", "fffff680`00000010  13121110 17161514 1b1a1918 1f1e1d1c\n"},
		{"dq fffff68000000010 2", "fffff680`00000010  17161514`13121110 1f1e1d1c`1b1a1918\n"},
		{"dq fffff68000000010 0n3", "fffff680`00000010  17161514`13121110 1f1e1d1c`1b1a1918\nfffff680`00000020  27262524`23222120\n"},
	} {
		if got := run(t, target, c.line); got != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.line, got, c.want)
		}
	}
	// Default: 0x80 bytes, eight rows, whatever the unit.
	for _, u := range units {
		out := run(t, target, u.command+" fffff680`00000000")
		if n := strings.Count(out, "\n"); n != defaultDisplayBytes/rowBytes {
			t.Errorf("%s without count: %d rows", u.command, n)
		}
	}
}

func TestDisplayRefusesUnmapped(t *testing.T) {
	target := &Target{Memory: patternMemory()}
	for _, cmd := range []string{"db", "dw", "dd", "dq"} {
		got := run(t, target, cmd+" fffff680`00001000")
		if got != "error: memory at fffff680`00001000 is not mapped" {
			t.Errorf("%s on an unmapped page: %q", cmd, got)
		}
	}
	// A range running off the mapped page shows the unmapped part as
	// question marks; a value straddling the boundary is unreadable whole.
	got := run(t, target, "dd fffff680`00000ff8 4")
	if want := "fffff680`00000ff8  fbfaf9f8 fffefdfc ???????? ????????\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got = run(t, target, "dd fffff680`00000ffe 2")
	if want := "fffff680`00000ffe  ???????? ????????\n"; got != want {
		t.Errorf("straddling: got %q, want %q", got, want)
	}
	got = run(t, target, "db fffff680`00000ffe 4")
	if want := "fffff680`00000ffe  fe ff ?? ??" + strings.Repeat("   ", 12) + "  ..??\n"; got != want {
		t.Errorf("db straddling: got %q, want %q", got, want)
	}
}

func TestDisplayArguments(t *testing.T) {
	target := &Target{Memory: patternMemory()}
	for line, want := range map[string]string{
		"db fffff680`00000000 0":       "error: 0: out of range (1 to 0x10000)",
		"dq fffff680`00000000 2001":    "error: 2001: out of range (1 to 0x2000)",
		"db zz":                        "error: zz: not a number (hex by default, 0n for decimal)",
		"db @rip":                      "error: @rip: no register context",
		"db fffff680`00000000 1 extra": "",
	} {
		got := run(t, target, line)
		if want == "" {
			if !strings.Contains(got, console.ErrUsage.Error()) {
				t.Errorf("%s: %q, want a usage error", line, got)
			}
			continue
		}
		if got != want {
			t.Errorf("%s: %q, want %q", line, got, want)
		}
	}
}

func TestRegisterExpressions(t *testing.T) {
	regs := Registers{RSP: testPage + 0x40, RIP: 0x401000}
	target := &Target{Memory: patternMemory(), Context: func() (Context, bool) { return Context{Registers: regs}, true }}
	if got, want := run(t, target, "dq @rsp+8 1"), "fffff680`00000048  4f4e4d4c`4b4a4948\n"; got != want {
		t.Errorf("dq @rsp+8: %q, want %q", got, want)
	}
	if got, want := run(t, target, "dq @rsp-0x10 1"), "fffff680`00000030  37363534`33323130\n"; got != want {
		t.Errorf("dq @rsp-0x10: %q, want %q", got, want)
	}
	if got, want := run(t, target, "r rip"), "rip=0000000000401000\n"; got != want {
		t.Errorf("r rip: %q, want %q", got, want)
	}
	if got := run(t, target, "r xmm0"); got != "error: xmm0: no such register" {
		t.Errorf("r xmm0: %q", got)
	}
}

func TestEvaluate(t *testing.T) {
	regs := &Registers{RBP: 0x1000, R12: 0x20}
	for in, want := range map[string]uint64{
		"fffff680`00000000":  0xfffff68000000000,
		"0xFFFFF68000000000": 0xfffff68000000000,
		"0x0000`00001234":    0x1234,
		"10":                 0x10,
		"0n10":               10,
		"@rbp+@r12-8":        0x1018,
		"@RBP":               0x1000,
		"0-1":                ^uint64(0),
		"ffffffffffffffff+2": 1,
	} {
		got, err := console.Evaluate(in, Names(regs, nil))
		if err != nil || got != want {
			t.Errorf("Evaluate(%q) = %#x, %v; want %#x", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0x", "g", "1+", "@", "@nope", "10000000000000000", "0n1f"} {
		if v, err := console.Evaluate(bad, Names(regs, nil)); err == nil {
			t.Errorf("Evaluate(%q) = %#x, want an error", bad, v)
		}
	}
}

func TestRegistersAndStackCommands(t *testing.T) {
	pcs := make([]uintptr, 8)
	pcs = pcs[:runtime.Callers(1, pcs)]
	regs := Registers{RAX: 1, RBX: 2, R8: 8, RIP: 0x401000, RFLAGS: arch.RflagsCF | arch.RflagsOF | arch.RflagsIF | arch.RflagsSF, CS: 8, SS: 0x10, CR0: 0x80050033, CR8: 2}
	target := &Target{Memory: pageMemory{}, Context: func() (Context, bool) { return Context{Registers: regs, Stack: pcs}, true }}
	want := "rax=0000000000000001 rbx=0000000000000002 rcx=0000000000000000\n" +
		"rdx=0000000000000000 rsi=0000000000000000 rdi=0000000000000000\n" +
		"rip=0000000000401000 rsp=0000000000000000 rbp=0000000000000000\n" +
		" r8=0000000000000008  r9=0000000000000000 r10=0000000000000000\n" +
		"r11=0000000000000000 r12=0000000000000000 r13=0000000000000000\n" +
		"r14=0000000000000000 r15=0000000000000000\n" +
		"iopl=0 ov up ei ng nz na po cy\n" +
		"cs=0008  ss=0010  efl=00000a81\n" +
		"cr0=0000000080050033 cr2=0000000000000000 cr3=0000000000000000\n" +
		"cr4=0000000000000000 cr8=0000000000000002\n"
	if got := run(t, target, "r"); got != want {
		t.Errorf("r:\n%s\nwant\n%s", got, want)
	}
	k := run(t, target, "k")
	_, file, _, _ := runtime.Caller(0)
	if !strings.HasPrefix(k, " # Call Site\n00 ntgo/kernel/kd.TestRegistersAndStackCommands+0x") || !strings.Contains(k, file) {
		t.Errorf("k:\n%s", k)
	}
	none := &Target{Memory: pageMemory{}}
	for _, cmd := range []string{"r", "k"} {
		if got := run(t, none, cmd); got != "error: no register context" {
			t.Errorf("%s without a thread: %q", cmd, got)
		}
	}
}

func TestUnassemble(t *testing.T) {
	mem := loadText(t)
	entry := funcPC(crashSite)
	for _, syntax := range []Syntax{GoSyntax, IntelSyntax} {
		target := &Target{Memory: mem, Syntax: syntax}
		out := run(t, target, fmt.Sprintf("u %x 3", entry))
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 4 || lines[0] != "ntgo/kernel/kd.crashSite:" {
			t.Fatalf("u:\n%s", out)
		}
		first, _ := target.Decode(entry)
		if !strings.Contains(lines[1], FormatAddress(uint64(entry))) || !strings.HasSuffix(lines[1], first.Text) {
			t.Errorf("first line %q, want %s", lines[1], first.Text)
		}
		// Go's stack check opens the function: CMPQ SP, 0x10(R14) /
		// cmp rsp, qword ptr [r14+0x10].
		wantText := map[Syntax]string{GoSyntax: "CMPQ SP, 0x10(R14)", IntelSyntax: "cmp rsp, qword ptr [r14+0x10]"}[syntax]
		if first.Text != wantText {
			t.Errorf("syntax %d: first instruction %q, want %q", syntax, first.Text, wantText)
		}
	}
	if got := run(t, &Target{Memory: mem}, "u 10 1"); got != "error: code at 00000000`00000010 is not mapped" {
		t.Errorf("u at an unmapped address: %q", got)
	}
}

func TestNearestSymbol(t *testing.T) {
	entry := funcPC(crashSite)
	target := &Target{Memory: pageMemory{}}
	out := run(t, target, fmt.Sprintf("ln %x", entry+4))
	if !strings.HasPrefix(out, FormatAddress(uint64(entry+4))+" ntgo/kernel/kd.crashSite+0x4\n") || !strings.Contains(out, "helpers_test.go:") {
		t.Errorf("ln:\n%s", out)
	}
	if got := run(t, target, "ln 10"); got != "00000000`00000010 (no Go function holds this address)\n" {
		t.Errorf("ln 10: %q", got)
	}
}

func TestInlinedFrames(t *testing.T) {
	mem := loadText(t)
	target := &Target{Memory: mem}
	// crashSite's call to runtime.Caller is callerLine's, inlined.
	for _, in := range target.Disassemble(funcPC(crashSite), 32) {
		if !strings.Contains(in.Text, "CALL runtime.Caller(SB)") {
			continue
		}
		fs := RuntimeSymbols{}.Frames(in.PC)
		if len(fs) != 2 || fs[0].Function != "ntgo/kernel/kd.callerLine" || fs[1].Function != "ntgo/kernel/kd.crashSite" {
			t.Fatalf("frames at the inlined call: %+v", fs)
		}
		if fs[0].Entry != funcPC(crashSite) || fs[1].Entry != funcPC(crashSite) {
			t.Errorf("entries %#x %#x, want crashSite's %#x", fs[0].Entry, fs[1].Entry, funcPC(crashSite))
		}
		if got := Symbolize(RuntimeSymbols{}, in.PC); !strings.HasPrefix(got, "ntgo/kernel/kd.crashSite+0x") {
			t.Errorf("Symbolize names the inlined callee: %s", got)
		}
		return
	}
	t.Fatal("callerLine was not inlined into crashSite")
}

func TestRegisterAddsHelpLines(t *testing.T) {
	if !registered("db") { // inside the kernel, the kernel has registered its Target
		Register(&Target{Memory: pageMemory{}})
	}
	var out bytes.Buffer
	console.Execute(&out, "help")
	for _, name := range []string{"db", "dw", "dd", "dq", "u", "r", "k", "ln"} {
		found := false
		for _, l := range strings.Split(out.String(), "\n") {
			f := strings.Fields(l)
			if len(f) > 2 && f[0] == name {
				found = true
			}
		}
		if !found {
			t.Errorf("help has no line for %s:\n%s", name, out.String())
		}
	}
	out.Reset()
	console.Execute(&out, "db")
	if out.String() != "usage: db <addr> [count]\n" {
		t.Errorf("db without arguments: %q", out.String())
	}
}

// registered reports whether the console has a command called name.
func registered(name string) bool {
	for _, c := range console.Commands() {
		if c.Name == name {
			return true
		}
	}
	return false
}

// entryOf is the code address of any function value.
func entryOf(f any) uintptr { return reflect.ValueOf(f).Pointer() }

func TestSymbolNames(t *testing.T) {
	start := time.Now()
	table := functionTable()
	t.Logf("function table: %d functions in %v", len(table), time.Since(start))
	for name, fn := range map[string]uintptr{
		"ntgo/kernel/kd.crashSite":              funcPC(crashSite),
		"ntgo/kernel/kd.(*Target).unassemble":   entryOf((*Target).unassemble),
		"ntgo/kernel/kd.RuntimeSymbols.Address": entryOf(RuntimeSymbols.Address),
		"ntgo/kernel/console.Execute":           entryOf(console.Execute),
	} {
		if a, ok := (RuntimeSymbols{}).Address(name); !ok || a != fn {
			t.Errorf("Address(%s) = %#x, %v; want %#x", name, a, ok, fn)
		}
	}
	// Every function the table names is where Frames says it starts.
	for name, entry := range table {
		if f, ok := outermost(RuntimeSymbols{}, entry); !ok || f.Function != name || f.Entry != entry {
			t.Fatalf("table says %s at %#x, Frames says %+v", name, entry, f)
		}
	}
	if _, ok := (RuntimeSymbols{}).Address("ntgo/kernel/kd.noSuchFunction"); ok {
		t.Error("a function that does not exist has an address")
	}
}

func TestEvaluateCommand(t *testing.T) {
	regs := Registers{RIP: 0x401000}
	target := &Target{Memory: pageMemory{}, Context: func() (Context, bool) { return Context{Registers: regs}, true }}
	for line, want := range map[string]string{
		"? 0n10+@rip":    "Evaluate expression: 4198410 = 00000000`0040100a\n",
		"? 0n10 + @rip":  "Evaluate expression: 4198410 = 00000000`0040100a\n",
		"? -1":           "Evaluate expression: -1 = ffffffff`ffffffff\n",
		"? (1+2)*0n10":   "Evaluate expression: 30 = 00000000`0000001e\n",
		"? 1g":           "error: 1g: not a number (hex by default, 0n for decimal)",
		"? @xmm0":        "error: @xmm0: no such register",
		"?":              "error: usage",
		"? nosuch.Thing": "error: nosuch.Thing: no such symbol",
	} {
		if got := run(t, target, line); got != want {
			t.Errorf("%s: %q, want %q", line, got, want)
		}
	}
	noThread := &Target{Memory: pageMemory{}}
	if got := run(t, noThread, "? @rip"); got != "error: @rip: no register context" {
		t.Errorf("? @rip without a thread: %q", got)
	}
	entry := funcPC(crashSite)
	if got, want := run(t, target, "? ntgo/kernel/kd.crashSite+8"), fmt.Sprintf("= %s\n", FormatAddress(uint64(entry+8))); !strings.HasSuffix(got, want) {
		t.Errorf("? symbol+8: %q, want suffix %q", got, want)
	}
}

func TestUnassembleSymbol(t *testing.T) {
	target := &Target{Memory: loadText(t)}
	byName := run(t, target, "u ntgo/kernel/kd.crashSite L3")
	byAddress := run(t, target, fmt.Sprintf("u %x 3", funcPC(crashSite)))
	if byName != byAddress || !strings.Contains(byName, "ntgo/kernel/kd.crashSite") {
		t.Errorf("u by name:\n%s\nby address:\n%s", byName, byAddress)
	}
}
