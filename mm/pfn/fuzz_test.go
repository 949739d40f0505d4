package pfn

import (
	"encoding/binary"
	"fmt"
	"testing"

	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// FuzzPFN drives random operations, legal and not, over a random memory map
// with holes. An oracle computed from the entry beforehand (Decode) says
// whether each operation must succeed or bugcheck, with which code and
// parameters, and where a released frame must land. After every step the
// database must pass Check, every entry must record exactly the PTE the
// test's model says its owner holds (so the TransitionHook fired exactly
// when an owner lost a frame), and periodically every zeroed frame must read
// as zeros, although the test scribbles on every frame it allocates or
// releases.
//
// The machine has one to four NUMA nodes (the input's second byte), each a
// contiguous share of the frames; the current processor's node changes
// between steps. Allocations must come from the list the node order names
// (the home node's, then the next nodes', then Standby), requests that
// require a node must get a frame of that node or fail only when it has
// none, and after every step each node's list lengths must sum to the
// totals every caller sees.
func FuzzPFN(f *testing.F) {
	f.Add([]byte{40, 0x10, 0x21, 0x0e, 0x33, 0x50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})
	f.Add([]byte{120, 0xfc, 0x02, 0x49, 0x80, 0x01, 0, 0, 0, 0, 1, 0x81, 3, 0x81, 9, 0x81, 10, 0x81, 14, 0x82, 16, 0x80})
	// 48 free frames built lazily from frame 10, three nodes: allocations
	// that grow the database, a move home, node requests, growth, a run.
	f.Add([]byte{40, 0xf0, 0xf0, 0xf0, 0x8a, 2, 0, 1, 18, 1, 0, 19, 0xc2, 20, 5, 19, 0x41, 15, 4, 30, 40, 0, 1, 17, 7, 0, 20, 15, 1, 19, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		z := newFuzzer(t, data)
		if z == nil {
			return
		}
		for step := 0; z.more(); step++ {
			z.step()
			if err := z.db.Check(); err != nil {
				t.Fatalf("step %d (%s): %v", step, z.last, err)
			}
			z.checkOwners(step)
			z.checkNodeSums(step)
			if step%16 == 0 {
				z.checkZeroed(step)
			}
		}
		z.checkZeroed(-1)
	})
}

type fuzzer struct {
	t    *testing.T
	data []byte
	db   *Database
	sim  *physmem.Sim
	n    physmem.PFN
	// owner[p] is the PTE the model says owns frame p (0: none).
	owner []uintptr
	// sig[p] is the pattern last written over frame p by its user.
	sig   []uint64
	ptes  uintptr
	gen   uint64
	hooks []restore
	last  string
	nodes uint32 // the machine's nodes
	home  uint32 // the current processor's node
}

// newFuzzer builds a memory map from the input's first bytes: a frame count,
// then runs of 1-16 frames that are free, in use, reserved or a hole.
func newFuzzer(t *testing.T, data []byte) *fuzzer {
	if len(data) < 2 {
		return nil
	}
	frames := uint64(8 + data[0]%121)
	data = data[1:]
	var m []Range
	for at := uint64(0); at < frames && len(data) > 0; data = data[1:] {
		run := min(uint64(1+data[0]>>4), frames-at)
		if kind := data[0] % 4; kind < 3 {
			m = append(m, Range{Base: at * page, Length: run * page, Type: RangeType(kind)})
		}
		at += run
	}
	n, _, st := Size(m)
	if st != ntstatus.Success {
		t.Fatalf("Size: %v", st)
	}
	if n == 0 {
		return nil
	}
	z := &fuzzer{t: t, data: data, db: new(Database), sim: physmem.NewSim(n), n: n,
		owner: make([]uintptr, n), sig: make([]uint64, n)}
	t.Cleanup(z.sim.Close)
	// Half the inputs build the database lazily, from a few frames up.
	eager := physmem.PFN(noLink)
	if b := z.byte(); b&0x80 != 0 {
		eager = physmem.PFN(b&0x7f) % n
	}
	if st := z.db.InitLazy(make([]Entry, n), m, z.sim, eager); st != ntstatus.Success {
		t.Fatalf("InitLazy: %v", st)
	}
	z.db.SetTransitionHook(func(p physmem.PFN, pte uintptr, orig uint64) {
		z.hooks = append(z.hooks, restore{p, pte, orig})
	})
	z.setNodes(1 + uint32(z.byte())%4)
	return z
}

// lazy reports whether part of the database is still to be built, when
// the oracles for allocations only check what growth cannot change.
func (z *fuzzer) lazy() bool { return z.db.Frames() < z.n }

// setNodes splits the frames into k nodes of equal share (the last takes
// the rest) and puts the current processor on node 0.
func (z *fuzzer) setNodes(k uint32) {
	z.nodes = k
	share := max(z.n/physmem.PFN(k), 1)
	var r []NodeRange
	for i := range k {
		first := physmem.PFN(i) * share
		end := first + share
		if i == k-1 {
			end = z.n
		}
		if first < end {
			r = append(r, NodeRange{First: first, End: end, Node: i})
		}
	}
	if st := z.db.SetNodes(Nodes{Memory: r, Processors: []uint32{0}, Highest: k - 1}); st != ntstatus.Success {
		z.t.Fatalf("SetNodes(%+v): %v", r, st)
	}
	onProcessor0(z.t)
	saved := ke.SaveProcessorNodes()
	z.t.Cleanup(func() { ke.RestoreProcessorNodes(saved) })
	z.goHome(0)
}

// goHome moves the current processor to node.
func (z *fuzzer) goHome(node uint32) {
	z.home = node
	if !ke.SetProcessorNodes([]uint32{node}, z.nodes-1) {
		z.t.Fatalf("SetProcessorNodes(%d)", node)
	}
}

// nodeLists is every node's Zeroed and Free list lengths.
func (z *fuzzer) nodeLists() (n [MaxNodes][numNodeStates]uint64) {
	for _, s := range z.db.NodeStats() {
		n[s.Node] = [numNodeStates]uint64{StateZeroed: s.Zeroed, StateFree: s.Free}
	}
	return n
}

// checkNodeSums: the nodes' lists sum to the totals, and DirtyPages (a
// stop's count) agrees with them.
func (z *fuzzer) checkNodeSums(step int) {
	var sum [numNodeStates]uint64
	for _, l := range z.nodeLists() {
		sum[StateZeroed] += l[StateZeroed]
		sum[StateFree] += l[StateFree]
	}
	st := z.db.Stats()
	if sum[StateZeroed] != st.ByState[StateZeroed] || sum[StateFree] != st.ByState[StateFree] {
		z.t.Fatalf("step %d (%s): nodes' lists sum to zeroed %d free %d, totals %v", step, z.last, sum[StateZeroed], sum[StateFree], st)
	}
	if m, nw := z.db.DirtyPages(); m != st.ByState[StateModified] || nw != st.ByState[StateModifiedNoWrite] {
		z.t.Fatalf("step %d (%s): DirtyPages says modified %d, no-write %d; totals %v", step, z.last, m, nw, st)
	}
}

// standbyOn reports whether a standby frame of node exists.
func (z *fuzzer) standbyOn(node uint32) bool {
	for p := range z.n {
		if z.info(p).State == StateStandby && z.db.NodeOf(p) == node {
			return true
		}
	}
	return false
}

func (z *fuzzer) more() bool { return len(z.data) > 0 }

func (z *fuzzer) byte() byte {
	if len(z.data) == 0 {
		return 0
	}
	b := z.data[0]
	z.data = z.data[1:]
	return b
}

func origFor(pte uintptr) uint64 { return uint64(pte)<<1 | 0x80 }

// frame picks a frame: either any number up to two beyond the database, or
// (high bit set) the k'th frame in a state the operation is meant for, so
// that legal operations are common.
func (z *fuzzer) frame(want ...State) physmem.PFN {
	b := z.byte()
	if b&0x80 == 0 || len(want) == 0 {
		return physmem.PFN(b) % (z.n + 2)
	}
	var match []physmem.PFN
	for p := range z.n {
		i, _ := z.db.Decode(p)
		for _, s := range want {
			if i.State == s {
				match = append(match, p)
			}
		}
	}
	if len(match) == 0 {
		return physmem.PFN(b) % (z.n + 2)
	}
	return match[int(b&0x7f)%len(match)]
}

// use writes a fresh pattern over frame p, as its user would.
func (z *fuzzer) use(p physmem.PFN) {
	z.gen++
	z.sig[p] = z.gen * 0x9E3779B97F4A7C15
	fr := z.sim.Frame(p)
	for off := 0; off < page; off += 8 {
		binary.LittleEndian.PutUint64(fr[off:], z.sig[p]+uint64(off))
	}
}

func (z *fuzzer) holds(p physmem.PFN, sig uint64) bool {
	fr := z.sim.Frame(p)
	for off := 0; off < page; off += 8 {
		if binary.LittleEndian.Uint64(fr[off:]) != sig+uint64(off) {
			return false
		}
	}
	return true
}

func (z *fuzzer) isZero(p physmem.PFN) bool {
	for _, b := range z.sim.Frame(p) {
		if b != 0 {
			return false
		}
	}
	return true
}

// pteFor is the PTE an operation on frame p names: its owner's, or now and
// then a wrong one.
func (z *fuzzer) pteFor(p physmem.PFN) uintptr {
	b := z.byte()
	if b%8 == 0 {
		return 0xFFFFF6FFFFFFF000 + uintptr(b)
	}
	if p < z.n {
		return z.owner[p]
	}
	return 0
}

// outcome is what the oracle expects of one operation.
type outcome struct {
	code   bugcheck.Code
	params [4]uintptr
}

var legal = outcome{}

func badState(p physmem.PFN, s State) outcome {
	return outcome{bugcheck.PfnListCorrupt, [4]uintptr{FrameStateInvalid, uintptr(p), uintptr(s)}}
}

func mismatch(pte uintptr, p physmem.PFN, want uintptr) outcome {
	return outcome{bugcheck.MemoryManagement, [4]uintptr{PteMismatch, pte, uintptr(p), want}}
}

// info is the oracle's view of frame p: frames beyond the database read as
// Reserved, which is how the database reports them.
func (z *fuzzer) info(p physmem.PFN) Info {
	if i, ok := z.db.Decode(p); ok {
		return i
	}
	return Info{Frame: p, State: StateReserved}
}

// do runs op and compares what happened with the oracle's expectation; it
// reports whether op completed. Owners the TransitionHook told of a lost
// frame forget it.
func (z *fuzzer) do(want outcome, op func()) bool {
	z.t.Helper()
	z.hooks = z.hooks[:0]
	rec := bugcheck.Catch(op)
	for _, h := range z.hooks {
		if h.pte == 0 || z.owner[h.p] != h.pte || h.orig != origFor(h.pte) {
			z.t.Fatalf("%s: hook %+v, model owner %#x", z.last, h, z.owner[h.p])
		}
		z.owner[h.p] = 0
	}
	switch {
	case rec == nil && want == legal:
		return true
	case rec == nil:
		z.t.Fatalf("%s: no bugcheck, want %v %#x", z.last, want.code, want.params)
	case want == legal:
		z.t.Fatalf("%s: unexpected %v", z.last, rec)
	case rec.Code != want.code || rec.Params != want.params:
		z.t.Fatalf("%s: %v, want %v %#x", z.last, rec, want.code, want.params)
	}
	return false
}

// placed is where a frame with these properties lands once unreferenced.
func placed(pte uintptr, i Info) State {
	switch {
	case pte == 0 || i.RemovalRequested && !i.Modified:
		if i.RemovalRequested {
			return StateBad
		}
		return StateFree
	case i.NoWrite:
		return StateModifiedNoWrite
	case i.Modified:
		return StateModified
	}
	return StateStandby
}

// afterDrop is where an Active frame goes when it loses one share.
func afterDrop(pte uintptr, i Info) State {
	switch {
	case i.ShareCount > 1:
		return StateActive
	case i.RefCount > 1:
		return StateTransition
	}
	return placed(pte, i)
}

func (z *fuzzer) wantState(p physmem.PFN, s State) {
	z.t.Helper()
	if got := z.info(p).State; got != s {
		z.t.Fatalf("%s: frame %#x is %v, want %v", z.last, p, got, s)
	}
}

const numOps = 21

func (z *fuzzer) step() {
	switch op := z.byte() % numOps; op {
	case 0, 1:
		z.allocate(op == 0)
	case 2:
		p := z.frame(StateActive)
		i, pte := z.info(p), z.pteFor(p)
		z.last = "Free " + i.String()
		want := legal
		switch {
		case i.State != StateActive || i.Contiguous:
			want = badState(p, i.State)
		case pte != i.Pte:
			want = mismatch(pte, p, i.Pte)
		}
		if want == legal {
			z.use(p) // the last use before freeing
		}
		if z.do(want, func() { z.db.Free(p, pte) }) {
			z.owner[p] = 0
			z.wantState(p, afterDrop(0, i))
		}
	case 3, 4, 5:
		p := z.frame(StateActive)
		i := z.info(p)
		dirty, noWrite := op != 3, op == 5
		z.last = "Unmap " + i.String()
		want := legal
		if i.State != StateActive || i.Contiguous {
			want = badState(p, i.State)
		}
		if want == legal && dirty {
			z.use(p)
		}
		if z.do(want, func() { z.db.Unmap(p, dirty, noWrite) }) {
			i.Modified = i.Modified || dirty
			i.NoWrite = i.NoWrite || noWrite && i.Modified
			z.wantState(p, afterDrop(i.Pte, i))
		}
	case 6:
		p := z.frame(StateActive)
		i := z.info(p)
		z.last = "AddShare " + i.String()
		want := legal
		if i.State != StateActive {
			want = badState(p, i.State)
		}
		z.do(want, func() { z.db.AddShare(p) })
	case 7:
		p := z.frame(StateActive, StateTransition)
		i := z.info(p)
		z.last = "Reference " + i.String()
		want := legal
		if i.State != StateActive && i.State != StateTransition {
			want = badState(p, i.State)
		}
		ok := false
		if z.do(want, func() { ok = z.db.Reference(p) }) && !ok {
			z.t.Fatalf("%s: refused", z.last)
		}
	case 8:
		p := z.frame(StateActive, StateTransition)
		i := z.info(p)
		z.last = "Dereference " + i.String()
		want := legal
		switch {
		case i.State == StateReserved:
			want = badState(p, i.State)
		case !(i.State == StateActive && i.RefCount > 1 || i.State == StateTransition):
			want = outcome{bugcheck.PfnListCorrupt, [4]uintptr{UnlockedTooOften, uintptr(p), uintptr(i.ShareCount)}}
		}
		if z.do(want, func() { z.db.Dereference(p) }) && i.RefCount == 1 {
			z.wantState(p, placed(i.Pte, i))
		}
	case 9:
		p := z.frame(StateStandby, StateModified, StateModifiedNoWrite, StateTransition)
		i, pte := z.info(p), z.pteFor(p)
		z.last = "Reclaim " + i.String()
		want := legal
		switch {
		case i.State != StateStandby && i.State != StateModified && i.State != StateModifiedNoWrite &&
			(i.State != StateTransition || i.Pte == 0):
			want = badState(p, i.State)
		case pte != i.Pte:
			want = mismatch(pte, p, i.Pte)
		}
		if z.do(want, func() { z.db.Reclaim(p, pte) }) {
			z.wantState(p, StateActive)
			if !z.holds(p, z.sig[p]) {
				z.t.Fatalf("%s: contents lost while in transition", z.last)
			}
		}
	case 10:
		p := z.frame(StateStandby, StateModified, StateModifiedNoWrite, StateTransition)
		i, pte := z.info(p), z.pteFor(p)
		z.last = "DeleteTransition " + i.String()
		want := legal
		switch {
		case i.State != StateStandby && i.State != StateModified && i.State != StateModifiedNoWrite &&
			i.State != StateTransition || i.Pte == 0:
			want = badState(p, i.State)
		case pte != i.Pte:
			want = mismatch(pte, p, i.Pte)
		}
		if z.do(want, func() { z.db.DeleteTransition(p, pte) }) {
			z.owner[p] = 0
			if i.State != StateTransition {
				z.wantState(p, placed(0, i))
			}
		}
	case 11:
		z.listMove("ModifiedToStandby", StateModified, z.db.ModifiedToStandby, func(i Info) State {
			i.Modified = false
			return placed(i.Pte, i)
		})
	case 12:
		z.listMove("AllowWrite", StateModifiedNoWrite, z.db.AllowWrite, func(Info) State { return StateModified })
	case 13:
		z.listMove("StandbyToFree", StateStandby, z.db.StandbyToFree, func(Info) State { return StateFree })
	case 14:
		p := z.frame(StateZeroed, StateFree, StateStandby, StateActive, StateModified)
		i := z.info(p)
		z.last = "MarkBad " + i.String()
		want := legal
		if i.State == StateReserved {
			want = badState(p, i.State)
		}
		now := false
		if z.do(want, func() { now = z.db.MarkBad(p) }) {
			unused := i.State == StateZeroed || i.State == StateFree || i.State == StateStandby || i.State == StateBad
			if now != unused || unused && z.info(p).State != StateBad {
				z.t.Fatalf("%s: MarkBad = %v, now %v", z.last, now, z.info(p))
			}
		}
	case 15:
		z.contiguous()
	case 16:
		z.freeContiguous()
	case 17:
		k := int(z.byte() % 8)
		z.last = "ZeroSome"
		free := z.db.Stats().ByState[StateFree]
		if got := z.db.ZeroSome(k); uint64(got) != min(uint64(k), free) {
			z.t.Fatalf("ZeroSome(%d) = %d with %d free", k, got, free)
		}
	case 18:
		z.goHome(uint32(z.byte()) % z.nodes)
		z.last = fmt.Sprintf("home node %d", z.home)
	case 19:
		z.allocateOnNode()
	case 20:
		k := int(z.byte()%16) + 1
		z.last = fmt.Sprintf("GrowSome(%d) at %d frames", k, z.db.Frames())
		before := z.db.Frames()
		more := z.db.GrowSome(k)
		if after := z.db.Frames(); after != min(before+physmem.PFN(k), z.n) || more != (after < z.n) {
			z.t.Fatalf("%s: %d frames, more %v", z.last, after, more)
		}
	}
}

// allocateOnNode asks for a frame of a node (sometimes one that does not
// exist), required or preferred.
func (z *fuzzer) allocateOnNode() {
	b := z.byte()
	node, required, zeroed := uint32(b)%(z.nodes+1), b&0x40 != 0, b&0x80 != 0
	z.ptes++
	pte := 0xFFFFF68000000000 + z.ptes*8
	z.last = fmt.Sprintf("AllocateOnNode(node %d, required %v, zeroed %v)", node, required, zeroed)
	before, lists := z.db.Stats(), z.nodeLists()
	local := node < z.nodes && lists[node][StateZeroed]+lists[node][StateFree] > 0
	want := before.Available() > 0
	if required {
		want = local || node < z.nodes && z.standbyOn(node)
	}
	var p physmem.PFN
	var ok bool
	lazy := z.lazy()
	z.do(legal, func() { p, ok = z.db.AllocateOnNode(pte, origFor(pte), zeroed, node, required) })
	if lazy {
		if ok && required && z.db.NodeOf(p) != node {
			z.t.Fatalf("%s took frame %#x of node %d", z.last, p, z.db.NodeOf(p))
		}
		if ok {
			z.owner[p] = pte
			z.use(p)
		}
		return
	}
	if ok != want {
		z.t.Fatalf("%s = %v, want %v (available %d)", z.last, ok, want, before.Available())
	}
	if !ok {
		return
	}
	if (local || required) && z.db.NodeOf(p) != node {
		z.t.Fatalf("%s took frame %#x of node %d", z.last, p, z.db.NodeOf(p))
	}
	if zeroed && !z.isZero(p) {
		z.t.Fatalf("%s handed out frame %#x with data in it", z.last, p)
	}
	z.owner[p] = pte
	z.use(p)
}

func (z *fuzzer) allocate(zeroed bool) {
	z.ptes++
	pte := 0xFFFFF68000000000 + z.ptes*8
	before, lists := z.db.Stats(), z.nodeLists()
	order := anyOrder
	name := "AllocateAny"
	alloc := z.db.AllocateAny
	if zeroed {
		order, name, alloc = zeroedOrder, "AllocateZeroed", z.db.AllocateZeroed
	}
	z.last = name
	var p physmem.PFN
	var ok bool
	lazy := z.lazy()
	z.do(legal, func() { p, ok = alloc(pte, origFor(pte)) })
	if lazy {
		if ok && before.Available()+before.Deferred == 0 {
			z.t.Fatalf("%s = %v with %d available, %d deferred", name, ok, before.Available(), before.Deferred)
		}
		if ok {
			z.owner[p] = pte
			z.use(p)
		}
		return
	}
	if ok != (before.Available() > 0) {
		z.t.Fatalf("%s = %v with %d available", name, ok, before.Available())
	}
	if !ok {
		return
	}
	// The first non-empty list of the node order gave the frame.
	after, afterLists := z.db.Stats(), z.nodeLists()
	taken := false
	for k := range z.nodes {
		n := (z.home + k) % z.nodes
		for _, s := range order {
			if lists[n][s] > 0 && !taken {
				taken = true
				if afterLists[n][s] != lists[n][s]-1 || z.db.NodeOf(p) != n {
					z.t.Fatalf("%s (home %d) did not take frame %#x from node %d's %v list:\n%v", name, z.home, p, n, s, after)
				}
			}
		}
	}
	if !taken && after.ByState[StateStandby] != before.ByState[StateStandby]-1 {
		z.t.Fatalf("%s did not take from Standby:\n%v", name, after)
	}
	if zeroed && !z.isZero(p) {
		z.t.Fatalf("%s handed out frame %#x with data in it", name, p)
	}
	if i := z.info(p); i.State != StateActive || i.Pte != pte || i.RefCount != 1 || i.ShareCount != 1 {
		z.t.Fatalf("%s: %v", name, i)
	}
	z.owner[p] = pte
	z.use(p)
}

// listMove runs an explicit move of a frame that must be in state from.
func (z *fuzzer) listMove(name string, from State, move func(physmem.PFN), to func(Info) State) {
	p := z.frame(from)
	i := z.info(p)
	z.last = name + " " + i.String()
	want := legal
	if i.State != from {
		want = badState(p, i.State)
	}
	if z.do(want, func() { move(p) }) {
		z.wantState(p, to(i))
	}
}

// contiguous allocates a run and compares it with a brute-force search
// for the highest fitting run.
func (z *fuzzer) contiguous() {
	n := physmem.PFN(1 + z.byte()%6)
	lo := physmem.PFN(z.byte()) % (z.n + 2)
	hi := lo + physmem.PFN(z.byte())
	boundary := physmem.PFN(0)
	if b := z.byte() % 5; b > 0 {
		boundary = 1 << (b + 1) // 4..32
	}
	c := Cache(z.byte() % 3)
	z.last = "AllocateContiguous"
	// The highest fitting run on the home node, else anywhere.
	search := func(onHome bool) (physmem.PFN, bool) {
		for s := min(hi, z.n-1) + 1; s >= lo+n; s-- {
			start := s - n
			if boundary != 0 && start/boundary != (s-1)/boundary {
				continue
			}
			found := true
			for q := start; q < s; q++ {
				if st := z.info(q).State; st != StateZeroed && st != StateFree && st != StateStandby || onHome && z.db.NodeOf(q) != z.home {
					found = false
				}
			}
			if found {
				return start, true
			}
		}
		return 0, false
	}
	wantStart, found := search(z.nodes > 1)
	if !found && z.nodes > 1 {
		wantStart, found = search(false)
	}
	if boundary != 0 && boundary < n {
		found = false
	}
	var p physmem.PFN
	var st ntstatus.Status
	lazy := z.lazy()
	z.do(legal, func() { p, st = z.db.AllocateContiguous(n, lo, hi, boundary, c) })
	switch {
	case lazy:
		if st == ntstatus.Success {
			for q := p; q < p+n; q++ {
				z.use(q)
			}
		}
		return
	case boundary != 0 && boundary < n:
		if st != ntstatus.InvalidParameter {
			z.t.Fatalf("boundary %d < %d frames: %v", boundary, n, st)
		}
		return
	case !found:
		if st != ntstatus.InsufficientResources {
			z.t.Fatalf("%d frames in [%d, %d] boundary %d: got %d (%v), oracle found none", n, lo, hi, boundary, p, st)
		}
		return
	case st != ntstatus.Success || p != wantStart:
		z.t.Fatalf("%d frames in [%d, %d] boundary %d: got %d (%v), want %d", n, lo, hi, boundary, p, st, wantStart)
	}
	for q := p; q < p+n; q++ {
		if i := z.info(q); i.State != StateActive || !i.Contiguous || i.StartOfRun != (q == p) || i.Cache != c {
			z.t.Fatalf("run frame %v", i)
		}
		z.use(q)
	}
}

func (z *fuzzer) freeContiguous() {
	p := z.frame(StateActive)
	i := z.info(p)
	z.last = "FreeContiguous " + i.String()
	want := legal
	end := p
	if i.State != StateActive || !i.StartOfRun {
		want = badState(p, i.State)
	} else {
		for {
			j := z.info(end)
			if j.ShareCount != 1 {
				want = badState(end, j.State)
				break
			}
			if j.RefCount != 1 {
				want = outcome{bugcheck.PfnListCorrupt, [4]uintptr{FreedWhileLocked, uintptr(end), uintptr(j.State), uintptr(j.RefCount)}}
				break
			}
			end++
			if k := z.info(end); !k.Contiguous || k.StartOfRun {
				break
			}
		}
	}
	var got physmem.PFN
	if z.do(want, func() { got = z.db.FreeContiguous(p) }) {
		if got != end-p {
			z.t.Fatalf("%s: freed %d frames, want %d", z.last, got, end-p)
		}
		for q := p; q < end; q++ {
			if s := z.info(q).State; s != StateFree && s != StateBad {
				z.t.Fatalf("%s: frame %#x is %v", z.last, q, s)
			}
		}
	}
}

// checkOwners compares every entry's PTE with the model's owner.
func (z *fuzzer) checkOwners(step int) {
	for p := range z.n {
		if i := z.info(p); i.Pte != z.owner[p] {
			z.t.Fatalf("step %d (%s): frame %#x records PTE %#x, its owner is %#x", step, z.last, p, i.Pte, z.owner[p])
		}
	}
}

func (z *fuzzer) checkZeroed(step int) {
	if err := z.db.CheckZeroed(); err != nil {
		z.t.Fatalf("step %d: %v", step, err)
	}
}
