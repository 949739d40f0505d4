package ptesim

import (
	"fmt"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

// Tables reaches page-table entries at their self-map addresses through the
// simulated MMU: the host's pte.Tables. An entry whose path is not present
// is a walker bug, and panics with the fault.
type Tables struct{ MMU *MMU }

func (t Tables) Load(l pte.Level, va uintptr) pte.PTE {
	v, code, ok := t.MMU.Read64(pte.EntryAddress(l, va))
	if !ok {
		panic(fmt.Sprintf("ptesim: reading the %v of %#x through the self-map: #PF %v", l, va, code))
	}
	return pte.PTE(v)
}

func (t Tables) Store(l pte.Level, va uintptr, e pte.PTE) {
	if code, ok := t.MMU.Write64(pte.EntryAddress(l, va), uint64(e)); !ok {
		panic(fmt.Sprintf("ptesim: writing the %v of %#x through the self-map: #PF %v", l, va, code))
	}
}

// Recorder is a pte.Flusher that logs each flush and passes it on to Next.
type Recorder struct {
	Next pte.Flusher
	// Pages are the addresses of FlushPage calls, in order.
	Pages []uintptr
	// Full counts FlushAll calls.
	Full int
}

func (r *Recorder) FlushPage(va uintptr) {
	r.Pages = append(r.Pages, va)
	r.Next.FlushPage(va)
}

func (r *Recorder) FlushAll() {
	r.Full++
	r.Next.FlushAll()
}

// Reset forgets the log.
func (r *Recorder) Reset() { r.Pages, r.Full = nil, 0 }

// Machine is simulated memory with a PML4 (self-map in place), a frame
// source, an MMU, and a walker over them that flushes the MMU's TLB.
type Machine struct {
	Mem    *physmem.Sim
	Frames *Frames
	MMU    *MMU
	PT     *pte.PageTables
	PML4   physmem.PFN
}

// New builds a machine with n frames of memory.
func New(n physmem.PFN) *Machine {
	mem := physmem.NewSim(n)
	frames := NewFrames(mem)
	pml4, ok := frames.AllocTable()
	if !ok {
		panic("ptesim: no frame for the PML4")
	}
	mem.Store64(pml4.Addr()+pte.SelfMapSlot*8, uint64(pte.SelfMapEntry(pml4)))
	m := &Machine{Mem: mem, Frames: frames, MMU: NewMMU(mem, pml4), PML4: pml4}
	m.PT = m.NewPageTables(m.MMU)
	return m
}

// NewPageTables is another walker over the machine's tables, flushing
// through f (a Recorder wrapping MMU, say).
func (m *Machine) NewPageTables(f pte.Flusher) *pte.PageTables {
	return pte.New(Tables{m.MMU}, m.Frames, f)
}

// Close releases the simulated memory.
func (m *Machine) Close() { m.Mem.Close() }

// hardwareSet is what the CPU may set in an entry behind the kernel's back.
const hardwareSet = pte.Accessed | pte.Dirty

// Check walks the tables physically from the PML4 — not through the
// self-map the walker uses — and verifies the walker's invariants: the
// self-map entry is intact; every present non-leaf entry's used count equals
// the number of non-zero entries in its table and is not zero; every table
// frame is a Table frame from Frames, reached once; no Table frame is
// unreachable. It calls leaf, if not nil, with each non-zero leaf (4 KiB or
// large) and the canonical address it maps.
func (m *Machine) Check(leaf func(va uintptr, e pte.PTE)) error {
	c := checker{m: m, leaf: leaf, seen: map[physmem.PFN]bool{m.PML4: true}}
	self := pte.PTE(m.Mem.Load64(m.PML4.Addr() + pte.SelfMapSlot*8))
	if self&^hardwareSet != pte.SelfMapEntry(m.PML4) {
		return fmt.Errorf("self-map entry is %v", self)
	}
	if _, err := c.entries(pte.PML4, m.PML4, 0); err != nil {
		return err
	}
	if len(c.seen) != m.Frames.Count(Table) {
		return fmt.Errorf("%d table frames reachable, %d handed out", len(c.seen), m.Frames.Count(Table))
	}
	return nil
}

type checker struct {
	m    *Machine
	leaf func(uintptr, pte.PTE)
	seen map[physmem.PFN]bool
}

// entries checks the level-l table in frame f, which maps from base up, and
// returns its number of non-zero entries.
func (c *checker) entries(l pte.Level, f physmem.PFN, base uintptr) (used int, err error) {
	for i := 0; i < pte.EntriesPerTable; i++ {
		if l == pte.PML4 && i == pte.SelfMapSlot {
			continue
		}
		e := pte.PTE(c.m.Mem.Load64(f.Addr() + uint64(i)*8))
		if e == 0 {
			continue
		}
		used++
		va := pte.Canonical(base | uintptr(i)<<l.Shift())
		if l == pte.PT || (l != pte.PML4 && e.Large()) {
			if c.leaf != nil {
				c.leaf(va, e)
			}
			continue
		}
		if !e.Valid() {
			return 0, fmt.Errorf("%v for %#x is %v: a non-leaf entry must be present or zero", l, va, e)
		}
		child := e.Frame()
		if c.seen[child] || c.m.Frames.Use(child) != Table {
			return 0, fmt.Errorf("%v for %#x points to frame %#x (%v, seen before: %v)", l, va, child, c.m.Frames.Use(child), c.seen[child])
		}
		c.seen[child] = true
		n, err := c.entries(l-1, child, va)
		if err != nil {
			return 0, err
		}
		if n == 0 || n != e.UsedEntries() {
			return 0, fmt.Errorf("%v for %#x counts %d used entries, the table has %d", l, va, e.UsedEntries(), n)
		}
	}
	return used, nil
}
