// The secure pools in the pool views: !pool and !poolfind show secure
// blocks as such (handle, SECURE_POOL_FLAGS, cookie), poolmon and
// !poolused count them by tag in rows of their own, and !securepool lists
// every pool with its blocks. A target without them (before the pools
// exist, a dump written before secure pools) leaves the other views as
// they were.

package mmext

import (
	"errors"
	"fmt"
	"io"

	"ntgo/mm/pool"
	"ntgo/mm/securepool"
)

// secure is the target's secure pools, nil if it has none.
func (v views) secure() *securepool.Image {
	im, err := v.t.SecurePools()
	if err != nil {
		return nil
	}
	return im
}

// secureInspect prints !pool for addr if a secure pool holds it.
func (v views) secureInspect(w io.Writer, addr uintptr) (bool, error) {
	im := v.secure()
	if im == nil || !im.Holds(addr) {
		return false, nil
	}
	r, ok := im.Inspect(addr)
	if !ok {
		return true, errors.New("in the secure-pool region, not in a secure pool's page")
	}
	fmt.Fprint(w, r)
	return true, nil
}

// secureFind prints !poolfind's secure blocks with tag and counts them.
func (v views) secureFind(w io.Writer, tag pool.Tag) int {
	im := v.secure()
	if im == nil {
		return 0
	}
	blocks := im.Find(tag)
	securepool.WriteFound(w, blocks)
	return len(blocks)
}

// secureTags is the secure pools' tag counters.
func (v views) secureTags() []securepool.TagInfo {
	if im := v.secure(); im != nil {
		return im.Tags
	}
	return nil
}

func (v views) securepool(w io.Writer, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	im, err := v.t.SecurePools()
	if err != nil {
		return err
	}
	im.Write(w)
	return nil
}
