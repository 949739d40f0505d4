// Write batches: the writes one call makes to a page go through one
// mapping of the alias.
//
// Each alias write costs a lock, two PTE stores and two TLB flushes
// (BenchmarkSecurePool's alias variant), more than the copy. A call queues
// its writes (headers, a body, zeroes) and they go to Pages.Write one page
// at a time: when the next write is for another page, before anything
// reads the pages (a header walk must see them), before a page is given
// back, and when the call releases the lock (unlock). Headers are copied
// into the batch; other data (the caller's buffer, zeros) is referenced
// until the flush, within the call.

package securepool

// Run is one write to a page: Data at byte Off.
type Run struct {
	Off  uintptr
	Data []byte
}

// maxRuns bounds a batch; a fuller one is flushed.
const maxRuns = 8

type batch struct {
	page uintptr
	n    int
	runs [maxRuns]Run
	hdrs [maxRuns][headerSize]byte
}

// room makes the batch ready for a write to page pg.
func (s *System) room(pg uintptr) {
	if s.b.n > 0 && (pg != s.b.page || s.b.n == maxRuns) {
		s.flush()
	}
	s.b.page = pg
}

// queue adds data for va; [va, va+len(data)) lies in one page.
func (s *System) queue(va uintptr, data []byte) {
	s.room(va &^ pageMask)
	s.b.runs[s.b.n] = Run{Off: va & pageMask, Data: data}
	s.b.n++
}

// queueHeader adds the encoded header raw for address b.
func (s *System) queueHeader(b uintptr, raw [headerSize]byte) {
	s.room(b &^ pageMask)
	s.b.hdrs[s.b.n] = raw
	s.b.runs[s.b.n] = Run{Off: b & pageMask, Data: s.b.hdrs[s.b.n][:]}
	s.b.n++
}

// flush writes the queued runs through Pages.Write.
func (s *System) flush() {
	if s.b.n == 0 {
		return
	}
	s.pages.Write(s.b.page, s.b.runs[:s.b.n])
	clear(s.b.runs[:s.b.n])
	s.b.n = 0
}

// unlock flushes and releases the System's lock.
func (s *System) unlock() {
	s.flush()
	s.mu.Unlock()
}
