// The modified page writer.
//
// WriteModified takes up to ClusterPages frames off the modified list
// (pfn's StartWrite: each held in Transition for its write), gives them a
// run of consecutive slots, names each slot in the frame's original PTE,
// and writes the run with one device transfer: a cluster. Then each frame
// is released (EndWrite) to Standby, or to Modified if its owner dirtied
// it meanwhile. A frame whose owner deleted it before its slot was named
// is released without a slot. A failed write takes the slots back out of
// the original PTEs, frees them and releases the frames to Modified, so
// the next pass tries again and no contents are lost. ModifiedNoWrite
// frames are never taken (pfn's StartWrite reads the modified list only).

package paging

import (
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// writeFrame is one frame of a cluster.
type writeFrame struct {
	frame   physmem.PFN
	pteAddr uintptr
	slotPte uint64 // its original PTE naming the slot
	orig    uint64 // its original PTE before
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
	written, last := 0, ntstatus.Success
	var cluster [ClusterPages]writeFrame
	var frames [ClusterPages]physmem.PFN
	for written < max {
		want := min(ClusterPages, max-written)
		first, got := p.slots.Alloc(want)
		if got == 0 {
			return written, ntstatus.Success // the paging file is full
		}
		n := 0
		for n < got {
			f, pteAddr, orig, ok := p.db.StartWrite()
			if !ok {
				break
			}
			prot := pte.PTE(orig).Protection()
			slotPte := uint64(pte.NewPageFile(first+uint32(n), prot))
			if !p.swapOriginal(f, pteAddr, orig, slotPte) {
				p.db.EndWrite(f, true) // deleted meanwhile: free now
				continue
			}
			cluster[n] = writeFrame{f, pteAddr, slotPte, orig}
			frames[n] = f
			n++
		}
		for s := n; s < got; s++ {
			p.slots.Free(first + uint32(s))
		}
		if n == 0 {
			return written, last
		}
		st := p.dev.Write(uint64(first)*physmem.PageSize, frames[:n])
		p.Writes.Add(1)
		for i := range cluster[:n] {
			w := &cluster[i]
			ok := st == ntstatus.Success
			if !ok && p.swapOriginal(w.frame, w.pteAddr, w.slotPte, w.orig) {
				p.slots.Free(first + uint32(i))
			}
			p.db.EndWrite(w.frame, ok)
		}
		if st != ntstatus.Success {
			p.WriteErrors.Add(1)
			return written, st
		}
		written += n
		p.PagesWritten.Add(uint64(n))
	}
	return written, last
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
