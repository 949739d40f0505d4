package dump

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"ntgo/kernel/console/commandtest"
	"ntgo/kernel/kd"
	"ntgo/kernel/kd/mmext"
	"ntgo/kernel/ldr"
	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/pte/ptesim"
	"ntgo/mm/securepool"
	"ntgo/mm/securepool/simpages"
	"ntgo/mm/vmstat"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// mmuMemory reads a ptesim machine's address space through its MMU, as
// the kernel's debugger memory reads the live one.
type mmuMemory struct{ m *ptesim.Machine }

func (mm mmuMemory) Read(addr uintptr, b []byte) bool {
	for off := 0; off < len(b); {
		a := addr + uintptr(off)
		pa, _, ok := mm.m.MMU.Translate(a, pte.AccessRead)
		if !ok {
			return false
		}
		off += copy(b[off:], mm.m.Mem.Frame(physmem.FrameOf(pa))[pa&physmem.PageMask:])
	}
	return true
}

// hostMemory reads the pool's arenas, which are host memory.
func hostMemory(addr uintptr, b []byte) bool {
	copy(b, unsafe.Slice((*byte)(pool.Ptr(addr)), len(b)))
	return true
}

const (
	simFrameCount = 256
	mappedVA      = 0xFFFFF80000200000 // a kernel address with a 4 KiB mapping
	unmappedVA    = 0xFFFFF80000400000
	kernelCS      = 0x08
	arenaPages    = 64
	// blockMarkBytes of each live pool block hold its number, for db.
	blockMarkBytes = 8
)

// threads stand for the kernel's thread table at the stop.
var threads = []kd.Thread{
	{Index: 0, TID: 1, State: "RUNNING", Wait: "-", CPUTime: 1500 * time.Microsecond, Switches: 3, Note: "(stopped here)"},
	{Index: 1, TID: 2, State: "WAIT", Wait: "futex 000000c0`00001000", Switches: 9, RIP: 0x401234},
	{Index: 63, TID: 0, State: "READY", Wait: "-", RIP: 0x401300, Idle: true},
}

// reservations stand for the Go runtime's in the lower half.
var reservations = []layout.Reservation{{Start: 0x7000_0000_0000, End: 0x7000_0040_0000}, {Start: 0xc000000000, End: 0xc004000000}}

// live is the host simulation a dump is taken of.
type live struct {
	crash   *Crash
	db      *pfn.Database
	machine *ptesim.Machine
	pool    *pool.System
	arenas  [2]*pool.Arena // nonpaged, paged
	blocks  []uintptr      // live pool allocations
	secure  *securepool.System
	sblocks []uintptr // live secure-pool allocations
}

// secureTag tags the simulation's secure-pool blocks.
var secureTag = pool.MakeTag("SecD")

// newSecure is a secure pool with a few blocks over a simulated MMU.
func newSecure(t *testing.T) (*securepool.System, []uintptr) {
	sp := simpages.NewMachine(16)
	t.Cleanup(sp.Close)
	s := securepool.New(sp, 0)
	h := s.Create(secureTag)
	var blocks []uintptr
	for i, n := range []uintptr{24, 100, 5000} {
		b, f := s.Allocate(h, n, secureTag, make([]byte, n), uint64(i), securepool.Freeable)
		if f != securepool.OK {
			t.Fatal(f)
		}
		blocks = append(blocks, b)
	}
	return s, blocks
}

func newLive(t *testing.T) *live {
	t.Helper()
	m := []pfn.Range{{Base: 0, Length: simFrameCount * physmem.PageSize, Type: pfn.RangeFree}}
	n, _, _ := pfn.Size(m)
	sim := physmem.NewSim(n)
	t.Cleanup(sim.Close)
	db := new(pfn.Database)
	if st := db.Init(make([]pfn.Entry, n), m, sim); st != ntstatus.Success {
		t.Fatal(st)
	}
	// Two nodes, half the frames each, so !numa has a topology to show.
	half := physmem.PFN(n / 2)
	if st := db.SetNodes(pfn.Nodes{Memory: []pfn.NodeRange{{First: 0, End: half, Node: 0}, {First: half, End: n, Node: 1}},
		Processors: []uint32{0, 1}, Highest: 1}); st != ntstatus.Success {
		t.Fatal(st)
	}
	for i := range 5 {
		if _, ok := db.AllocateZeroed(pte.PteAddress(mappedVA)+uintptr(i)*8, 0); !ok {
			t.Fatal("AllocateZeroed failed")
		}
	}

	machine := ptesim.New(simFrameCount)
	t.Cleanup(machine.Close)
	if st := machine.PT.Map(mappedVA, 7, pte.ProtReadWrite, pte.Cached); st != ntstatus.Success {
		t.Fatal(st)
	}

	np, pg := pool.NewArena(arenaPages), pool.NewArena(arenaPages)
	t.Cleanup(func() { np.Close(); pg.Close() })
	ps, err := pool.New(pool.Config{NonPaged: np, Paged: pg, MaxNonPagedBytes: arenaPages * physmem.PageSize, MaxPagedBytes: arenaPages * physmem.PageSize})
	if err != nil {
		t.Fatal(err)
	}
	tagA, tagB := pool.MakeTag("Dmp1"), pool.MakeTag("Dmp2")
	var blocks []uintptr
	for range 3 {
		blocks = append(blocks, ps.Allocate(pool.NonPagedPool, 100, tagA, pool.NormalPoolPriority, 0))
	}
	ps.Free(ps.Allocate(pool.PagedPool, 5000, tagB, pool.NormalPoolPriority, 0), tagB)
	blocks = append(blocks, ps.Allocate(pool.PagedPool, 40, tagB, pool.NormalPoolPriority, 0),
		ps.Allocate(pool.NonPagedPool, 2*physmem.PageSize, tagB, pool.NormalPoolPriority, 0))
	for i, b := range blocks { // contents for db to show
		copy(unsafe.Slice((*byte)(pool.Ptr(b)), blockMarkBytes), fmt.Sprintf("block%03d", i))
	}

	if st := ldr.Load(ldr.Module{Name: "dumptest", Package: "ntgo/kernel/kd/dump", Tags: []pool.Tag{tagA}}); st != ntstatus.Success {
		t.Fatal(st)
	}
	t.Cleanup(func() { ldr.Unload("dumptest") })
	secure, sblocks := newSecure(t)
	regs := kd.Registers{RAX: 0xa, RIP: 0x401234, RSP: 0xfffff80000001000, CS: kernelCS, CR3: uint64(machine.PML4.Addr()), CR2: unmappedVA}
	return &live{
		crash: &Crash{
			Record:       bugcheck.Record{Code: bugcheck.PageFaultInNonpagedArea, Params: [4]uintptr{unmappedVA, 0, 0x401234, 0}, PC: 0x401200},
			Context:      kd.Context{Registers: regs, Stack: []uintptr{0x401300, 0x401400}},
			PFN:          db.NewSnapshot(),
			Counters:     &vmstat.Counters{CommittedPages: 42, SystemPtesFree: 10, SystemPtesTotal: 16},
			PoolTags:     ps.PoolMon(),
			Pool:         ps.Capture(hostMemory),
			Tables:       CaptureTables(regs.CR3, mmuMemory{machine}),
			Reservations: reservations,
			Modules:      ldr.Modules(),
			Threads:      threads,
			Secure:       secure.Capture(),
			Processors: []kd.Processor{{Number: 0, IRQL: 2, State: "the bugcheck", Registers: regs},
				{Number: 1, IRQL: 0, State: "stalled", Registers: kd.Registers{RIP: 0x402000, RSP: 0xc000123000, RBX: 0x5}}},
		},
		db: db, machine: machine, pool: ps, arenas: [2]*pool.Arena{np, pg}, blocks: blocks, secure: secure, sblocks: sblocks,
	}
}

// target is the memory manager's views' Target over the simulation, the
// same adapter the kernel gives its console (mmext.Live).
func (l *live) target() *mmext.Live {
	return &mmext.Live{
		Frames:       l.db,
		Walk:         l.machine.PT.Lookup,
		Report:       l.vmReport,
		RuntimeRange: func(va uintptr) (layout.Reservation, bool) { return layout.FindReservation(reservations, va) },
		Pools:        func() (*pool.System, bool) { return l.pool, true },
		Lists:        func() ([]ex.LookasideInfo, bool) { return nil, true },
		Secure:       func() (*securepool.Image, bool) { return l.secure.Capture(), true },
	}
}

// vmReport is !vm of the live simulation.
func (l *live) vmReport() vmstat.Report {
	var pages [2]vmstat.PoolPages
	for i, a := range l.arenas {
		_, size := a.Region()
		pages[i] = vmstat.PoolPages{InUse: uint64(a.InUse()), Max: uint64(size / physmem.PageSize)}
	}
	return vmstat.Report{PFN: l.db.Stats(), Counters: *l.crash.Counters, Pools: vmstat.NewPools(l.pool, pages[0], pages[1])}
}

func writeRead(t *testing.T, c *Crash) *Dump {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, c); err != nil {
		t.Fatal(err)
	}
	d, err := Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// view runs a viewer command line over d.
func view(t *testing.T, d *Dump, line string) string {
	t.Helper()
	return commandtest.Run(t, d.Commands(), line)
}

func TestRoundTripMatchesLiveViews(t *testing.T) {
	l := newLive(t)
	d := writeRead(t, l.crash)
	if d.Record != l.crash.Record {
		t.Errorf("record %+v, want %+v", d.Record, l.crash.Record)
	}
	if d.Context.Registers != l.crash.Context.Registers || fmt.Sprint(d.Context.Stack) != fmt.Sprint(l.crash.Context.Stack) {
		t.Errorf("context %+v, want %+v", d.Context, l.crash.Context)
	}
	for p := physmem.PFN(0); p < l.db.Frames(); p++ {
		info, _ := l.db.Decode(p)
		if got := view(t, d, fmt.Sprintf("!pfn %x", uint64(p))); got != info.String()+"\n" {
			t.Fatalf("!pfn %x: %q, want %q", p, got, info)
		}
	}
	if got, want := view(t, d, "!memusage"), l.db.Stats().String(); got != want {
		t.Errorf("!memusage:\n%s\nwant\n%s", got, want)
	}
	for _, va := range []uintptr{mappedVA, unmappedVA, pte.PteAddress(mappedVA), 0x1000} {
		if got, want := view(t, d, fmt.Sprintf("!pte %x", va)), l.machine.PT.Lookup(va).String(); got != want {
			t.Errorf("!pte %x:\n%s\nwant\n%s", va, got, want)
		}
	}
	if !strings.Contains(view(t, d, fmt.Sprintf("!pte %x", uintptr(mappedVA))), "pfn 7 P|W|NX READWRITE") {
		t.Error("!pte of the mapped address does not show its protection")
	}
	if got := view(t, d, "!pte @cr2"); got != l.machine.PT.Lookup(unmappedVA).String() {
		t.Errorf("!pte @cr2: %q", got)
	}
	var regs strings.Builder
	l.crash.Context.Registers.Write(&regs)
	if got := view(t, d, "r"); got != regs.String() {
		t.Errorf("r:\n%s\nwant\n%s", got, regs.String())
	}
	var table strings.Builder
	kd.WriteThreads(&table, noSymbols{}, threads)
	if got := view(t, d, "!thread"); got != table.String() || !strings.Contains(got, "futex 000000c0`00001000") {
		t.Errorf("!thread:\n%s\nwant\n%s", got, table.String())
	}
	var procs strings.Builder
	kd.WriteProcessors(&procs, noSymbols{}, l.crash.Processors)
	if got := view(t, d, "~"); got != procs.String() || !strings.Contains(got, "stalled") {
		t.Errorf("~:\n%s\nwant\n%s", got, procs.String())
	}
	var regs1 strings.Builder
	l.crash.Processors[1].Registers.Write(&regs1)
	if got := view(t, d, "~ 1"); !strings.HasSuffix(got, regs1.String()) || !strings.HasPrefix(got, "Processor 1 (stalled), IRQL 0:") {
		t.Errorf("~ 1:\n%s\nwant processor 1's registers\n%s", got, regs1.String())
	}
	if got := view(t, d, "~ 2"); !strings.Contains(got, "no processor 2") {
		t.Errorf("~ 2 on a two-processor dump: %q", got)
	}
	if got := view(t, d, "k"); got != " # Call Site\n00 00000000`00401300\n01 00000000`00401400\n" {
		t.Errorf("k: %q", got)
	}
	if got := view(t, d, "db @rsp"); !strings.Contains(got, "is not mapped") {
		t.Errorf("db of memory the dump does not hold: %q", got)
	}
}

// Every memory-manager view prints the same bytes over the dump as over
// the running simulation it was taken of: the console and the viewer run
// one code (kernel/kd/mmext) over two Targets.
func TestViewsIdenticalLiveAndDump(t *testing.T) {
	l := newLive(t)
	d := writeRead(t, l.crash)
	lines := []string{"!vm", "!memusage", "!numa", "!poolused", "!poolused Dmp2", "!poolused Nope", "poolmon",
		"!poolfind Dmp1", "!poolfind Dmp2", "!poolfind Nope", "lm",
		"!pfn 100000", "!pfn", "!address 0", "!address 7000`00001000", "!address c000001000", "!address 800000000000",
		"!pool 1000", "!pte", "!securepool", "!poolfind SecD", "!poolused SecD", "!ws"}
	for _, b := range l.sblocks {
		lines = append(lines, fmt.Sprintf("!pool %x", b))
	}
	for p := physmem.PFN(0); p < l.db.Frames(); p += 17 {
		lines = append(lines, fmt.Sprintf("!pfn %x", uint64(p)))
	}
	for _, va := range []uintptr{mappedVA, unmappedVA, pte.PteAddress(mappedVA), 0x1000, layout.NonPagedPoolStart} {
		lines = append(lines, fmt.Sprintf("!pte %x", va), fmt.Sprintf("!address %x", va))
	}
	for _, b := range l.blocks {
		lines = append(lines, fmt.Sprintf("!pool %x", b), fmt.Sprintf("!address %x", b))
	}
	live := mmext.Commands(l.target())
	for _, line := range lines {
		want := commandtest.Run(t, live, line)
		if got := view(t, d, line); got != want {
			t.Errorf("%s over the dump:\n%s\nover the running system:\n%s", line, got, want)
		}
	}
	if out := view(t, d, "!numa"); !strings.Contains(out, "NUMA nodes: 2") || !strings.Contains(out, "NODE 1\n  Processors: 1\n") {
		t.Errorf("!numa over the dump:\n%s", out)
	}
	if out := view(t, d, "!poolfind Dmp1"); !strings.Contains(out, "3 blocks") {
		t.Errorf("!poolfind Dmp1 over the dump:\n%s", out)
	}
	if out := view(t, d, fmt.Sprintf("!pool %x", l.sblocks[1])); !strings.Contains(out, "region is Secure pool") ||
		!strings.Contains(out, "(Allocated) SecD  secure: handle") || !strings.Contains(out, "flags FREEABLE") {
		t.Errorf("!pool of a secure block over the dump:\n%s", out)
	}
	if out := view(t, d, "!securepool"); strings.Count(out, "SecD  flags FREEABLE") != 3 {
		t.Errorf("!securepool over the dump:\n%s", out)
	}
	if out := view(t, d, "poolmon"); !strings.Contains(out, "SecD Secure") {
		t.Errorf("poolmon over the dump lacks the secure row:\n%s", out)
	}
	if out := view(t, d, "lm"); !strings.Contains(out, "dumptest") || !strings.Contains(out, "Dmp1 3/") {
		t.Errorf("lm over the dump:\n%s", out)
	}
	if out := view(t, d, "!address 7000`00001000"); !strings.Contains(out, "reservation 0x700000000000-0x7000003fffff") {
		t.Errorf("!address in a reservation:\n%s", out)
	}
	// The one difference, explicit: a dump is a still picture.
	if got := view(t, d, "poolmon 1"); got != "error: "+mmext.ErrStillPicture.Error() {
		t.Errorf("poolmon 1 over a dump: %q", got)
	}
}

// !vm, !pool and db over the pool's pages read from the dump as from the
// live pool.
func TestPoolViewsFromDump(t *testing.T) {
	l := newLive(t)
	d := writeRead(t, l.crash)
	var want strings.Builder
	vm := l.vmReport()
	vm.Write(&want)
	if got := view(t, d, "!vm"); got != want.String() {
		t.Errorf("!vm:\n%s\nlive:\n%s", got, want.String())
	}
	if !strings.Contains(view(t, d, "!vm"), "NonPagedNx:             1 pages +      2 big pages:") {
		t.Errorf("!vm does not show the pool's pages:\n%s", view(t, d, "!vm"))
	}
	for _, a := range l.blocks {
		live, ok := l.pool.Inspect(a)
		if !ok {
			t.Fatalf("the live pool does not hold %#x", a)
		}
		if got := view(t, d, fmt.Sprintf("!pool %x", a)); got != live.String() {
			t.Errorf("!pool %#x:\n%s\nlive:\n%s", a, got, live)
		}
		var want [blockMarkBytes]byte
		hostMemory(a, want[:])
		if got := view(t, d, fmt.Sprintf("db %x %d", a, blockMarkBytes)); !strings.Contains(got, fmt.Sprintf("% x", want[:])) {
			t.Errorf("db %#x: %q, want the bytes % x", a, got, want)
		}
	}
	if got := view(t, d, "!pool 1000"); got != "error: not in a pool page" {
		t.Errorf("!pool of no pool page: %q", got)
	}
}

func TestPoolMonFromDump(t *testing.T) {
	l := newLive(t)
	d := writeRead(t, l.crash)
	out := view(t, d, "poolmon")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := map[string][3]int64{}
	for _, s := range l.pool.PoolMon() {
		for k, c := range s.Kinds {
			if c.Allocs != 0 || c.Frees != 0 {
				want[s.Tag.String()+" "+pool.Kind(k).String()] = [3]int64{int64(c.Allocs), int64(c.Frees), c.Bytes}
			}
		}
	}
	for _, s := range l.secure.Tags() {
		want[s.Tag.String()+" Secure"] = [3]int64{int64(s.Counts.Allocs), int64(s.Counts.Frees), s.Counts.Bytes}
	}
	if len(lines)-1 != len(want) || len(want) < 2 {
		t.Fatalf("poolmon has %d rows, the live pool %d:\n%s", len(lines)-1, len(want), out)
	}
	for _, l := range lines[1:] {
		var tag, kind string
		var allocs, frees, diff, bytes int64
		if _, err := fmt.Sscan(l, &tag, &kind, &allocs, &frees, &diff, &bytes); err != nil {
			t.Fatalf("row %q: %v", l, err)
		}
		if w := want[tag+" "+kind]; w != [3]int64{allocs, frees, bytes} || diff != allocs-frees {
			t.Errorf("row %q, want %v", l, w)
		}
	}
	if !strings.Contains(out, "Dmp1") || !strings.Contains(out, "Dmp2") {
		t.Errorf("poolmon lacks the test tags:\n%s", out)
	}
}

func TestPartialDump(t *testing.T) {
	l := newLive(t)
	c := *l.crash
	c.PFN, c.Tables, c.PoolTags, c.Counters, c.Pool = nil, nil, nil, nil, nil
	c.Reservations, c.Modules, c.Threads, c.Processors = nil, nil, nil, nil
	d := writeRead(t, &c)
	for _, cmd := range []string{"!pfn 1", "!memusage", "!pte 1000", "poolmon", "!vm", "!pool 1000",
		"!poolfind Dmp1", "!poolused", "!address 1000", "lm", "!lookaside", "!thread", "~", "!ws", "!ws trim"} {
		if got := view(t, d, cmd); got != "error: "+mmext.ErrNotHeld.Error() {
			t.Errorf("%s on a dump without it: %q", cmd, got)
		}
	}
}

func TestReadRefusesDamage(t *testing.T) {
	l := newLive(t)
	var b bytes.Buffer
	if err := Write(&b, l.crash); err != nil {
		t.Fatal(err)
	}
	good := b.Bytes()
	flipped := bytes.Clone(good)
	flipped[len(magic)+4+sectionHeaderBytes] ^= 1 // first byte of the record payload
	for name, c := range map[string]struct {
		b    []byte
		want error
	}{
		"not a dump":  {[]byte("ELF..."), ErrNotDump},
		"bit flipped": {flipped, ErrDamaged},
		"version":     {append([]byte(magic), 9, 0, 0, 0), ErrVersion},
	} {
		if _, err := Read(bytes.NewReader(c.b)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if _, err := Read(bytes.NewReader(good[:len(good)-1])); !errors.Is(err, ErrTruncated) {
		t.Errorf("a dump without its end marker: %v, want ErrTruncated", err)
	}
	for name, c := range map[string]struct {
		b    []byte
		want error
	}{
		"empty":              {nil, ErrEmpty},
		"cut in the header":  {good[:len(magic)-2], ErrTruncated},
		"cut in the record":  {good[:len(magic)+4+sectionHeaderBytes+3], ErrTruncated},
		"other magic, short": {[]byte("NTX"), ErrNotDump},
	} {
		if d, err := Read(bytes.NewReader(c.b)); !errors.Is(err, c.want) || d != nil {
			t.Errorf("%s: %v (dump %v), want %v and no dump", name, err, d != nil, c.want)
		}
	}
}

// A dump cut after its first sections still answers from those.
func TestTruncatedDumpKeepsWholeSections(t *testing.T) {
	l := newLive(t)
	var b bytes.Buffer
	if err := Write(&b, l.crash); err != nil {
		t.Fatal(err)
	}
	d, err := Read(bytes.NewReader(b.Bytes()[:b.Len()/2]))
	if !errors.Is(err, ErrTruncated) || d == nil {
		t.Fatalf("half a dump: %v, dump %v", err, d != nil)
	}
	defer d.Close()
	if d.Record != l.crash.Record || d.PFN == nil {
		t.Errorf("half a dump lost its record or PFN database: %+v", d.Record)
	}
	if got := view(t, d, "!memusage"); got != l.db.Stats().String() {
		t.Errorf("!memusage of half a dump:\n%s", got)
	}
}

// fakeKernel is a KernelImage whose text is one page.
type fakeKernel struct{ text pageMemory }

func (fakeKernel) Frames(uintptr) []kd.Frame { return nil }

func (k fakeKernel) Read(addr uintptr, b []byte) bool { return k.text.Read(addr, b) }

// The viewer uses a kernel ELF only if its code is the dump's.
func TestMatchKernel(t *testing.T) {
	const codePage = 0x401000
	l := newLive(t)
	code := new([physmem.PageSize]byte)
	copy(code[:], "\x48\x89\xe5 the kernel's code")
	text := pageMemory{codePage: code}
	l.crash.Code = CaptureCode(codePage+0x123, text)
	d := writeRead(t, l.crash)
	if checked, err := d.MatchKernel(fakeKernel{text}); !checked || err != nil {
		t.Errorf("the kernel that wrote the dump: checked %v, %v", checked, err)
	}
	other := *code
	other[7] ^= 1
	if _, err := d.MatchKernel(fakeKernel{pageMemory{codePage: &other}}); err == nil || !strings.Contains(err.Error(), "00000000`00401000 differs") {
		t.Errorf("another kernel: %v", err)
	}
	if _, err := d.MatchKernel(fakeKernel{pageMemory{}}); err == nil {
		t.Error("a kernel without that code matched")
	}
	if got := view(t, d, "db 401000 3"); !strings.Contains(got, "48 89 e5") {
		t.Errorf("db over the dump's code page: %q", got)
	}
	l.crash.Code = nil
	if checked, err := writeRead(t, l.crash).MatchKernel(fakeKernel{text}); checked || err != nil {
		t.Errorf("a dump without code: checked %v, %v", checked, err)
	}
}
