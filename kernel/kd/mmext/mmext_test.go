package mmext

import (
	"strings"
	"testing"

	"ntgo/kernel/console/commandtest"
	"ntgo/kernel/ldr"
	"ntgo/mm/ex"
	"ntgo/mm/ex/extest"
	"ntgo/mm/layout"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/vmstat"
)

// live is a Live over mm/ex's pools on host arenas (the page-table and
// PFN views are compared with a dump's in kernel/kd/dump).
func live(t *testing.T) *Live {
	extest.Setup(t)
	return &Live{
		Walk:         func(uintptr) pte.Walk { return pte.Walk{} },
		Report:       func() vmstat.Report { return vmstat.Report{} },
		RuntimeRange: func(uintptr) (layout.Reservation, bool) { return layout.Reservation{}, false },
		Pools:        func() (*pool.System, bool) { return ex.Pools(), true },
		Lists:        func() ([]ex.LookasideInfo, bool) { return ex.Lookasides(), true },
	}
}

func run(t *testing.T, tg Target, line string) string {
	t.Helper()
	return commandtest.Run(t, Commands(tg), line)
}

// !lookaside lists a driver's list with its counters and the System lists
// in use.
func TestLookasideView(t *testing.T) {
	l := live(t)
	tag := pool.MakeTag("View")
	var list ex.LookasideListEx
	ex.InitializeLookasideListEx(&list, nil, nil, pool.PagedPool, 0, 200, tag, 0)
	defer ex.DeleteLookasideListEx(&list)
	ex.FreeToLookasideListEx(&list, ex.AllocateFromLookasideListEx(&list))
	ex.FreeToLookasideListEx(&list, ex.AllocateFromLookasideListEx(&list))
	out := run(t, l, "!lookaside")
	var row string
	for _, r := range strings.Split(out, "\n") {
		if strings.Contains(r, "View") {
			row = r
		}
	}
	if f := strings.Fields(row); len(f) != 13 || f[0] != "Ex" || f[4] != "Paged" || f[5] != "200" || f[6] != "2" || f[7] != "1" || f[12] != "50" {
		t.Errorf("!lookaside row %q:\n%s", row, out)
	}
	if got := run(t, l, "!lookaside -b"); got != "error: usage" {
		t.Errorf("!lookaside -b: %q", got)
	}
}

// !pcr's pool line sums one processor's System lists and no other's.
func TestProcessorLookasides(t *testing.T) {
	extest.Setup(t)
	if err := ex.Pools().AddCPU(1); err != nil {
		t.Fatal(err)
	}
	tag := pool.MakeTag("PcrL")
	ex.FreePoolWithTag(ex.AllocatePoolWithTag(pool.NonPagedPool, 100, tag), tag) // on processor 0 (the host's)
	ex.FreePoolWithTag(ex.AllocatePoolWithTag(pool.PagedPool, 300, tag), tag)
	ex.FreePoolWithTag(ex.AllocatePoolWithTag(pool.PagedPool, 300, tag), tag)
	lists := ex.Lookasides()
	if got, want := ProcessorLookasides(lists, 0), "2 lists in use, 2 blocks cached, 3 allocations (2 missed), 3 frees (!lookaside)"; got != want {
		t.Errorf("processor 0: %q, want %q", got, want)
	}
	if got, want := ProcessorLookasides(lists, 1), "0 lists in use, 0 blocks cached, 0 allocations (0 missed), 0 frees (!lookaside)"; got != want {
		t.Errorf("processor 1: %q, want %q", got, want)
	}
}

// lm shows each module's tags with what they hold in the pools.
func TestLmShowsTagUsage(t *testing.T) {
	l := live(t)
	tag := pool.MakeTag("LdLm")
	ldr.Load(ldr.Module{Name: "lmtest", Package: "ntgo/kernel/ldr", Tags: []pool.Tag{tag}})
	defer ldr.Unload("lmtest")
	p := ex.AllocatePoolWithTag(pool.NonPagedPool, 100, tag)
	defer ex.FreePoolWithTag(p, tag)
	out := run(t, l, "lm")
	var line string
	for _, r := range strings.Split(out, "\n") {
		if strings.Contains(r, "lmtest") {
			line = r
		}
	}
	if !strings.Contains(line, "LdLm 1/") || !strings.Contains(line, "ntgo/kernel/ldr") {
		t.Fatalf("lm line %q\n%s", line, out)
	}
}

// Before ex.Init the pool views say so instead of panicking.
func TestPoolViewsBeforeInit(t *testing.T) {
	l := &Live{Pools: func() (*pool.System, bool) { return nil, false }, Lists: func() ([]ex.LookasideInfo, bool) { return nil, false }}
	for _, line := range []string{"!pool 1000", "!poolfind Tag1", "!poolused", "poolmon", "!lookaside", "lm"} {
		if got := run(t, l, line); got != "error: "+errNoPools.Error() {
			t.Errorf("%s before ex.Init: %q", line, got)
		}
	}
}

// poolmon refreshes only where time passes; bad intervals are refused
// with the console parser's reason, and at most an hour.
func TestPoolmonArguments(t *testing.T) {
	l := live(t)
	for line, want := range map[string]string{
		"poolmon 0": "error: 0: out of range (1 to 0xe10)", "poolmon 0n3601": "error: 0n3601: out of range (1 to 0xe10)",
		"poolmon ffffffff": "error: ffffffff: out of range (1 to 0xe10)",
		"poolmon x":        "error: x: not a number (hex by default, 0n for decimal)", "poolmon 1 2": "error: usage",
	} {
		if got := run(t, l, line); got != want {
			t.Errorf("%s: %q, want %q", line, got, want)
		}
	}
	if got := run(t, l, "poolmon"); !strings.HasPrefix(got, "Tag  Pool") {
		t.Errorf("poolmon: %q", got)
	}
}
