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
	"ntgo/nt/ke"
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
	prev := ke.SetSystemAffinityThreadEx(1) // the pairs below run on processor 0 (in the kernel too)
	defer ke.RevertToUserAffinityThreadEx(prev)
	ex.FreePoolWithTag(ex.AllocatePoolWithTag(pool.NonPagedPool, 100, tag), tag)
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

// !ws counts paged pool's pages by where their PTEs say they are, skipping
// the ranges without page tables; trim runs only where a pager is.
func TestWorkingSetView(t *testing.T) {
	const tablesAt = 5 << 9 // page tables exist for paged pool's sixth 2 MiB only
	leaves := map[uintptr]pte.PTE{
		0: pte.NewValid(7, pte.ProtReadWrite, pte.Cached) | pte.Accessed | pte.Dirty,
		1: pte.NewValid(8, pte.ProtReadWrite, pte.Cached),
		2: pte.NewTransition(9, pte.ProtReadWrite, pte.Cached),
		3: pte.NewPageFile(0x1a2, pte.ProtReadWrite),
		4: pte.DemandZero(pte.ProtReadWrite),
	}
	walked := 0
	trims := 0
	l := &Live{
		Walk: func(va uintptr) pte.Walk {
			walked++
			i := (va - layout.PagedPoolStart) / 4096
			w := pte.Walk{VA: va, Depth: 3} // stops at a PDE that is not present
			if i >= tablesAt && i < tablesAt+512 {
				w.Depth, w.Entries[pte.PT] = 4, leaves[i-tablesAt]
			}
			return w
		},
		Report: func() vmstat.Report {
			return vmstat.Report{Pools: &vmstat.Pools{Paged: vmstat.PoolPages{InUse: 5, Max: 8 << 9}},
				Counters: vmstat.Counters{Paging: vmstat.Paging{WsPeak: 9}}}
		},
		Trim: func() int { trims++; return 3 },
	}
	out := run(t, l, "!ws trim")
	for _, want := range []string{
		"trimmed 3 pages\n",
		"(4096 pages, 5 handed out)",
		"working set          2 pages (peak 9; 1 accessed since the trimmer looked, 1 dirty)",
		"trimmed              1 pages (transition:",
		"paging file          1 pages",
		"demand-zero          1 pages",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("!ws trim lacks %q:\n%s", want, out)
		}
	}
	if trims != 1 || walked > 512+8 {
		t.Errorf("%d trims, %d walks (the empty 2 MiB ranges are one walk each)", trims, walked)
	}
	l.Trim = nil
	if out := run(t, l, "!ws trim"); !strings.Contains(out, "no pager") {
		t.Errorf("!ws trim without a pager: %q", out)
	}
}
