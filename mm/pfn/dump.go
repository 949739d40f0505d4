// The database in a crash dump, and a read-only database over a dump's
// copy, so that a host viewer answers !pfn and !memusage with this
// package's own Decode and Stats.
//
// AppendDump runs on the bugcheck path: it copies the entries, list heads
// and counts without the lock, which the failing code may hold, so a dump
// taken in the middle of an operation can show that operation half done —
// that is what a crash dump is for. It allocates the copy from the Go heap
// (goroutine context only).
//
// Encoding, little-endian: the entry size, the entry count, the raw
// entries, then per list its first and last frame and length, then the
// per-state counts, then the node table (node count, range count, each
// range's first and end frame and node, each node's processor mask). Raw entries tie a dump to this Entry layout, which the size
// field guards: a viewer built from other sources refuses the dump.
//
// The bugcheck path copies the database first, before anything it does
// allocates: Snapshot into a copy made at boot by NewSnapshot, whose memory
// is already resident, is one memmove with no allocation and no page
// fault, so the copy's counts are the machine's at the stop, not after the
// bugcheck path's own heap growth took frames.
//
// OpenDump's and NewSnapshot's databases have no memory behind their
// frames and no lock holder: only the read side (Decode, Stats, NodeStats,
// Check, Frames, AppendDump) may be used on them.

package pfn

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"ntgo/mm/physmem"
)

// dumpHeaderWords are the entry size and the entry count.
const dumpHeaderWords = 2

// wordBytes is the size of each integer of the encoding.
const wordBytes = 8

// AppendDump appends the database's encoding to b.
func (db *Database) AppendDump(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(EntrySize))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(db.entries)))
	if len(db.entries) > 0 {
		b = append(b, unsafe.Slice((*byte)(unsafe.Pointer(&db.entries[0])), uintptr(len(db.entries))*EntrySize)...)
	}
	w := func(v uint64) { b = binary.LittleEndian.AppendUint64(b, v) }
	for _, h := range db.lists {
		w(uint64(h.first))
		w(uint64(h.last))
		w(h.n)
	}
	for _, c := range db.count {
		w(c)
	}
	w(db.deferred)
	t := &db.nodes
	w(uint64(t.count))
	w(uint64(t.n))
	for _, r := range t.ranges {
		w(uint64(r.First))
		w(uint64(r.End))
		w(uint64(r.Node))
	}
	for _, c := range t.cpus {
		w(c)
	}
	return b
}

// NewSnapshot returns a database the size of db for Snapshot to copy
// into, filled once so that its memory is resident.
func (db *Database) NewSnapshot() *Database {
	s := &Database{entries: make([]Entry, len(db.entries), cap(db.entries))}
	db.Snapshot(s)
	return s
}

// ErrBadDump is returned by OpenDump for an encoding it cannot use.
var ErrBadDump = errors.New("pfn: dump is truncated or from another Entry layout")

// OpenDump returns a read-only database over a copy of the encoding in b.
func OpenDump(b []byte) (*Database, error) {
	if len(b) < dumpHeaderWords*wordBytes || binary.LittleEndian.Uint64(b) != uint64(EntrySize) {
		return nil, ErrBadDump
	}
	n := binary.LittleEndian.Uint64(b[wordBytes:])
	rest := b[dumpHeaderWords*wordBytes:]
	tail := uint64(numHeads*3+NumStates+1+2+MaxNodeRanges*3+MaxNodes) * wordBytes
	if n > uint64(noLink) || uint64(len(rest)) != n*uint64(EntrySize)+tail {
		return nil, ErrBadDump
	}
	db := &Database{entries: make([]Entry, n)}
	if n > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&db.entries[0])), uintptr(n)*EntrySize), rest)
	}
	rest = rest[n*uint64(EntrySize):]
	word := func() uint64 {
		v := binary.LittleEndian.Uint64(rest)
		rest = rest[wordBytes:]
		return v
	}
	for i := range db.lists {
		db.lists[i] = listHead{first: uint32(word()), last: uint32(word()), n: word()}
	}
	for i := range db.count {
		db.count[i] = word()
	}
	db.deferred = word()
	t := &db.nodes
	t.count, t.n = uint32(word()), int(word())
	for i := range t.ranges {
		t.ranges[i] = NodeRange{First: physmem.PFN(word()), End: physmem.PFN(word()), Node: uint32(word())}
	}
	for i := range t.cpus {
		t.cpus[i] = word()
	}
	if t.count == 0 || t.count > MaxNodes || t.n < 0 || t.n > MaxNodeRanges {
		return nil, ErrBadDump
	}
	for _, r := range t.ranges[:t.n] {
		if r.Node >= t.count {
			return nil, ErrBadDump
		}
	}
	return db, nil
}
