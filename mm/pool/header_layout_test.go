package pool

import (
	"testing"
	"unsafe"
)

// PoolHeader, the layout dt prints, is the one the pool uses.
func TestPoolHeaderLayout(t *testing.T) {
	var h PoolHeader
	for name, c := range map[string][2]uintptr{
		"PreviousSize": {unsafe.Offsetof(h.PreviousSize), offPreviousSize},
		"PoolIndex":    {unsafe.Offsetof(h.PoolIndex), offPoolIndex},
		"BlockSize":    {unsafe.Offsetof(h.BlockSize), offBlockSize},
		"PoolType":     {unsafe.Offsetof(h.PoolType), offPoolType},
		"PoolTag":      {unsafe.Offsetof(h.PoolTag), offPoolTag},
		"Check":        {unsafe.Offsetof(h.Check), offCheck},
	} {
		if c[0] != c[1] {
			t.Errorf("PoolHeader.%s at %#x, the pool's offset %#x", name, c[0], c[1])
		}
	}
	if unsafe.Sizeof(h) != HeaderSize {
		t.Errorf("PoolHeader is %d bytes, a header %d", unsafe.Sizeof(h), HeaderSize)
	}
}
