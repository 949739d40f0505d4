package pool

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// FuzzPool runs random allocation, free and write sequences over every pool
// type and sizes up to 64 KiB. After every step: no two live blocks
// (headers included) overlap, every live block still holds the pattern last
// written into it, the tag counters agree with a shadow model, and every
// pool page is soundly tiled (tp.structure). At the end everything is freed
// and every page must have gone back.
func FuzzPool(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		seed := make([]byte, 600)
		for i := range seed {
			seed[i] = byte(r.Uint32())
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		tp := newTestPool(t, poolOpts{pages: 2048, noLookaside: in[0]&1 != 0, noDelayFree: in[0]&2 != 0, protect: true})
		fz := &fuzzState{tp: tp, shadow: map[shadowKey]TagCounts{}}
		in = in[1:min(len(in), 1+3*fuzzMaxSteps)]
		for ; len(in) >= 3; in = in[3:] {
			fz.step(t, in[0], in[1], in[2])
			fz.verify(t)
		}
		for len(fz.live) > 0 {
			fz.free(t, 0, true)
		}
		fz.verify(t)
		tp.idle(t)
	})
}

const (
	fuzzMaxLiveBytes = 256 << 10
	fuzzMaxLive      = 256
	fuzzMaxSize      = 64 << 10
	fuzzMaxSteps     = 1000 // bounds the time one input takes
)

var (
	fuzzTypes = [...]PoolType{NonPagedPool, NonPagedPoolExecute, PagedPool, NonPagedPoolNxCacheAligned, PagedPoolCacheAligned}
	fuzzTags  = [...]Tag{MakeTag("Fz0 "), MakeTag("Fz1 "), MakeTag("Fz2 "), MakeTag("Fz3 ")}
)

type fuzzBlock struct {
	va, n uintptr
	pt    PoolType
	tag   Tag
	seed  uint64
}

type shadowKey struct {
	tag  Tag
	kind Kind
}

type fuzzState struct {
	tp        *testPool
	live      []fuzzBlock
	liveBytes uintptr
	shadow    map[shadowKey]TagCounts
	seeds     uint64
}

// shadowBytes is what a request occupies, computed independently of the
// allocator: a 16-byte-rounded block with its header up to 255 units (252
// for cache-aligned, which need room to align), else whole pages.
func shadowBytes(pt PoolType, n uintptr) uintptr {
	units := (max(n, 1) + 16 + 15) / 16
	limit := uintptr(255)
	if pt&CacheAlignedPoolTypeMask != 0 {
		limit = 252
	}
	if n <= 4064 && units <= limit {
		return units * 16
	}
	return (n + 4095) / 4096 * 4096
}

func (fz *fuzzState) step(t *testing.T, op, a, b byte) {
	switch {
	case op%8 < 4 && len(fz.live) < fuzzMaxLive:
		pt := fuzzTypes[int(op>>3)%len(fuzzTypes)]
		tag := fuzzTags[int(op>>6)]
		var n uintptr
		v := uintptr(a)<<8 | uintptr(b)
		switch a % 4 {
		case 0:
			n = v%64 + 1
		case 1:
			n = v%512 + 1
		case 2:
			n = v%4200 + 1
		default:
			n = (v*17)%fuzzMaxSize + 1
		}
		if fz.liveBytes+n > fuzzMaxLiveBytes {
			fz.free(t, int(b), false)
			return
		}
		fz.alloc(t, pt, n, tag)
	case op%8 < 6 && len(fz.live) > 0:
		fz.free(t, int(a)<<8|int(b), a&1 != 0)
	case op%8 == 6 && len(fz.live) > 0:
		bl := &fz.live[(int(a)<<8|int(b))%len(fz.live)]
		fz.seeds++
		bl.seed = fz.seeds
		fillSeed(bl.va, bl.n, bl.seed)
	case op%8 == 7 && a%16 == 0:
		fz.tp.Flush()
	case op%8 == 7 && a%16 == 1:
		fz.tp.AdjustLookasideDepths()
	}
}

func (fz *fuzzState) alloc(t *testing.T, pt PoolType, n uintptr, tag Tag) {
	va := fz.tp.Allocate(pt, n, tag, NormalPoolPriority, 0)
	if va == 0 {
		t.Fatalf("Allocate(%#x, %d) failed with %d bytes live", pt, n, fz.liveBytes)
	}
	if pt&CacheAlignedPoolTypeMask != 0 && va%cacheLineSize != 0 {
		t.Fatalf("cache-aligned %d bytes at %#x", n, va)
	}
	lo, hi := extent(va, n)
	for _, o := range fz.live {
		olo, ohi := extent(o.va, o.n)
		if lo < ohi && olo < hi {
			t.Fatalf("new block [%#x,%#x) overlaps live [%#x,%#x)", lo, hi, olo, ohi)
		}
	}
	fz.seeds++
	bl := fuzzBlock{va: va, n: n, pt: pt, tag: tag, seed: fz.seeds}
	fillSeed(va, n, bl.seed)
	fz.live = append(fz.live, bl)
	fz.liveBytes += n
	k := shadowKey{tag, KindOf(pt)}
	c := fz.shadow[k]
	c.Allocs++
	c.Bytes += int64(shadowBytes(pt, n))
	fz.shadow[k] = c
}

// extent is a live block's span, its header included.
func extent(va, n uintptr) (lo, hi uintptr) {
	if va&pageMask == 0 {
		return va, va + n
	}
	return va - HeaderSize, va + max(n, 1)
}

func (fz *fuzzState) free(t *testing.T, i int, withTag bool) {
	i %= len(fz.live)
	bl := fz.live[i]
	tag := Tag(0)
	if withTag {
		tag = bl.tag
	}
	fz.tp.Free(bl.va, tag)
	fz.live[i] = fz.live[len(fz.live)-1]
	fz.live = fz.live[:len(fz.live)-1]
	fz.liveBytes -= bl.n
	k := shadowKey{bl.tag, KindOf(bl.pt)}
	c := fz.shadow[k]
	c.Frees++
	c.Bytes -= int64(shadowBytes(bl.pt, bl.n))
	fz.shadow[k] = c
}

func (fz *fuzzState) verify(t *testing.T) {
	fz.tp.structure(t)
	for _, bl := range fz.live {
		if !checkSeed(bl.va, bl.n, bl.seed) {
			t.Fatalf("live block %#x (%d bytes, %#x) lost its contents", bl.va, bl.n, bl.pt)
		}
	}
	for _, tag := range fuzzTags {
		st, _ := fz.tp.PoolUsed(tag)
		for k := range NumKinds {
			if want := fz.shadow[shadowKey{tag, k}]; st.Kinds[k] != want {
				t.Fatalf("tag %v %v: counters %+v, shadow %+v", tag, k, st.Kinds[k], want)
			}
		}
	}
}

// patternWord is word i of the pattern of seed: seeds are spread far apart
// (the golden-ratio multiplier), so words of different blocks differ.
func patternWord(seed uint64, i uintptr) uint64 { return seed*0x9E3779B97F4A7C15 + uint64(i) }

// fillSeed writes the pattern of seed into the n bytes at va (16-aligned).
func fillSeed(va, n uintptr, seed uint64) {
	words := unsafe.Slice((*uint64)(Ptr(va)), n/8)
	for i := range words {
		words[i] = patternWord(seed, uintptr(i))
	}
	tail := patternWord(seed, n/8)
	for j := n &^ 7; j < n; j++ {
		store8(va+j, byte(tail>>(8*(j%8))))
	}
}

func checkSeed(va, n uintptr, seed uint64) bool {
	words := unsafe.Slice((*uint64)(Ptr(va)), n/8)
	w0 := patternWord(seed, 0)
	for i, w := range words {
		if w != w0+uint64(i) {
			return false
		}
	}
	tail := patternWord(seed, n/8)
	for j := n &^ 7; j < n; j++ {
		if load8(va+j) != byte(tail>>(8*(j%8))) {
			return false
		}
	}
	return true
}
