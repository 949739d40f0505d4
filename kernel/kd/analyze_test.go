package kd

import (
	"strings"
	"testing"

	"ntgo/kernel/ldr"
	"ntgo/nt/bugcheck"
)

// frameTable names the addresses of a made-up kernel: the frames at the
// call before each return address ret (key ret-1) hold every address from
// their function's entry up to ret.
type frameTable map[uintptr][]Frame

func (f frameTable) Frames(pc uintptr) []Frame {
	for call, fs := range f {
		if pc >= fs[len(fs)-1].Entry && pc <= call+1 {
			return fs
		}
	}
	return nil
}

// Return addresses on the made-up stacks.
const (
	retScreen uintptr = 0x1000 + iota*0x100
	retBugcheck
	retPoolFree
	retFreePool
	retDriver
	retExecute
	retRuntime
)

var analysisSymbols = frameTable{
	retScreen - 1:   {{Function: "ntgo/kernel.bugcheckScreen", Entry: retScreen - 0x10, File: "kernel/screen.go", Line: 50}},
	retBugcheck - 1: {{Function: bugcheckEntry, Entry: retBugcheck - 0x10, File: "nt/bugcheck/bugcheck.go", Line: 187}},
	retPoolFree - 1: {
		{Function: "ntgo/mm/pool.badPoolCaller", Entry: retPoolFree - 0x10, File: "mm/pool/bugchecks.go", Line: 98},
		{Function: "ntgo/mm/pool.(*System).Free", Entry: retPoolFree - 0x10, File: "mm/pool/system.go", Line: 363}},
	retFreePool - 1: {{Function: "ntgo/mm/ex.FreePoolWithTag", Entry: retFreePool - 0x10, File: "mm/ex/ex.go", Line: 180}},
	retDriver - 1:   {{Function: "ntgo/drivers/ramdisk.(*disk).close", Entry: retDriver - 0x20, File: "drivers/ramdisk/ramdisk.go", Line: 77}},
	retExecute - 1:  {{Function: "ntgo/kernel/console.Execute", Entry: retExecute - 0x10, File: "kernel/console/console.go", Line: 74}},
	retRuntime - 1:  {{Function: "runtime.main", Entry: retRuntime - 0x10, File: "runtime/proc.go", Line: 290}},
}

var analysisModules = []ldr.Module{
	{Name: "ntgo", Package: "ntgo/kernel", Start: 0x400000, End: 0x800000},
	{Name: "ramdisk", Package: "ntgo/drivers/ramdisk"},
}

func TestCulprit(t *testing.T) {
	for name, c := range map[string]struct {
		stack    []uintptr
		function string // "" for none
		module   string
	}{
		"a driver's bad free": {[]uintptr{retScreen, retBugcheck, retPoolFree, retFreePool, retDriver, retExecute, retRuntime},
			"ntgo/drivers/ramdisk.(*disk).close", "ramdisk"},
		"the console's call": {[]uintptr{retScreen, retBugcheck, retPoolFree, retFreePool, retExecute, retRuntime},
			"ntgo/kernel/console.Execute", "ntgo"},
		// A fault's stack starts at the faulting function: no KeBugCheckEx.
		"a fault in the memory manager": {[]uintptr{retPoolFree, retDriver, retRuntime}, "ntgo/drivers/ramdisk.(*disk).close", "ramdisk"},
		"only the system":               {[]uintptr{retScreen, retBugcheck, retPoolFree, retRuntime}, "", ""},
		"unknown addresses":             {[]uintptr{0x10, 0x20}, "", ""},
	} {
		got, ok := FindCulprit(analysisSymbols, c.stack, analysisModules)
		if ok != (c.function != "") || got.Frame.Function != c.function || got.Module != c.module {
			t.Errorf("%s: culprit %+v (found %v), want %s in %s", name, got, ok, c.function, c.module)
		}
	}
}

func TestFunctionPackage(t *testing.T) {
	for name, want := range map[string]string{
		"ntgo/mm/pool.(*System).Free": "ntgo/mm/pool",
		"ntgo/mm.init.func2":          "ntgo/mm",
		"runtime.main":                "runtime",
		"main.main":                   "main",
		"ntgo/drivers/ramdisk.load":   "ntgo/drivers/ramdisk",
	} {
		if got := functionPackage(name); got != want {
			t.Errorf("functionPackage(%q) = %q, want %q", name, got, want)
		}
	}
}

// !analyze -v over a stopped target explains the stop and names the
// culprit; over the running system it says there is no bugcheck.
func TestAnalyzeCommand(t *testing.T) {
	rec := &bugcheck.Record{Code: bugcheck.BadPoolCaller, Params: [4]uintptr{0xa, 0xfffffe8000002fc0, 0x46794d4e, 0x73706f4f}, PC: retBugcheck}
	ctx := Context{Stack: []uintptr{retScreen, retBugcheck, retPoolFree, retFreePool, retDriver, retExecute, retRuntime}}
	stopped := &Target{Memory: pageMemory{}, Symbols: analysisSymbols,
		Stop:    func() (*bugcheck.Record, Context) { return rec, ctx },
		Modules: func() []ldr.Module { return analysisModules }}
	out := run(t, stopped, "!analyze -v")
	for _, want := range []string{
		"BAD_POOL_CALLER (c2)\n",
		"Arg1: 000000000000000a, subtype: 7 = double free",
		"Arg3: 0000000046794d4e, ",
		"FAULTING_IP:\n" + FormatAddress(uint64(retBugcheck)) + " ntgo/nt/bugcheck.KeBugCheckEx+0x10\n",
		"02 ntgo/mm/pool.badPoolCaller (inlined) [mm/pool/bugchecks.go:98]\n",
		"FOLLOWUP_IP: ntgo/drivers/ramdisk.(*disk).close+0x20 [drivers/ramdisk/ramdisk.go:77]\n",
		"MODULE_NAME: ramdisk\n",
		"PROBABLY_CAUSED_BY: ramdisk (ntgo/drivers/ramdisk.(*disk).close)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("!analyze -v lacks %q:\n%s", want, out)
		}
	}
	if got := run(t, &Target{Memory: pageMemory{}}, "!analyze -v"); got != "error: "+errNoBugcheck.Error() {
		t.Errorf("!analyze -v with no bugcheck: %q", got)
	}
	if got := run(t, stopped, "!analyze"); got != "error: usage" {
		t.Errorf("!analyze without -v: %q", got)
	}
}
