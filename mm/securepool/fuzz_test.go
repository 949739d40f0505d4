package securepool_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"ntgo/mm/pool"
	"ntgo/mm/pte/ptesim"
	"ntgo/mm/securepool"
)

// FuzzSecurePool runs random create, allocate, update, validate, free and
// destroy sequences over up to three pools and sizes up to three pages,
// against a shadow model. After every step: every live block holds the
// model's bytes and validates with its cookie (and not with another), no
// two live blocks overlap, the alias is idle, and the tag counters agree
// with the model. At the end every pool is destroyed and every page and
// frame must have gone back.
func FuzzSecurePool(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		seed := make([]byte, 400)
		for i := range seed {
			seed[i] = byte(r.Uint32())
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		z := &fuzzSecure{rig: newRig(t), bytes: map[pool.Tag]int64{}}
		for in = in[:min(len(in), 4*300)]; len(in) >= 4; in = in[4:] {
			z.step(t, in[0], in[1], in[2], in[3])
			z.verify(t)
		}
		for _, h := range z.pools {
			if f := z.s.Destroy(h); f != securepool.OK {
				t.Fatalf("Destroy: %v", f)
			}
		}
		if n := z.pages.InUse(); n != 0 || z.m.Frames.Count(ptesim.Page) != z.base {
			t.Fatalf("after destroying every pool: %d pages mapped, %d page frames (%d before)", n, z.m.Frames.Count(ptesim.Page), z.base)
		}
		for _, ti := range z.s.Tags() {
			if ti.Counts.Bytes != 0 {
				t.Fatalf("tag %v holds %d bytes after every pool is gone", ti.Tag, ti.Counts.Bytes)
			}
		}
	})
}

type fuzzLive struct {
	h      securepool.Handle
	va     uintptr
	tag    pool.Tag
	cookie uint64
	flags  uint32
	data   []byte
}

type fuzzSecure struct {
	*rig
	pools []securepool.Handle
	live  []fuzzLive
	bytes map[pool.Tag]int64
}

var fuzzSecureTags = [...]pool.Tag{tagA, tagB}

func (z *fuzzSecure) step(t *testing.T, op, a, b, c byte) {
	switch op % 8 {
	case 0:
		if len(z.pools) < 3 {
			z.pools = append(z.pools, z.s.Create(tagA))
		}
	case 1, 2, 3:
		if len(z.pools) == 0 {
			return
		}
		h := z.pools[int(a)%len(z.pools)]
		n := (int(b)<<4 | int(c)) % (3 * 4096)
		if b&0x80 == 0 {
			n %= 300
		}
		data := bytes.Repeat([]byte{c | 1}, n)
		tag := fuzzSecureTags[a&1]
		cookie := uint64(a)<<8 | uint64(b)
		flags := uint32(c) & securepool.ValidFlags
		va, f := z.s.Allocate(h, uintptr(n), tag, data, cookie, flags)
		if f == securepool.NoMemory {
			return
		}
		if f != securepool.OK {
			t.Fatalf("Allocate(%d): %v", n, f)
		}
		z.live = append(z.live, fuzzLive{h, va, tag, cookie, flags, data})
		z.bytes[tag] += int64(n)
	case 4, 5:
		if len(z.live) == 0 {
			return
		}
		i := int(a) % len(z.live)
		l := z.live[i]
		f := z.s.Free(l.h, l.tag, l.va, l.cookie)
		if l.flags&securepool.Freeable == 0 {
			if f != securepool.NotFreeable {
				t.Fatalf("Free of a block without FREEABLE: %v", f)
			}
			return
		}
		if f != securepool.OK {
			t.Fatalf("Free: %v", f)
		}
		z.bytes[l.tag] -= int64(len(l.data))
		z.live = append(z.live[:i], z.live[i+1:]...)
	case 6:
		if len(z.live) == 0 {
			return
		}
		l := &z.live[int(a)%len(z.live)]
		if len(l.data) == 0 {
			return
		}
		off := int(b) % len(l.data)
		patch := bytes.Repeat([]byte{c}, min(int(c), len(l.data)-off))
		f := z.s.Update(l.h, l.tag, l.va, l.cookie, uintptr(off), patch)
		if l.flags&securepool.Modifiable == 0 {
			if f != securepool.NotModifiable {
				t.Fatalf("Update of a block without MODIFIABLE: %v", f)
			}
			return
		}
		if f != securepool.OK {
			t.Fatalf("Update: %v", f)
		}
		copy(l.data[off:], patch)
	case 7:
		if len(z.pools) == 0 || a&3 != 0 {
			return
		}
		i := int(b) % len(z.pools)
		h := z.pools[i]
		if f := z.s.Destroy(h); f != securepool.OK {
			t.Fatalf("Destroy: %v", f)
		}
		z.pools = append(z.pools[:i], z.pools[i+1:]...)
		kept := z.live[:0]
		for _, l := range z.live {
			if l.h != h {
				kept = append(kept, l)
			} else {
				z.bytes[l.tag] -= int64(len(l.data))
			}
		}
		z.live = kept
	}
}

func (z *fuzzSecure) verify(t *testing.T) {
	t.Helper()
	z.aliasIdle(t)
	type span struct{ lo, hi uintptr }
	var spans []span
	for _, l := range z.live {
		if !bytes.Equal(z.read(l.va, len(l.data)), l.data) {
			t.Fatalf("block %#x (%d bytes) does not hold its data", l.va, len(l.data))
		}
		if f := z.s.Validate(l.h, l.tag, l.va, l.cookie); f != securepool.OK {
			t.Fatalf("Validate of live block %#x: %v", l.va, f)
		}
		if f := z.s.Validate(l.h, l.tag, l.va, l.cookie^1); f != securepool.WrongCookie {
			t.Fatalf("Validate with a wrong cookie: %v", f)
		}
		s := span{l.va - 32, l.va + uintptr(len(l.data))}
		for _, o := range spans {
			if s.lo < o.hi && o.lo < s.hi {
				t.Fatalf("blocks %#x and %#x overlap", s.lo, o.lo)
			}
		}
		spans = append(spans, s)
	}
	// Each small block spans what it asked for, rounded to units, and at
	// most the one unit too small to split off.
	im := z.s.Capture()
	for _, tag := range fuzzSecureTags {
		for _, bl := range im.Find(tag) {
			need := (32 + uintptr(bl.Size) + 15) &^ 15
			if !bl.Big && (bl.Bytes < need || bl.Bytes > need+16) {
				t.Fatalf("block %#x of %d bytes spans %#x", bl.Addr, bl.Size, bl.Bytes)
			}
		}
	}
	for _, ti := range z.s.Tags() {
		if ti.Counts.Bytes != z.bytes[ti.Tag] {
			t.Fatalf("tag %v counts %d bytes, the model %d", ti.Tag, ti.Counts.Bytes, z.bytes[ti.Tag])
		}
	}
}
