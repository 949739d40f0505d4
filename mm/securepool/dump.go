// The secure pools in a crash dump: Image's encoding.
//
//	header  key, region base, region size uint64; pool, run and tag
//	        counts uint32 each
//	pools   per pool: handle uint64, tag uint32, pages uint32
//	runs    per run: first page uint64, handle uint64, pages uint32,
//	        big uint32
//	tags    per tag: tag uint32, allocs uint64, frees uint64, bytes int64
//	pages   per run, in the runs' order: its first page's 4096 bytes, or
//	        none if the capture could not read it (a flag uint32 first)
//
// The key is the header check's: a dump is the debugger's, and without it
// no header could be checked offline.

package securepool

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

type imageHeader struct {
	Key, Base, Size    uint64
	Pools, Runs, NTags uint32
}

// AppendDump appends im's encoding to b.
func (im *Image) AppendDump(b []byte) []byte {
	var w bytes.Buffer
	put := func(v any) { binary.Write(&w, binary.LittleEndian, v) }
	put(imageHeader{im.Key, im.Base, im.Size, uint32(len(im.Pools)), uint32(len(im.Runs)), uint32(len(im.Tags))})
	put(im.Pools)
	put(im.Runs)
	put(im.Tags)
	for _, r := range im.Runs {
		pg := im.Pages[uintptr(r.VA)]
		if pg == nil {
			put(uint32(0))
			continue
		}
		put(uint32(1))
		put(pg[:])
	}
	return append(b, w.Bytes()...)
}

// OpenDump decodes an Image AppendDump wrote.
func OpenDump(b []byte) (*Image, error) {
	r := bytes.NewReader(b)
	get := func(v any) error { return binary.Read(r, binary.LittleEndian, v) }
	var h imageHeader
	if err := get(&h); err != nil {
		return nil, fmt.Errorf("securepool: dump header: %w", err)
	}
	if uint64(h.Pools)+uint64(h.Runs)+uint64(h.NTags) > uint64(len(b)) {
		return nil, fmt.Errorf("securepool: dump counts %d/%d/%d beyond its %d bytes", h.Pools, h.Runs, h.NTags, len(b))
	}
	im := &Image{Key: h.Key, Base: h.Base, Size: h.Size, Pools: make([]PoolInfo, h.Pools), Runs: make([]PageInfo, h.Runs),
		Tags: make([]TagInfo, h.NTags), Pages: map[uintptr]*[pageSize]byte{}}
	for _, v := range []any{im.Pools, im.Runs, im.Tags} {
		if err := get(v); err != nil {
			return nil, fmt.Errorf("securepool: dump: %w", err)
		}
	}
	for _, run := range im.Runs {
		var present uint32
		if err := get(&present); err != nil {
			return nil, fmt.Errorf("securepool: dump pages: %w", err)
		}
		if present == 0 {
			continue
		}
		pg := new([pageSize]byte)
		if err := get(pg[:]); err != nil {
			return nil, fmt.Errorf("securepool: dump page %#x: %w", run.VA, err)
		}
		im.Pages[uintptr(run.VA)] = pg
	}
	return im, nil
}
