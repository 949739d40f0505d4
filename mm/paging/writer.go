// The modified page writer.
//
// WriteModified takes up to ClusterPages frames off the modified list
// (pfn's StartWrite: each held in Transition for its write), gives them a
// run of consecutive slots, names each slot in the frame's original PTE,
// and writes the run with one device transfer: a cluster. Up to
// WritesInFlight clusters are written at once, each by its own goroutine,
// while the next is gathered: the device works on several while the PFN
// moves of the next run, so the writer keeps up with the disk's sequential
// write rate rather than waiting out each transfer. Then each frame is
// released (EndWrite) to Standby, or to Modified if its owner dirtied it
// meanwhile. A frame whose owner deleted it before its slot was named is
// released without a slot. A failed write takes the slots back out of the
// original PTEs, frees them and releases the frames to Modified, so the
// next pass tries again and no contents are lost. ModifiedNoWrite frames
// are never taken (pfn's StartWrite reads the modified list only).

package paging

import (
	"sync"
	"sync/atomic"

	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// WritesInFlight is how many clusters the writer has at the device at once:
// two scattered 64-page clusters take 132 of the virtio queue's 256
// descriptors, leaving room for the fault handler's reads.
const WritesInFlight = 2

// writeFrame is one frame of a cluster.
type writeFrame struct {
	frame   physmem.PFN
	pteAddr uintptr
	slotPte uint64 // its original PTE naming the slot
	orig    uint64 // its original PTE before
}

// cluster is one write: its first slot and frames.
type cluster struct {
	first  uint32
	n      int
	pages  [ClusterPages]writeFrame
	frames [ClusterPages]physmem.PFN
}

// WriteModified writes up to max modified pages and returns how many
// reached the paging file and the status of the last failed write
// (Success if none failed). Without a paging file it writes nothing.
func (p *Pager) WriteModified(max int) (int, ntstatus.Status) {
	p.wsMu.Lock()
	defer p.wsMu.Unlock()
	if p.dev == nil {
		return 0, ntstatus.Success
	}
	var (
		written atomic.Int64
		failed  atomic.Uint32 // the last failed write's status
		wg      sync.WaitGroup
		slots   = make(chan struct{}, WritesInFlight)
	)
	for gathered := 0; gathered < max && failed.Load() == 0; {
		c := p.gather(min(ClusterPages, max-gathered))
		if c == nil {
			break
		}
		gathered += c.n
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st := p.writeCluster(c); st != ntstatus.Success {
				failed.Store(uint32(st))
			} else {
				written.Add(int64(c.n))
			}
			<-slots
		}()
	}
	wg.Wait()
	return int(written.Load()), ntstatus.Status(failed.Load())
}

// gather takes up to want modified frames and a run of slots for them,
// naming each slot in its frame's original PTE; nil if there are none, or
// no slots.
func (p *Pager) gather(want int) *cluster {
	first, got := p.slots.Alloc(want)
	if got == 0 {
		return nil // the paging file is full
	}
	c := &cluster{first: first}
	for c.n < got {
		f, pteAddr, orig, ok := p.db.StartWrite()
		if !ok {
			break
		}
		prot := pte.PTE(orig).Protection()
		slotPte := uint64(pte.NewPageFile(first+uint32(c.n), prot))
		if !p.swapOriginal(f, pteAddr, orig, slotPte) {
			p.db.EndWrite(f, true) // deleted meanwhile: free now
			continue
		}
		c.pages[c.n] = writeFrame{f, pteAddr, slotPte, orig}
		c.frames[c.n] = f
		c.n++
	}
	for s := c.n; s < got; s++ {
		p.slots.Free(first + uint32(s))
	}
	if c.n == 0 {
		return nil
	}
	return c
}

// writeCluster writes c and releases its frames.
func (p *Pager) writeCluster(c *cluster) ntstatus.Status {
	st := p.dev.Write(uint64(c.first)*physmem.PageSize, c.frames[:c.n])
	p.Writes.Add(1)
	for i := range c.pages[:c.n] {
		w := &c.pages[i]
		ok := st == ntstatus.Success
		if !ok && p.swapOriginal(w.frame, w.pteAddr, w.slotPte, w.orig) {
			p.slots.Free(c.first + uint32(i))
		}
		p.db.EndWrite(w.frame, ok)
	}
	if st != ntstatus.Success {
		p.WriteErrors.Add(1)
		p.LastWriteError.Store(uint32(st))
		return st
	}
	p.PagesWritten.Add(uint64(c.n))
	return ntstatus.Success
}

// swapOriginal is pfn's SwapOriginalPte under the page-table lock, which
// every change of a pageable frame's original PTE holds, so that a
// trimmer or Free reading it and acting on it sees no change in between.
func (p *Pager) swapOriginal(f physmem.PFN, pteAddr uintptr, old, next uint64) bool {
	p.lock.Lock()
	ok := p.db.SwapOriginalPte(f, pteAddr, old, next)
	p.lock.Unlock()
	return ok
}
