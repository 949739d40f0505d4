package console

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// testNames: two registers and two symbols, one a method with a receiver.
type testNames struct{}

func (testNames) Register(name string) (uint64, error) {
	switch strings.ToLower(name) {
	case "rip":
		return 0x401000, nil
	case "rsp":
		return 0x8000, nil
	}
	return 0, errors.New("no such register")
}

func (testNames) Symbol(name string) (uint64, bool) {
	switch name {
	case "ntgo/mm.cmdPte":
		return 0x402000, true
	case "ntgo/mm/pool.(*System).Allocate":
		return 0x403000, true
	}
	return 0, false
}

func TestEvaluate(t *testing.T) {
	for in, want := range map[string]uint64{
		"10":                                   0x10,
		"0x10":                                 0x10,
		"0X1f":                                 0x1f,
		"0n10":                                 10,
		"0N10":                                 10,
		"fffff680`00000000":                    0xfffff68000000000,
		"0x0000`00001234":                      0x1234,
		"ffffffffffffffff":                     ^uint64(0),
		"0n18446744073709551615":               ^uint64(0),
		"0n10+@rip":                            0x40100a,
		"@RSP-8":                               0x7ff8,
		"2*3+4":                                10,
		"2+3*4":                                14,
		"(2+3)*4":                              20,
		"-1":                                   ^uint64(0),
		"--1":                                  1,
		"0-1":                                  ^uint64(0),
		"ffffffffffffffff+2":                   1,
		"ntgo/mm.cmdPte":                       0x402000,
		"ntgo/mm.cmdPte+0n16":                  0x402010,
		"ntgo/mm/pool.(*System).Allocate+10":   0x403010,
		"(ntgo/mm/pool.(*System).Allocate)*2":  0x806000,
		"@rip+ntgo/mm.cmdPte-ntgo/mm.cmdPte":   0x401000,
		"1000*1000*1000*1000*1000*1000*1000*2": 0, // wraps as kd's does
	} {
		got, err := Evaluate(in, testNames{})
		if err != nil || got != want {
			t.Errorf("Evaluate(%q) = %#x, %v; want %#x", in, got, err, want)
		}
	}
}

func TestEvaluateRefusals(t *testing.T) {
	const nan = ": not a number (hex by default, 0n for decimal)"
	for in, want := range map[string]string{
		"":                       `"": not an expression`,
		"1g":                     "1g" + nan,
		"0x":                     "0x" + nan,
		"0n":                     "0n" + nan,
		"0n1f":                   "0n1f" + nan,
		"0x0n5":                  "0x0n5" + nan,
		"`10":                    "`10" + nan,
		"10`":                    "10`" + nan,
		"10000000000000000":      "10000000000000000: too large (over 64 bits)",
		"0n18446744073709551616": "0n18446744073709551616: too large (over 64 bits)",
		"1+":                     "1+: not an expression",
		"1+1g":                   "1g" + nan,
		"(1+2":                   "(1+2: not an expression",
		"1)":                     "1): not an expression",
		"1 2":                    "1 2: not an expression",
		"@":                      "@: no such register",
		"@xmm0":                  "@xmm0: no such register",
		"nosuch.Func":            "nosuch.Func: no such symbol",
		"1,2":                    "1,2: not an expression",
	} {
		_, err := Evaluate(in, testNames{})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Evaluate(%q): %v, want %q", in, err, want)
		}
	}
	if _, err := Evaluate("@rip", nil); err == nil || err.Error() != "@rip: registers need a thread context (none here)" {
		t.Errorf("@rip without names: %v", err)
	}
}

func TestBoundedArguments(t *testing.T) {
	SetNames(testNames{})
	defer SetNames(nil)
	for _, c := range []struct {
		arg     string
		lo, hi  uint64
		want    uint64
		refusal string
	}{
		{"ff", 0, 0xff, 0xff, ""},
		{"0n255", 0, 0xff, 0xff, ""},
		{"010", 0, 0xff, 0x10, ""}, // hex, not octal
		{"0n256", 0, 0xff, 0, "0n256: out of range (0 to 0xff)"},
		{"100000000", 0, 0xffffffff, 0, "100000000: out of range (0 to 0xffffffff)"},
		{"-1", 0, 0xff, 0, "-1: negative (0 to 0xff)"},
		{"0-1", 0, 0xff, 0, "0-1: out of range (0 to 0xff)"},
		{"10000000000000000", 1, 1 << 40, 0, "10000000000000000: too large (over 64 bits)"},
		{"0", 1, 0x10, 0, "0: out of range (1 to 0x10)"},
		{"1g", 1, 0x10, 0, "1g: not a number (hex by default, 0n for decimal)"},
	} {
		got, err := Bounded(c.arg, c.lo, c.hi)
		switch {
		case c.refusal == "" && (err != nil || got != c.want):
			t.Errorf("Bounded(%q) = %#x, %v; want %#x", c.arg, got, err, c.want)
		case c.refusal != "" && (err == nil || err.Error() != c.refusal):
			t.Errorf("Bounded(%q): %v, want %q", c.arg, err, c.refusal)
		}
	}
	if n, err := Count("L20", 1, 0x100); err != nil || n != 0x20 {
		t.Errorf("Count(L20) = %#x, %v", n, err)
	}
	if _, err := Count("l1000", 1, 0x100); err == nil || err.Error() != "l1000: out of range (1 to 0x100)" {
		t.Errorf("Count(l1000): %v", err)
	}
	if d, err := Duration("0n1500", time.Millisecond, time.Minute); err != nil || d != 1500*time.Millisecond {
		t.Errorf("Duration(0n1500) = %v, %v", d, err)
	}
	if _, err := Duration("ffffffffffff", time.Second, time.Hour); err == nil || err.Error() != "ffffffffffff: out of range (1 to 0xe10)" {
		t.Errorf("Duration(ffffffffffff): %v", err)
	}
	if a, err := Address("ntgo/mm.cmdPte+@rsp"); err != nil || a != 0x40a000 {
		t.Errorf("Address = %#x, %v", a, err)
	}
}

// FuzzEvaluate: any input either evaluates or is refused with
// "<text>: <reason>" naming part of the input, and never panics; a decimal
// literal that is accepted reads back as the number it spells.
func FuzzEvaluate(f *testing.F) {
	for _, s := range []string{"10", "0n10", "fffff680`00000000", "(1+2)*@rip", "ntgo/mm.cmdPte+8", "-(-1)", "1+", "0x", "(((", "a.(b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Evaluate(s, testNames{})
		if err != nil {
			var ae *ArgError
			if !errors.As(err, &ae) || (ae.Text != `""` && !strings.Contains(s, ae.Text) && !strings.Contains(s, strings.TrimPrefix(ae.Text, "@"))) {
				t.Fatalf("Evaluate(%q): refusal %v does not name the input", s, err)
			}
			return
		}
		if d, ok := strings.CutPrefix(s, "0n"); ok && d != "" && strings.Trim(d, "0123456789") == "" {
			if got := formatDecimal(v); strings.TrimLeft(d, "0") != strings.TrimLeft(got, "0") {
				t.Fatalf("Evaluate(%q) = %s", s, got)
			}
		}
	})
}

func formatDecimal(v uint64) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + v%10)}, b...)
		if v /= 10; v == 0 {
			return string(b)
		}
	}
}

// A size in MiB reads decimal by default (160 is 160); 0x is still hex,
// 0n still decimal, and refusals name the argument as written.
func TestDecimalArguments(t *testing.T) {
	for _, c := range []struct {
		arg     string
		want    uint64
		refusal string
	}{
		{"160", 160, ""},
		{"0n160", 160, ""},
		{"0xa0", 160, ""},
		{"010", 10, ""},
		{"70000", 0, "70000: out of range (1 to 0x10000)"},
		{"0", 0, "0: out of range (1 to 0x10000)"},
		{"1a", 0, "1a: not a number (decimal by default, 0x for hex)"},
		{"0n1+0x10", 17, ""},
		{"-5", 0, "-5: negative (1 to 0x10000)"},
	} {
		got, err := Decimal(c.arg, 1, 1<<16)
		switch {
		case c.refusal == "" && (err != nil || got != c.want):
			t.Errorf("Decimal(%q) = %#x, %v; want %#x", c.arg, got, err, c.want)
		case c.refusal != "" && (err == nil || err.Error() != c.refusal):
			t.Errorf("Decimal(%q): %v, want %q", c.arg, err, c.refusal)
		}
	}
}
