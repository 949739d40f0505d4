// Package extest sets up mm/ex for tests of packages built on it: the
// system pools over host arenas (pool.Arena), torn down with the test.
// mm/ex is a package singleton, so each Setup replaces the pools of the
// one before; tests that use it must not run in parallel.
package extest

import (
	"testing"

	"ntgo/mm/ex"
	"ntgo/mm/pool"
)

// Pages is the size of each pool (nonpaged and paged) in pages; its arena
// has twice that, so tests can exhaust the pool before the arena.
const Pages = 256

const pageSize = 4096

// Setup initializes mm/ex over fresh arenas and returns the pools.
func Setup(tb testing.TB) *pool.System {
	tb.Helper()
	np, pg := pool.NewArena(2*Pages), pool.NewArena(2*Pages)
	tb.Cleanup(func() { np.Close(); pg.Close() })
	p, err := ex.Init(ex.Config{Pool: pool.Config{NonPaged: np, Paged: pg,
		MaxNonPagedBytes: Pages * pageSize, MaxPagedBytes: Pages * pageSize}})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
