// Pool quota.
//
// ExAllocatePoolWithQuota[Tag] and POOL_FLAG_USE_QUOTA charge an allocation
// to the current quota owner: in NT the current process's
// EPROCESS_QUOTA_BLOCK, in ntgo whatever *QuotaBlock the kernel's
// Config.QuotaOwner returns (nil means the system, which is never charged).
// The charge is pool.ChargeSize, kept separately for nonpaged and paged
// pool, and is refused with STATUS_QUOTA_EXCEEDED past the block's limit.
//
// The pool seals the owner into the block (header or big-page entry) and
// gives the charge back through ReturnQuota when the block is freed. Pool
// memory must not hold Go pointers, so what it seals is a handle: a quota
// block is registered the first time it is charged and its handle is its
// index in the registry plus one. A sealed value that names no registered
// block means the header was damaged; the pool then stops with
// BAD_POOL_CALLER CallerBadQuotaOwner.
//
// Locking: usage is atomic (CAS against the limit); the registry is an
// RWMutex-guarded slice that only grows.

package ex

import (
	"sync"
	"sync/atomic"

	"ntgo/mm/pool"
)

// NoQuotaLimit is a limit that never refuses.
const NoQuotaLimit = ^uintptr(0)

// Quota is kept per pool: NT's QuotaPoolLimits are indexed the same way.
const (
	quotaNonPaged = iota
	quotaPaged
	quotaPools
)

// QuotaBlock is a quota owner's pool account.
type QuotaBlock struct {
	limit  [quotaPools]uintptr
	usage  [quotaPools]atomic.Uintptr
	handle atomic.Uintptr
}

// NewQuotaBlock is an account with the given limits in bytes.
func NewQuotaBlock(nonPagedLimit, pagedLimit uintptr) *QuotaBlock {
	return &QuotaBlock{limit: [quotaPools]uintptr{nonPagedLimit, pagedLimit}}
}

// Usage is the bytes charged and not yet returned.
func (q *QuotaBlock) Usage() (nonPaged, paged uintptr) {
	return q.usage[quotaNonPaged].Load(), q.usage[quotaPaged].Load()
}

func quotaPool(k pool.Kind) int {
	if k.Paged() {
		return quotaPaged
	}
	return quotaNonPaged
}

// charge takes bytes from q's limit for pool k.
func (q *QuotaBlock) charge(k pool.Kind, bytes uintptr) bool {
	u, limit := &q.usage[quotaPool(k)], q.limit[quotaPool(k)]
	for {
		old := u.Load()
		if old+bytes < old || old+bytes > limit {
			return false
		}
		if u.CompareAndSwap(old, old+bytes) {
			return true
		}
	}
}

// release gives bytes back; false if q was never charged that much, which
// only a damaged header can cause.
func (q *QuotaBlock) release(k pool.Kind, bytes uintptr) bool {
	u := &q.usage[quotaPool(k)]
	for {
		old := u.Load()
		if old < bytes {
			return false
		}
		if u.CompareAndSwap(old, old-bytes) {
			return true
		}
	}
}

var quotaOwners struct {
	mu     sync.RWMutex
	blocks []*QuotaBlock
}

// owner is q's handle, registering q on first use.
func (q *QuotaBlock) owner() uintptr {
	if h := q.handle.Load(); h != 0 {
		return h
	}
	quotaOwners.mu.Lock()
	defer quotaOwners.mu.Unlock()
	if h := q.handle.Load(); h != 0 {
		return h
	}
	quotaOwners.blocks = append(quotaOwners.blocks, q)
	h := uintptr(len(quotaOwners.blocks))
	q.handle.Store(h)
	return h
}

// quotaBlockOf is the block a handle names, or nil.
func quotaBlockOf(owner uintptr) *QuotaBlock {
	quotaOwners.mu.RLock()
	defer quotaOwners.mu.RUnlock()
	if owner == 0 || owner > uintptr(len(quotaOwners.blocks)) {
		return nil
	}
	return quotaOwners.blocks[owner-1]
}

// returnQuota is the pool's Config.ReturnQuota.
func returnQuota(owner uintptr, k pool.Kind, bytes uintptr) bool {
	q := quotaBlockOf(owner)
	return q != nil && q.release(k, bytes)
}
