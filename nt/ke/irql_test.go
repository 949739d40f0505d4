// IRQL rules: raise and lower move the level as NT does and return what
// LowerIrql needs, and each wrong direction is NT's bugcheck with NT's
// parameters. On the host the level is a variable; in the kernel it is CR8,
// so the same assertions check the register.

package ke

import (
	"testing"

	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
)

// atPassive runs f from PASSIVE_LEVEL and puts the level back afterwards,
// whatever f left it at (a bugcheck interrupts f mid-way).
func atPassive(t *testing.T, f func()) {
	t.Helper()
	if l := GetCurrentIrql(); l != PassiveLevel {
		t.Fatalf("test starts at %v, want PASSIVE_LEVEL", l)
	}
	defer setIrql(PassiveLevel)
	f()
}

func TestRaiseAndLower(t *testing.T) {
	atPassive(t, func() {
		if old := RaiseIrql(ApcLevel); old != PassiveLevel {
			t.Errorf("raise to APC_LEVEL returned %v, want PASSIVE_LEVEL", old)
		}
		if old := RaiseIrql(DispatchLevel); old != ApcLevel {
			t.Errorf("raise to DISPATCH_LEVEL returned %v, want APC_LEVEL", old)
		}
		if old := RaiseIrql(DispatchLevel); old != DispatchLevel {
			t.Errorf("raise to the current level returned %v, want DISPATCH_LEVEL", old)
		}
		if l := GetCurrentIrql(); l != DispatchLevel {
			t.Errorf("after raising: %v, want DISPATCH_LEVEL", l)
		}
		if arch.Bare() {
			if cr8 := arch.ReadCR8() & cr8Mask; cr8 != uintptr(DispatchLevel) {
				t.Errorf("CR8 = %d at DISPATCH_LEVEL", cr8)
			}
		}
		LowerIrql(ApcLevel)
		LowerIrql(ApcLevel) // to the current level is allowed
		LowerIrql(PassiveLevel)
		if l := GetCurrentIrql(); l != PassiveLevel {
			t.Errorf("after lowering: %v, want PASSIVE_LEVEL", l)
		}
	})
}

func TestWrongDirectionBugchecks(t *testing.T) {
	for _, c := range []struct {
		name   string
		from   KIRQL
		do     func()
		code   bugcheck.Code
		params [4]uintptr
	}{
		{"raise below the current level", DispatchLevel, func() { RaiseIrql(ApcLevel) },
			bugcheck.IrqlNotGreaterOrEqual, [4]uintptr{uintptr(DispatchLevel), uintptr(ApcLevel), 0, 0}},
		{"raise above HIGH_LEVEL", PassiveLevel, func() { RaiseIrql(HighLevel + 1) },
			bugcheck.IrqlNotGreaterOrEqual, [4]uintptr{uintptr(PassiveLevel), uintptr(HighLevel + 1), 0, 0}},
		{"lower above the current level", ApcLevel, func() { LowerIrql(DispatchLevel) },
			bugcheck.IrqlNotLessOrEqual, [4]uintptr{uintptr(DispatchLevel), uintptr(ApcLevel), 0, 0}},
	} {
		atPassive(t, func() {
			RaiseIrql(c.from)
			rec := bugcheck.Catch(c.do)
			if rec == nil {
				t.Fatalf("%s: no bugcheck", c.name)
			}
			if rec.Code != c.code || rec.Params != c.params {
				t.Errorf("%s: %v %#x, want %v %#x", c.name, rec.Code, rec.Params, c.code, c.params)
			}
			if l := GetCurrentIrql(); l != c.from {
				t.Errorf("%s: the refused change moved the level to %v", c.name, l)
			}
		})
	}
}

func TestIrqlNames(t *testing.T) {
	for l, want := range map[KIRQL]string{PassiveLevel: "PASSIVE_LEVEL", ApcLevel: "APC_LEVEL",
		DispatchLevel: "DISPATCH_LEVEL", ClockLevel: "CLOCK_LEVEL", HighLevel: "HIGH_LEVEL", 5: "DIRQL"} {
		if got := l.String(); got != want {
			t.Errorf("KIRQL(%d) = %q, want %q", l, got, want)
		}
	}
}
