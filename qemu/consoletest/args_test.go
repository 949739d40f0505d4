package consoletest

import (
	"testing"
)

// One argument convention everywhere, each refusal in one format; the
// line habits of kd: case-insensitive names, ';', history, ^C.
func TestArgumentsAndLineHabits(t *testing.T) {
	vm := startVM(t)
	expect(t, vm, "kd> ")
	const nan = ": not a number (hex by default, 0n for decimal)"
	for _, c := range []struct{ line, want string }{
		{"poweroff 1g", "poweroff: 1g" + nan},
		{"poweroff -1", "poweroff: -1: negative (0 to 0xff)"},
		{"poweroff 0n256", "poweroff: 0n256: out of range (0 to 0xff)"},
		{"bugcheck 100000000", "bugcheck: 100000000: out of range (0 to 0xffffffff)"},
		{"ramdisk unload", "ramdisk unloaded: no leaks"},
		{"ramdisk load 10000000000000000", "ramdisk: 10000000000000000: too large (over 64 bits)"},
		{"ramdisk load ffffffffffffffff", "ramdisk: ffffffffffffffff: out of range (1 to 0x10000000000)"},
		{"ramdisk load 0n8192", "ramdisk loaded: 8192 bytes"},
		{"ramdisk read 0 0n65537", "ramdisk: 0n65537: out of range (1 to 0x10000)"},
		{"ramdisk write 10 hello", "wrote 5 bytes at 0x10"},
		{"ramdisk read 0n16 5", `"hello"`},
		{".sleep 0n600001", ".sleep: 0n600001: out of range (1 to 0x927c0)"},
		{"poolmon ffffffff", "poolmon: ffffffff: out of range (1 to 0xe10)"},
		{"db 0 0", "db: 0: out of range (1 to 0x10000)"},
		{"? 0n10+@rip", "Evaluate expression: "},
		{"? 0n4198400", "Evaluate expression: 4198400 = 00000000`00401000"},
		{"u ntgo/mm.cmdPte L2", "ntgo/mm.cmdPte:"},
		{"ln ntgo/kernel/console.Execute+1", "ntgo/kernel/console.Execute+0x1"},
		{"? nosuch.Func", "?: nosuch.Func: no such symbol"},
		{"!PTE 0", "PXE at"},
		{"!pte ntgo/kernel/console.Execute", "PXE at"},
		{"Help", "Numbers: hex by default, 0n for decimal"},
		{"VER; ? 0n7", "ntgo kernel, build"},
	} {
		vm.Console.SendLine(c.line)
		expect(t, vm, c.line, c.want)
		expect(t, vm, "kd> ")
	}
	// ';' ran the second command of the line too.
	vm.Console.SendLine("? 0n5; ? 0n6")
	expect(t, vm, "Evaluate expression: 5 = ", "Evaluate expression: 6 = ", "kd> ")
	// Up arrow: the last line comes back, edited, and runs.
	vm.Console.Send("\x1b[A\x7f7\r")
	expect(t, vm, "Evaluate expression: 5 = ", "Evaluate expression: 7 = ", "kd> ")
	// ^C stops a long command.
	vm.Console.SendLine(".sleep 0n600000")
	expect(t, vm, ".sleep 0n600000")
	vm.Console.Send("\x03")
	expect(t, vm, ".sleep: interrupted (^C)", "kd> ")
	// poolmon waits between its tables the same way.
	vm.Console.SendLine("poolmon 0n3600")
	expect(t, vm, "poolmon 0n3600", "Tag  Pool")
	vm.Console.Send("\x03")
	expect(t, vm, "poolmon: interrupted (^C)", "kd> ")
	// hex by default: 010 is sixteen.
	vm.Console.SendLine("poweroff 010")
	expectExit(t, vm, 0x10)
}
