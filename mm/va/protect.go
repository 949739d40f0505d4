// Win32/NT page-protection and allocation-type flags, as drivers pass them.
//
// A PAGE_* value is one base protection, optionally with PAGE_GUARD. ntgo
// supports the five bases kernel VA needs; PAGE_EXECUTE (x86 cannot map
// execute-only), the WRITECOPY forms (sections only) and the cache modifiers
// (the cache type is MapIoSpace's argument) are refused with
// STATUS_INVALID_PAGE_PROTECTION, as is PAGE_NOACCESS|PAGE_GUARD, which NT
// refuses too.

package va

import "ntgo/mm/pte"

// PageProtection is a PAGE_* protection.
type PageProtection uint32

// The supported protections, with NT's values.
const (
	PageNoAccess         PageProtection = 0x01
	PageReadOnly         PageProtection = 0x02
	PageReadWrite        PageProtection = 0x04
	PageExecuteRead      PageProtection = 0x20
	PageExecuteReadWrite PageProtection = 0x40
	PageGuard            PageProtection = 0x100
)

// AllocationType is a MEM_* operation.
type AllocationType uint32

// The operations, with NT's values.
const (
	MemCommit   AllocationType = 0x1000
	MemReserve  AllocationType = 0x2000
	MemDecommit AllocationType = 0x4000
	MemRelease  AllocationType = 0x8000
)

// protectionPairs relates each base PAGE_* value to its MM protection.
var protectionPairs = [...]struct {
	page PageProtection
	mm   pte.Protection
}{
	{PageNoAccess, pte.ProtNoAccess},
	{PageReadOnly, pte.ProtReadOnly},
	{PageReadWrite, pte.ProtReadWrite},
	{PageExecuteRead, pte.ProtExecuteRead},
	{PageExecuteReadWrite, pte.ProtExecuteReadWrite},
}

// mm converts p to the protection stored in PTEs, or reports it unsupported.
func (p PageProtection) mm() (pte.Protection, bool) {
	base, guard := p&^PageGuard, p&PageGuard != 0
	for _, pair := range protectionPairs {
		if pair.page != base {
			continue
		}
		if !guard {
			return pair.mm, true
		}
		if base == PageNoAccess {
			return 0, false
		}
		return pair.mm | pte.ProtGuard, true
	}
	return 0, false
}

// pageProtection converts an MM protection back to PAGE_* form.
func pageProtection(p pte.Protection) PageProtection {
	var guard PageProtection
	if p.Guard() {
		guard = PageGuard
	}
	base := p.WithoutGuard()
	for _, pair := range protectionPairs {
		if pair.mm == base {
			return pair.page | guard
		}
	}
	return 0
}
