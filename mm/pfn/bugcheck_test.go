package pfn

import (
	"testing"

	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
)

// TestMisuseBugchecks provokes every misuse bugcheck and checks that the
// database is left consistent and unlocked, as bugcheck_trap.go promises.
func TestMisuseBugchecks(t *testing.T) {
	const (
		pfnCorrupt = bugcheck.PfnListCorrupt
		mm         = bugcheck.MemoryManagement
		wrongPte   = 0xFFFFF68000FF0000
	)
	active := func(f *fixture) (physmem.PFN, uintptr) {
		p := f.alloc(true)
		return p, f.info(p).Pte
	}
	type want struct {
		code   bugcheck.Code
		params []uintptr
	}
	for _, tc := range []struct {
		name string
		run  func(f *fixture) (op func(), w want)
	}{
		{"frame beyond the database", func(f *fixture) (func(), want) {
			return func() { f.db.Free(5, 0) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, 5, uintptr(StateReserved)}}
		}},
		{"reserved frame", func(f *fixture) (func(), want) {
			return func() { f.db.Reference(0) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, 0, uintptr(StateReserved)}}
		}},
		{"mark a reserved frame bad", func(f *fixture) (func(), want) {
			return func() { f.db.MarkBad(0) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, 0, uintptr(StateReserved)}}
		}},
		{"double free", func(f *fixture) (func(), want) {
			p, pte := active(f)
			f.db.Free(p, pte)
			return func() { f.db.Free(p, 0) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p), uintptr(StateFree)}}
		}},
		{"unmap a standby frame", func(f *fixture) (func(), want) {
			p, _ := active(f)
			f.db.Unmap(p, false, false)
			return func() { f.db.Unmap(p, false, false) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p), uintptr(StateStandby)}}
		}},
		{"reclaim a zeroed frame", func(f *fixture) (func(), want) {
			f.db.ZeroSome(1)
			return func() { f.db.Reclaim(1, 0) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, 1, uintptr(StateZeroed)}}
		}},
		{"reclaim a deleted transition frame", func(f *fixture) (func(), want) {
			p, pte := active(f)
			f.db.Reference(p)
			f.db.Free(p, pte)
			return func() { f.db.Reclaim(p, 0) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p), uintptr(StateTransition)}}
		}},
		{"share a free frame", func(f *fixture) (func(), want) {
			return func() { f.db.AddShare(2) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, 2, uintptr(StateFree)}}
		}},
		{"lock a standby frame", func(f *fixture) (func(), want) {
			p, _ := active(f)
			f.db.Unmap(p, false, false)
			return func() { f.db.Reference(p) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p), uintptr(StateStandby)}}
		}},
		{"write a standby frame", func(f *fixture) (func(), want) {
			p, _ := active(f)
			f.db.Unmap(p, false, false)
			return func() { f.db.ModifiedToStandby(p) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p), uintptr(StateStandby)}}
		}},
		{"allow writing a modified frame", func(f *fixture) (func(), want) {
			p, _ := active(f)
			f.db.Unmap(p, true, false)
			return func() { f.db.AllowWrite(p) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p), uintptr(StateModified)}}
		}},
		{"purge a modified frame", func(f *fixture) (func(), want) {
			p, _ := active(f)
			f.db.Unmap(p, true, false)
			return func() { f.db.StandbyToFree(p) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p), uintptr(StateModified)}}
		}},
		{"delete the transition PTE of an active frame", func(f *fixture) (func(), want) {
			p, pte := active(f)
			return func() { f.db.DeleteTransition(p, pte) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p), uintptr(StateActive)}}
		}},
		{"delete a transition PTE twice", func(f *fixture) (func(), want) {
			p, pte := active(f)
			f.db.Reference(p)
			f.db.Unmap(p, false, false)
			f.db.DeleteTransition(p, pte)
			return func() { f.db.DeleteTransition(p, pte) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p), uintptr(StateTransition)}}
		}},
		{"free one frame of a contiguous run", func(f *fixture) (func(), want) {
			p, _ := f.db.AllocateContiguous(2, 0, 10, 0, Cached)
			return func() { f.db.Free(p+1, 0) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p + 1), uintptr(StateActive)}}
		}},
		{"free a run from its middle", func(f *fixture) (func(), want) {
			p, _ := f.db.AllocateContiguous(2, 0, 10, 0, Cached)
			return func() { f.db.FreeContiguous(p + 1) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p + 1), uintptr(StateActive)}}
		}},
		{"free a run that is still shared", func(f *fixture) (func(), want) {
			p, _ := f.db.AllocateContiguous(2, 0, 10, 0, Cached)
			f.db.AddShare(p + 1)
			return func() { f.db.FreeContiguous(p) }, want{pfnCorrupt, []uintptr{FrameStateInvalid, uintptr(p + 1), uintptr(StateActive)}}
		}},
		{"free a run that is still locked", func(f *fixture) (func(), want) {
			p, _ := f.db.AllocateContiguous(2, 0, 10, 0, Cached)
			f.db.Reference(p + 1)
			return func() { f.db.FreeContiguous(p) }, want{pfnCorrupt, []uintptr{FreedWhileLocked, uintptr(p + 1), uintptr(StateActive), 2}}
		}},
		{"unlock an unlocked active frame", func(f *fixture) (func(), want) {
			p, _ := active(f)
			return func() { f.db.Dereference(p) }, want{pfnCorrupt, []uintptr{UnlockedTooOften, uintptr(p), 1}}
		}},
		{"unlock a free frame", func(f *fixture) (func(), want) {
			return func() { f.db.Dereference(3) }, want{pfnCorrupt, []uintptr{UnlockedTooOften, 3, 0}}
		}},
		{"free through the wrong PTE", func(f *fixture) (func(), want) {
			p, pte := active(f)
			return func() { f.db.Free(p, wrongPte) }, want{mm, []uintptr{PteMismatch, wrongPte, uintptr(p), pte}}
		}},
		{"reclaim through the wrong PTE", func(f *fixture) (func(), want) {
			p, pte := active(f)
			f.db.Unmap(p, false, false)
			return func() { f.db.Reclaim(p, wrongPte) }, want{mm, []uintptr{PteMismatch, wrongPte, uintptr(p), pte}}
		}},
		{"delete the wrong transition PTE", func(f *fixture) (func(), want) {
			p, pte := active(f)
			f.db.Unmap(p, true, false)
			return func() { f.db.DeleteTransition(p, wrongPte) }, want{mm, []uintptr{PteMismatch, wrongPte, uintptr(p), pte}}
		}},
		{"share count overflow", func(f *fixture) (func(), want) {
			p, _ := active(f)
			f.db.entries[p].shareCount = maxShare
			return func() { f.db.AddShare(p) }, want{mm, []uintptr{ShareOverflow, uintptr(p), maxShare}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, smallMap)
			op, w := tc.run(f)
			wantBugcheck(t, op, w.code, w.params...)
			if f.db.lock.Held() {
				t.Fatal("lock still held after the bugcheck")
			}
			f.check()
		})
	}
}
