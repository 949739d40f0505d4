package ex

import (
	"testing"
	"unsafe"

	"ntgo/mm/pool"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

func TestPoolFlagValues(t *testing.T) {
	for got, want := range map[PoolFlags]uint64{
		PoolFlagUseQuota: 0x1, PoolFlagUninitialized: 0x2, PoolFlagSession: 0x4, PoolFlagCacheAligned: 0x8,
		PoolFlagReserved1: 0x10, PoolFlagRaiseOnFailure: 0x20, PoolFlagNonPaged: 0x40,
		PoolFlagNonPagedExecute: 0x80, PoolFlagPaged: 0x100, PoolFlagReserved2: 0x200, PoolFlagReserved3: 0x400,
		PoolFlagRequiredEnd: 0x80000000, PoolFlagSpecialPool: 0x100000000, PoolFlagOptionalEnd: 0x8000000000000000,
	} {
		if uint64(got) != want {
			t.Errorf("flag %#x, want %#x", uint64(got), want)
		}
	}
	if requiredFlags != 0xFFFFFFFF || knownRequired != 0x7FF {
		t.Errorf("required %#x known %#x", requiredFlags, knownRequired)
	}
}

func TestAllocatePool2(t *testing.T) {
	e := setup(t)
	for _, c := range []struct {
		name string
		f    PoolFlags
		ok   bool
		st   ntstatus.Status
	}{
		{"non-paged", PoolFlagNonPaged, true, 0},
		{"non-paged execute", PoolFlagNonPagedExecute, true, 0},
		{"paged", PoolFlagPaged, true, 0},
		{"no pool", PoolFlagCacheAligned, false, ntstatus.InvalidParameter},
		{"two pools", PoolFlagNonPaged | PoolFlagPaged, false, ntstatus.InvalidParameter},
		{"three pools", PoolFlagNonPaged | PoolFlagPaged | PoolFlagNonPagedExecute, false, ntstatus.InvalidParameter},
		{"reserved1", PoolFlagPaged | PoolFlagReserved1, false, ntstatus.InvalidParameter},
		{"reserved3", PoolFlagPaged | PoolFlagReserved3, false, ntstatus.InvalidParameter},
		{"unknown required", PoolFlagPaged | 1<<20, false, ntstatus.InvalidParameter},
		{"required end", PoolFlagPaged | PoolFlagRequiredEnd, false, ntstatus.InvalidParameter},
		{"session", PoolFlagPaged | PoolFlagSession, false, ntstatus.NotSupported},
		{"special pool (optional, ignored)", PoolFlagPaged | PoolFlagSpecialPool, true, 0},
		{"unknown optional", PoolFlagNonPaged | 1<<40 | PoolFlagOptionalEnd, true, 0},
	} {
		p := AllocatePool2(c.f, 100, tagEx)
		if (p != nil) != c.ok {
			t.Errorf("%s: got %v", c.name, p)
		}
		if p != nil {
			FreePool(p)
			continue
		}
		if st := raised(func() { AllocatePool2(c.f|PoolFlagRaiseOnFailure, 100, tagEx) }); st != c.st {
			t.Errorf("%s with RAISE_ON_FAILURE raised %v, want %v", c.name, st, c.st)
		}
	}
	x := AllocatePool2(PoolFlagNonPagedExecute, 9000, tagEx)
	nx := AllocatePool2(PoolFlagNonPaged, 9000, tagEx)
	if !e.np.Executable(uintptr(x)) || e.np.Executable(uintptr(nx)) {
		t.Fatal("NON_PAGED_EXECUTE / NON_PAGED executability")
	}
	a := AllocatePool2(PoolFlagPaged|PoolFlagCacheAligned, 100, tagEx)
	if uintptr(a)%64 != 0 || !zeroed(a, 100) {
		t.Fatal("CACHE_ALIGNED block not aligned or not zeroed")
	}
	FreePool(x)
	FreePool(nx)
	FreePool(a)
	if st := raised(func() { AllocatePool2(PoolFlagPaged|PoolFlagRaiseOnFailure, (testPages+1)*4096, tagEx) }); st != ntstatus.InsufficientResources {
		t.Fatalf("exhaustion raised %v", st)
	}
	e.owner = NewQuotaBlock(0, 0)
	if AllocatePool2(PoolFlagPaged|PoolFlagUseQuota, 10, tagEx) != nil {
		t.Fatal("USE_QUOTA allocated past a zero limit")
	}
	if st := raised(func() { AllocatePool2(PoolFlagPaged|PoolFlagUseQuota|PoolFlagRaiseOnFailure, 10, tagEx) }); st != ntstatus.QuotaExceeded {
		t.Fatalf("quota raised %v", st)
	}
}

// nodes puts the processors on node 0 of highest+1 nodes for the test
// and the machine's table back after it (a NUMA kernel's is not one node).
func nodes(t *testing.T, highest uint32) {
	t.Helper()
	saved := ke.SaveProcessorNodes()
	t.Cleanup(func() { ke.RestoreProcessorNodes(saved) })
	if !ke.SetProcessorNodes([]uint32{0}, highest) {
		t.Fatal("SetProcessorNodes refused")
	}
}

// On one node.
func TestAllocatePool3(t *testing.T) {
	setup(t)
	nodes(t, 0)
	param := func(ty PoolExtendedParameterType, optional bool) PoolExtendedParameter {
		return PoolExtendedParameter{Type: ty, Optional: optional}
	}
	prio := func(p pool.Priority, optional bool) PoolExtendedParameter {
		x := param(PoolExtendedParameterPriority, optional)
		x.Priority = p
		return x
	}
	node := func(n uint32, optional bool) PoolExtendedParameter {
		x := param(PoolExtendedParameterNumaNode, optional)
		x.PreferredNode = n
		return x
	}
	for _, c := range []struct {
		name   string
		params []PoolExtendedParameter
		ok     bool
		st     ntstatus.Status
	}{
		{"none", nil, true, 0},
		{"priority", []PoolExtendedParameter{prio(pool.HighPoolPriority, false)}, true, 0},
		{"bad priority required", []PoolExtendedParameter{prio(3, false)}, false, ntstatus.InvalidParameter},
		{"bad priority optional", []PoolExtendedParameter{prio(3, true)}, true, 0},
		{"secure pool required, no parameters", []PoolExtendedParameter{param(PoolExtendedParameterSecurePool, false)}, false, ntstatus.InvalidParameter},
		{"secure pool optional", []PoolExtendedParameter{param(PoolExtendedParameterSecurePool, true)}, true, 0},
		{"node 0", []PoolExtendedParameter{node(0, false)}, true, 0},
		{"any node", []PoolExtendedParameter{node(MmAnyNodeOK, false)}, true, 0},
		{"node 1 required", []PoolExtendedParameter{node(1, false)}, false, ntstatus.InvalidParameter},
		{"node 1 optional", []PoolExtendedParameter{node(1, true)}, true, 0},
		{"node 1 or any", []PoolExtendedParameter{node(1|MmAnyNodeOK, false)}, false, ntstatus.InvalidParameter},
		{"invalid type required", []PoolExtendedParameter{param(PoolExtendedParameterInvalidType, false)}, false, ntstatus.InvalidParameter},
		{"unknown type optional", []PoolExtendedParameter{param(PoolExtendedParameterMax, true)}, true, 0},
		{"duplicate", []PoolExtendedParameter{node(0, true), node(0, true)}, false, ntstatus.InvalidParameter},
	} {
		p := AllocatePool3(PoolFlagNonPaged, 64, tagEx, c.params)
		if (p != nil) != c.ok {
			t.Errorf("%s: got %v", c.name, p)
		}
		if p != nil {
			FreePool(p)
			continue
		}
		if st := raised(func() { AllocatePool3(PoolFlagNonPaged|PoolFlagRaiseOnFailure, 64, tagEx, c.params) }); st != c.st {
			t.Errorf("%s with RAISE_ON_FAILURE raised %v, want %v", c.name, st, c.st)
		}
	}
}

// nodeArena is a host arena that records the node each page run was asked
// for (pool.NodePageSource), as the kernel's pool pages place frames.
type nodeArena struct {
	*pool.Arena
	asked []nodeRequest
}

func (a *nodeArena) AllocPagesOnNode(n int, exec bool, node uint32, required bool) (uintptr, bool) {
	a.asked = append(a.asked, nodeRequest{node: node, set: true, required: required})
	return a.AllocPages(n, exec)
}

// On a machine of two nodes: a node that exists is served in whole pages
// from it, required without MM_ANY_NODE_OK and preferred with it; a node
// beyond the highest is refused; paged pool is not placed (the node does
// not apply to it). Quota is charged for the page.
func TestAllocatePool3NodeOfTwo(t *testing.T) {
	np := &nodeArena{Arena: pool.NewArena(2 * testPages)}
	pg := pool.NewArena(2 * testPages)
	t.Cleanup(func() { np.Close(); pg.Close() })
	q := NewQuotaBlock(NoQuotaLimit, NoQuotaLimit)
	if _, err := Init(Config{Pool: pool.Config{NonPaged: np, Paged: pg, MaxNonPagedBytes: testPages * 4096, MaxPagedBytes: testPages * 4096},
		QuotaOwner: func() *QuotaBlock { return q }}); err != nil {
		t.Fatal(err)
	}
	nodes(t, 1)
	for _, c := range []struct {
		node uint32
		st   ntstatus.Status
		want nodeRequest
	}{
		{1, ntstatus.Success, nodeRequest{node: 1, set: true, required: true}},
		{0, ntstatus.Success, nodeRequest{node: 0, set: true, required: true}},
		{1 | MmAnyNodeOK, ntstatus.Success, nodeRequest{node: 1, set: true}},
		{2 | MmAnyNodeOK, ntstatus.InvalidParameter, nodeRequest{}},
	} {
		np.asked = nil
		params := []PoolExtendedParameter{{Type: PoolExtendedParameterNumaNode, PreferredNode: c.node}}
		var p unsafe.Pointer
		st := raised(func() { p = AllocatePool3(PoolFlagNonPaged|PoolFlagRaiseOnFailure|PoolFlagUseQuota, 64, tagEx, params) })
		if st != c.st {
			t.Errorf("node %#x: %v, want %v", c.node, st, c.st)
		}
		if p == nil {
			continue
		}
		if uintptr(p)&4095 != 0 || len(np.asked) != 1 || np.asked[0] != c.want {
			t.Errorf("node %#x: block %p, pages asked for %+v, want one run %+v", c.node, p, np.asked, c.want)
		}
		if got, _ := q.Usage(); got != 4096 {
			t.Errorf("node %#x: quota charged %d, want a page", c.node, got)
		}
		FreePool(p)
		if got, _ := q.Usage(); got != 0 {
			t.Errorf("node %#x: quota after the free %d", c.node, got)
		}
	}
	np.asked = nil
	params := []PoolExtendedParameter{{Type: PoolExtendedParameterNumaNode, PreferredNode: 1}}
	if p := AllocatePool3(PoolFlagPaged, 64, tagEx, params); p == nil || np.asked != nil {
		t.Errorf("paged pool with node 1: %p, pages asked for %+v", p, np.asked)
	} else {
		FreePool(p)
	}
}

// On two nodes over pages that cannot be placed (setup's host arenas):
// a preferred node is an ordinary block, a required one is
// STATUS_NOT_SUPPORTED unless the parameter is Optional.
func TestAllocatePool3NodeUnplaced(t *testing.T) {
	setup(t)
	nodes(t, 1)
	for _, c := range []struct {
		name string
		node PoolExtendedParameter
		st   ntstatus.Status
	}{
		{"node 0 required", PoolExtendedParameter{Type: PoolExtendedParameterNumaNode}, ntstatus.NotSupported},
		{"node 1 required", PoolExtendedParameter{Type: PoolExtendedParameterNumaNode, PreferredNode: 1}, ntstatus.NotSupported},
		{"node 1 required, optional", PoolExtendedParameter{Type: PoolExtendedParameterNumaNode, PreferredNode: 1, Optional: true}, ntstatus.Success},
		{"node 1 preferred", PoolExtendedParameter{Type: PoolExtendedParameterNumaNode, PreferredNode: 1 | MmAnyNodeOK}, ntstatus.Success},
		{"any node", PoolExtendedParameter{Type: PoolExtendedParameterNumaNode, PreferredNode: MmAnyNodeOK}, ntstatus.Success},
		{"node 2 preferred", PoolExtendedParameter{Type: PoolExtendedParameterNumaNode, PreferredNode: 2 | MmAnyNodeOK}, ntstatus.InvalidParameter},
	} {
		var p unsafe.Pointer
		st := raised(func() {
			p = AllocatePool3(PoolFlagNonPaged|PoolFlagRaiseOnFailure, 64, tagEx, []PoolExtendedParameter{c.node})
		})
		if st != c.st {
			t.Errorf("%s: %v, want %v", c.name, st, c.st)
		}
		if p == nil {
			continue
		}
		if uintptr(p)&4095 == 0 {
			t.Errorf("%s: %p is a page of its own, not an ordinary block", c.name, p)
		}
		FreePool(p)
	}
}

// The priority parameter reaches the pool: low fails first under pressure,
// high uses the reserve.
func TestAllocatePool3Priority(t *testing.T) {
	setup(t)
	low := []PoolExtendedParameter{{Type: PoolExtendedParameterPriority, Priority: pool.LowPoolPriority}}
	high := []PoolExtendedParameter{{Type: PoolExtendedParameterPriority, Priority: pool.HighPoolPriority}}
	var held []unsafe.Pointer
	for {
		p := AllocatePool2(PoolFlagNonPaged|PoolFlagUninitialized, 4096, tagEx)
		if p == nil {
			break
		}
		held = append(held, p)
	}
	if len(held) != testPages*95/100 {
		t.Fatalf("normal priority got %d pages", len(held))
	}
	if AllocatePool3(PoolFlagNonPaged, 4096, tagEx, low) != nil {
		t.Fatal("low priority allocated")
	}
	p := AllocatePool3(PoolFlagNonPaged, 4096, tagEx, high)
	if p == nil {
		t.Fatal("high priority could not use the reserve")
	}
	for _, p := range append(held, p) {
		FreePool(p)
	}
}

// ExFreePool2 without parameters is ExFreePoolWithTag; a secure-pool
// parameter makes it a secure free, whatever its Optional bit, which an
// ordinary block fails with BAD_POOL_CALLER.
func TestFreePool2(t *testing.T) {
	setup(t)
	p := AllocatePool2(PoolFlagPaged, 10, tagEx)
	FreePool2(p, 0, nil)
	p = AllocatePool2(PoolFlagPaged, 10, tagEx)
	rec := bugcheck.Catch(func() {
		FreePool2(p, tagEx, []PoolExtendedParameter{{Type: PoolExtendedParameterSecurePool, Optional: true}})
	})
	if rec == nil || rec.Code != bugcheck.BadPoolCaller || rec.Params != [4]uintptr{CallerSecureBadParameters, uintptr(p), 1, 0} {
		t.Fatalf("secure free without its parameters: %+v", rec)
	}
	rec = bugcheck.Catch(func() {
		FreePool2(p, tagEx, []PoolExtendedParameter{{Type: PoolExtendedParameterSecurePool, SecurePoolParams: &PoolExtendedParamsSecurePool{}}})
	})
	if rec == nil || rec.Code != bugcheck.BadPoolCaller || rec.Params != [4]uintptr{CallerSecureBadHandle, 0, uintptr(p), 0} {
		t.Fatalf("secure free of an ordinary block: %+v", rec)
	}
	FreePool2(p, tagEx, nil)
}
