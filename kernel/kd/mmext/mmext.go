// Package mmext is the memory manager's debugger extension, as WinDbg's
// are DLLs of their own: !vm, !memusage, !pfn, !pte, !address, !pool,
// !poolfind, !poolused, poolmon, !lookaside, !verifier and lm (the loaded modules with
// their pool tags' usage), written once over a Target
// so that the kernel's kd> console and the host dump viewer (cmd/ntgo-dump)
// run the same code, print the same bytes for the same state, and take
// their help texts from the one table in Commands.
//
// A Target hands out the memory manager's data as the mm packages' own
// types (the PFN database, a page-table walk, the !vm report, the pool or
// its crash image, the tag counters, the lookaside lists); the views only
// format. Two Targets exist: Live, over a running memory manager (the
// kernel's, or a host simulation in tests), and the crash dump's
// (kernel/kd/dump), which answers ErrNotHeld for what a dump lacks. The one
// behaviour that differs is explicit: poolmon with a refresh interval runs
// only where time passes (Target.Live); a dump is a still picture.
//
// Views run in goroutine context (console commands), never in trap
// context: they allocate and print with fmt. Each Target copies what it
// returns under the lock that guards it, so a view formats without locks.
package mmext

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/kernel/ldr"
	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/securepool"
	"ntgo/mm/verifier"
	"ntgo/mm/vmstat"
)

// Target is the memory manager the views look at.
type Target interface {
	// Names is what address arguments resolve against: the stopped
	// thread's @registers (the dump) and function names (the live kernel's
	// own table).
	Names() console.Names
	// Live reports whether the target changes with time (a running
	// system) rather than being a still picture (a crash dump).
	Live() bool
	PFN() (*pfn.Database, error)
	Lookup(va uintptr) (pte.Walk, error)
	VM() (vmstat.Report, error)
	// Reservation is the Go runtime's reservation in the lower half
	// holding va, false if none does.
	Reservation(va uintptr) (layout.Reservation, bool, error)
	Pool() (Pool, error)
	// PoolTags is every tag's counters in poolmon's order.
	PoolTags() ([]pool.TagStat, error)
	Lookasides() ([]ex.LookasideInfo, error)
	// Modules is the loaded-module list (lm).
	Modules() ([]ldr.Module, error)
	// SpecialPool is Driver Verifier's special-pool blocks, which !pool
	// and !poolfind show with the pool's.
	SpecialPool() ([]verifier.Allocation, error)
	// Verifier prints Driver Verifier's state (!verifier).
	Verifier(w io.Writer) error
	// SecurePools is the secure pools (securepool.go).
	SecurePools() (*securepool.Image, error)
	// TrimWorkingSet takes every unlocked page out of the system working
	// set now and returns how many it took (`!ws trim`; live only).
	TrimWorkingSet() (int, error)
}

// Pool is what the pool views read: the live pool.System or a dump's
// pool.Image.
type Pool interface {
	Inspect(addr uintptr) (pool.PageReport, bool)
	Find(tag pool.Tag) []pool.BlockInfo
}

// ErrNotHeld is a Target's answer for data it does not have (a dump
// written without that section).
var ErrNotHeld = errors.New("the dump does not hold this")

// poolmonRefreshes is how many tables a refreshing poolmon prints.
const poolmonRefreshes = 3

// maxPoolmonInterval bounds poolmon's refresh interval, so a typo cannot
// hold the console for days (^C stops it sooner).
const maxPoolmonInterval = time.Hour

// Register adds the views over t to the console.
func Register(t Target) {
	for _, c := range Commands(t) {
		console.Register(c)
	}
}

// Commands returns the views over t, with their one set of help texts.
func Commands(t Target) []console.Command {
	v := views{t}
	return []console.Command{
		{Name: "!vm", Help: "physical memory, page lists, commit charge and limit, system PTEs, pools", Run: v.vm},
		{Name: "!memusage", Help: "page frames by state (the PFN database's lists)", Run: v.memusage},
		{Name: "!numa", Help: "NUMA nodes: their processors, memory ranges and free/zeroed frames", Run: v.numa},
		{Name: "!ws", Args: "[trim]", Help: "the system working set (paged pool) from its PTEs: valid, trimmed by list, in the paging file, demand-zero; trim first takes every unlocked page out (live only)", Run: v.ws},
		{Name: "!pfn", Args: "<frame>", Help: "decode one PFN database entry (frame number in hex)", Run: v.pfn},
		{Name: "!pte", Args: "<va>", Help: "the PXE, PPE, PDE and PTE that map va, decoded", Run: v.pte},
		{Name: "!address", Args: "<va>", Help: "which region of the kernel address space holds va", Run: v.address},
		{Name: "!pool", Args: "<addr>", Help: "the pool page holding addr: every block header, the one asked for marked", Run: v.pool},
		{Name: "!poolfind", Args: "<tag>", Help: "every allocated pool block with tag", Run: v.poolfind},
		{Name: "!poolused", Args: "[tag]", Help: "bytes and allocations per tag (one tag, or all)", Run: v.poolused},
		{Name: "poolmon", Args: "[seconds]", Help: "pool tags by bytes in use: allocations, frees, difference (live: refresh every seconds, 3 times; at most 0n3600 seconds, ^C stops it)", Run: v.poolmon},
		{Name: "!lookaside", Args: "[-a]", Help: "lookaside lists with counters (-a: idle system lists too)", Run: v.lookaside},
		{Name: "!verifier", Help: "Driver Verifier: what is verified, its counters, the verified drivers' outstanding allocations (live only)", Run: v.verifier},
		{Name: "!securepool", Help: "the secure pools (ExCreatePool): each pool's handle, tag and pages, its allocated blocks with flags and cookie", Run: v.securepool},
		{Name: "lm", Help: "loaded modules: the kernel image and drivers, with their pool tags in use", Run: v.lm},
	}
}

type views struct{ t Target }

// addressArg is the one address argument.
func (v views) addressArg(args []string) (uintptr, error) {
	return kd.AddressArgument(args, v.t.Names())
}

// noArgs checks a command that takes no argument.
func noArgs(args []string) error {
	if len(args) != 0 {
		return console.ErrUsage
	}
	return nil
}

func (v views) vm(w io.Writer, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	r, err := v.t.VM()
	if err != nil {
		return err
	}
	r.Write(w)
	return nil
}

func (v views) memusage(w io.Writer, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	db, err := v.t.PFN()
	if err != nil {
		return err
	}
	fmt.Fprint(w, db.Stats())
	return nil
}

// numa is NT's !numa, from the PFN database's node table: each node's
// processors, physical memory and per-node page lists.
func (v views) numa(w io.Writer, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	db, err := v.t.PFN()
	if err != nil {
		return err
	}
	nodes := db.NodeStats()
	fmt.Fprintf(w, "NUMA nodes: %d (highest node %d)\n", len(nodes), len(nodes)-1)
	for _, n := range nodes {
		fmt.Fprintf(w, "NODE %d\n", n.Node)
		fmt.Fprintf(w, "  Processors: %s\n", processorList(n.Processors))
		switch {
		case len(n.Memory) == 0 && len(nodes) == 1:
			fmt.Fprintln(w, "  Memory:     every frame (no SRAT ranges)")
		case len(n.Memory) == 0:
			fmt.Fprintln(w, "  Memory:     none")
		}
		for _, r := range n.Memory {
			fmt.Fprintf(w, "  Memory:     %s-%s (%d KB)\n", kd.FormatAddress(uint64(r.First.Addr())), kd.FormatAddress(uint64(r.End.Addr())-1),
				uint64(r.End-r.First)*physmem.PageSize/1024)
		}
		fmt.Fprintf(w, "  Free:       %10d pages (%d KB)\n", n.Free, n.Free*physmem.PageSize/1024)
		fmt.Fprintf(w, "  Zeroed:     %10d pages (%d KB)\n", n.Zeroed, n.Zeroed*physmem.PageSize/1024)
	}
	return nil
}

// processorList is the processors of mask, by number.
func processorList(mask uint64) string {
	var s []string
	for i := range 64 {
		if mask&(1<<i) != 0 {
			s = append(s, fmt.Sprint(i))
		}
	}
	if s == nil {
		return "none"
	}
	return strings.Join(s, " ")
}

func (v views) pfn(w io.Writer, args []string) error {
	p, err := v.addressArg(args)
	if err != nil {
		return err
	}
	db, err := v.t.PFN()
	if err != nil {
		return err
	}
	info, ok := db.Decode(physmem.PFN(p))
	if !ok {
		return fmt.Errorf("frame %#x is beyond the PFN database (%#x frames)", p, uint64(db.Frames()))
	}
	fmt.Fprintln(w, info)
	if info.Pte != 0 && info.OriginalPte != 0 {
		// What the owner's PTE becomes if the frame is taken away: for a
		// standby page, the paging-file PTE of its copy.
		fmt.Fprintf(w, "    original PTE: %v\n", pte.PTE(info.OriginalPte))
	}
	return nil
}

// walkArg is the one address argument and the page-table walk for it.
func (v views) walkArg(args []string) (uintptr, pte.Walk, error) {
	va, err := v.addressArg(args)
	if err != nil {
		return 0, pte.Walk{}, err
	}
	walk, err := v.t.Lookup(va)
	return va, walk, err
}

func (v views) pte(w io.Writer, args []string) error {
	_, walk, err := v.walkArg(args)
	if err != nil {
		return err
	}
	fmt.Fprint(w, walk)
	return nil
}

func (v views) address(w io.Writer, args []string) error {
	va, walk, err := v.walkArg(args)
	if err != nil {
		return err
	}
	if va < layout.LowerHalfEnd {
		r, ok, err := v.t.Reservation(va)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%#x: Go runtime memory (the lower half)", va)
		if ok {
			fmt.Fprintf(w, ", reservation %#x-%#x", r.Start, r.End-1)
		} else {
			fmt.Fprint(w, ", not reserved")
		}
		fmt.Fprintln(w)
	} else if r, ok := layout.Find(va); ok {
		fmt.Fprintf(w, "%#x: %s (%#x-%#x)\n", va, r.Name, r.Start, r.Last)
	} else {
		return errors.New("not a canonical address")
	}
	_, e := walk.Last()
	fmt.Fprintf(w, "PTE: %v\n", e)
	return nil
}

func (v views) pool(w io.Writer, args []string) error {
	addr, err := v.addressArg(args)
	if err != nil {
		return err
	}
	if r, _ := layout.Find(addr); r.ID == layout.SpecialPool {
		return v.specialPage(w, addr)
	}
	p, err := v.t.Pool()
	if err != nil {
		return err
	}
	if found, err := v.secureInspect(w, addr); found || err != nil {
		return err
	}
	r, ok := p.Inspect(addr)
	if !ok {
		return errors.New("not in a pool page")
	}
	fmt.Fprint(w, r)
	return nil
}

// specialPage is !pool on special pool: the block whose pages hold addr.
func (v views) specialPage(w io.Writer, addr uintptr) error {
	blocks, err := v.t.SpecialPool()
	if err != nil {
		return err
	}
	for _, b := range blocks {
		first := b.Address &^ physmem.PageMask
		end := (b.Address + max(b.Size, 1) + physmem.PageMask) &^ physmem.PageMask
		if addr >= first && addr < end {
			fmt.Fprintf(w, "Pool page %s region is Special Pool (Driver Verifier)\n", kd.FormatAddress(uint64(first)))
			guard := kd.FormatAddress(uint64(end))
			if b.Underrun {
				guard = kd.FormatAddress(uint64(first - physmem.PageSize))
			}
			fmt.Fprintf(w, "*%s size: %#x (Allocated) %v  pages %s-%s, guard page %s, slack checked at free\n",
				kd.FormatAddress(uint64(b.Address)), b.Size, b.Tag, kd.FormatAddress(uint64(first)), kd.FormatAddress(uint64(end-1)), guard)
			return nil
		}
	}
	return errors.New("special pool, but no live block there (a guard page, or a freed block's page kept unmapped)")
}

func (v views) verifier(w io.Writer, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	return v.t.Verifier(w)
}

func (v views) poolfind(w io.Writer, args []string) error {
	if len(args) != 1 {
		return console.ErrUsage
	}
	p, err := v.t.Pool()
	if err != nil {
		return err
	}
	tag := pool.MakeTag(args[0])
	blocks := p.Find(tag)
	for _, b := range blocks {
		fmt.Fprintf(w, "%016x  size %6d  %v  %v\n", b.Addr, b.Bytes, b.Tag, b.State)
	}
	n := len(blocks)
	special, _ := v.t.SpecialPool() // none in a dump
	for _, b := range special {
		if b.Tag == tag {
			fmt.Fprintf(w, "%016x  size %6d  %v  %v (special pool)\n", b.Address, b.Size, b.Tag, pool.StateAllocated)
			n++
		}
	}
	n += v.secureFind(w, tag)
	fmt.Fprintf(w, "%d blocks\n", n)
	return nil
}

func (v views) poolused(w io.Writer, args []string) error {
	if len(args) > 1 {
		return console.ErrUsage
	}
	tags, err := v.t.PoolTags()
	if err != nil {
		return err
	}
	secure := v.secureTags()
	if len(args) == 0 {
		pool.WritePoolMon(w, tags)
		securepool.WriteTags(w, secure)
		return nil
	}
	want := pool.MakeTag(args[0])
	found := false
	for _, s := range tags {
		if s.Tag == want {
			pool.WritePoolMon(w, []pool.TagStat{s})
			found = true
		}
	}
	for _, s := range secure {
		if s.Tag == want {
			if !found {
				pool.WritePoolMon(w, nil)
			}
			securepool.WriteTags(w, []securepool.TagInfo{s})
			found = true
		}
	}
	if !found {
		return fmt.Errorf("no allocations with tag %q", args[0])
	}
	return nil
}

// ErrStillPicture refuses a refresh interval over a dump.
var ErrStillPicture = errors.New("a crash dump is a still picture: no refresh interval")

func (v views) poolmon(w io.Writer, args []string) error {
	refreshes, interval := 1, time.Duration(0)
	switch len(args) {
	case 0:
	case 1:
		secs, err := console.Duration(args[0], time.Second, maxPoolmonInterval)
		if err != nil {
			return err
		}
		if !v.t.Live() {
			return ErrStillPicture
		}
		refreshes, interval = poolmonRefreshes, secs
	default:
		return console.ErrUsage
	}
	for i := range refreshes {
		if i > 0 {
			if err := console.Sleep(interval); err != nil {
				return err
			}
		}
		tags, err := v.t.PoolTags()
		if err != nil {
			return err
		}
		pool.WritePoolMon(w, tags)
		securepool.WriteTags(w, v.secureTags())
	}
	return nil
}

func (v views) lookaside(w io.Writer, args []string) error {
	all := false
	switch {
	case len(args) == 0:
	case len(args) == 1 && args[0] == "-a":
		all = true
	default:
		return console.ErrUsage
	}
	lists, err := v.t.Lookasides()
	if err != nil {
		return err
	}
	writeLookasides(w, lists, all)
	return nil
}

// ProcessorLookasides sums processor cpu's System lists among lists (NT's
// per-processor pool lookasides in its KPRCB) in one line, for !pcr;
// !lookaside shows them one by one.
func ProcessorLookasides(lists []ex.LookasideInfo, cpu int) string {
	var used, cached, allocs, misses, frees uint64
	for _, l := range lists {
		if l.Owner != ex.OwnerSystem || l.CPU != cpu || l.TotalAllocates == 0 && l.TotalFrees == 0 {
			continue
		}
		used++
		cached += uint64(l.Count)
		allocs += uint64(l.TotalAllocates)
		misses += uint64(l.AllocateMisses)
		frees += uint64(l.TotalFrees)
	}
	return fmt.Sprintf("%d lists in use, %d blocks cached, %d allocations (%d missed), %d frees (!lookaside)",
		used, cached, allocs, misses, frees)
}

// writeLookasides prints lists as !lookaside does; idle System lists
// (never allocated from) are left out unless all.
func writeLookasides(w io.Writer, lists []ex.LookasideInfo, all bool) {
	fmt.Fprintf(w, "%-6s %3s %-18s %-4s %-8s %5s %10s %10s %10s %10s %5s %5s %4s\n",
		"Owner", "CPU", "Address", "Tag", "Type", "Size", "Allocates", "AllocMiss", "Frees", "FreeMiss", "Depth", "Max", "Hit%")
	for _, l := range lists {
		if l.Owner == ex.OwnerSystem && l.TotalAllocates == 0 && !all {
			continue
		}
		cpu, addr, tag := "-", "-", "-"
		if l.Owner == ex.OwnerSystem {
			cpu = fmt.Sprint(l.CPU)
		} else {
			addr, tag = fmt.Sprintf("%#x", l.Address), l.Tag.String()
		}
		fmt.Fprintf(w, "%-6s %3s %-18s %-4s %-8v %5d %10d %10d %10d %10d %5d %5d %4d\n",
			l.Owner, cpu, addr, tag, pool.KindOf(l.PoolType), l.Size, l.TotalAllocates, l.AllocateMisses,
			l.TotalFrees, l.FreeMisses, l.Depth, l.MaximumDepth, l.HitRate())
	}
}
