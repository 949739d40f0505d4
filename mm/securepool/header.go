// Secure-pool block headers.
//
// Each block opens with 32 bytes in its protected page:
//
//	0   check   keyed hash of the header's address and the three words below
//	8   handle  uint32 | units uint16 | state uint16
//	16  tag     uint32 | bytes uint32 (the size asked for)
//	24  cookie  uint64
//
// units is the block's length in 16-byte units, header included (for a big
// block, its run's length in pages); state holds SECURE_POOL_FLAGS in its
// low bits and the allocated and big bits above. The check is a keyed
// mixing of the words with the System's secret (not a cryptographic MAC:
// the secret is what a forger lacks, the address what makes a copied
// header fail), so a header damaged, moved or written outside this
// package fails it. A header whose check fails stops the system when the
// allocator meets it walking a page (BAD_POOL_HEADER), and makes the block
// refused when a caller names it (Validate, Update, Free).

package securepool

import (
	"encoding/binary"

	"ntgo/mm/pool"
	"ntgo/nt/bugcheck"
)

const headerSize = 32

// state bits above SECURE_POOL_FLAGS.
const (
	stateAllocated uint16 = 0x100
	stateBig       uint16 = 0x200
	stateKnown            = stateAllocated | stateBig | uint16(ValidFlags)
)

// maxBigPages is the longest big run a header's units can describe.
const maxBigPages = 0xFFFF

// CheckFailed is ntgo's BAD_POOL_HEADER (0x19) subtype for a secure-pool
// header whose check fails while the allocator walks a page: p2 the
// header, p3 its check word, p4 the check it should have.
const CheckFailed = 0x130

type header struct {
	handle Handle
	units  uint16
	state  uint16
	tag    pool.Tag
	bytes  uint32
	cookie uint64
}

func (h header) words() (w1, w2, w3 uint64) {
	w1 = uint64(uint32(h.handle)) | uint64(h.units)<<32 | uint64(h.state)<<48
	w2 = uint64(h.tag) | uint64(h.bytes)<<32
	return w1, w2, h.cookie
}

// mix is a 64-bit finalizer (splitmix64's).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	return x ^ x>>31
}

// check is the check word of a header with words w at address b.
func check(key uint64, b uintptr, w1, w2, w3 uint64) uint64 {
	x := mix(key ^ uint64(b))
	x = mix(x ^ w1)
	x = mix(x ^ w2)
	return mix(x ^ w3 ^ key)
}

func (h header) encode(key uint64, b uintptr) [headerSize]byte {
	var out [headerSize]byte
	w1, w2, w3 := h.words()
	binary.LittleEndian.PutUint64(out[0:], check(key, b, w1, w2, w3))
	binary.LittleEndian.PutUint64(out[8:], w1)
	binary.LittleEndian.PutUint64(out[16:], w2)
	binary.LittleEndian.PutUint64(out[24:], w3)
	return out
}

// decode reads a header at b from its bytes; sound is false if its check
// fails or its fields cannot be (unknown state bits, no units). want is
// the check word the header should carry.
func decode(key uint64, b uintptr, raw []byte) (h header, sound bool, got, want uint64) {
	got = binary.LittleEndian.Uint64(raw[0:])
	w1 := binary.LittleEndian.Uint64(raw[8:])
	w2 := binary.LittleEndian.Uint64(raw[16:])
	w3 := binary.LittleEndian.Uint64(raw[24:])
	h = header{handle: Handle(uint32(w1)), units: uint16(w1 >> 32), state: uint16(w1 >> 48),
		tag: pool.Tag(uint32(w2)), bytes: uint32(w2 >> 32), cookie: w3}
	want = check(key, b, w1, w2, w3)
	sound = got == want && h.units != 0 && h.state&^stateKnown == 0
	if sound && h.state&stateBig == 0 {
		sound = uintptr(b&pageMask)/unitBytes+uintptr(h.units) <= pageUnits
	}
	return h, sound, got, want
}

func (s *System) writeHeader(b uintptr, h header) { s.queueHeader(b, h.encode(s.key, b)) }

// read copies the bytes at va, queued writes done first.
func (s *System) read(va uintptr, dst []byte) {
	s.flush()
	s.pages.Read(va, dst)
}

// readHeader decodes the header at b, read into the System's scratch
// buffer: a local one would escape through the Pages interface, and an
// allocation per header read was most of what ExSecurePoolValidate cost.
func (s *System) readHeader(b uintptr) (header, bool) {
	s.read(b, s.scratch[:])
	h, sound, _, _ := decode(s.key, b, s.scratch[:])
	return h, sound
}

// mustHeader is the header at b in a page the allocator walks; one that
// fails its check stops the system.
func (s *System) mustHeader(b uintptr) header {
	s.read(b, s.scratch[:])
	h, sound, got, want := decode(s.key, b, s.scratch[:])
	if !sound {
		bugcheck.KeBugCheckEx(bugcheck.BadPoolHeader, CheckFailed, b, uintptr(got), uintptr(want))
	}
	return h
}
