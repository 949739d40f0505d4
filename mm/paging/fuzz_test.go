package paging_test

import (
	"math/rand"
	"testing"
)

// FuzzPager drives random sequences of commit, touch, trim, write,
// repurpose, write errors and free over a small machine (16 frames, 48
// pageable pages, a 40-page paging file) and checks after every step that
// each page is in exactly one place with its last contents (sim.check).
func FuzzPager(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{0, 0x10, 0x20, 0x30, 2, 0x12, 0x22, 4, 6, 7, 3, 0x13, 9, 1})
	f.Add([]byte{9, 2, 4, 6, 8, 6, 8, 7, 3, 1, 1, 1, 5, 5})
	f.Fuzz(runOps)
}

// TestRandomOps runs FuzzPager's body over seeded random sequences, so
// plain test runs cover long sequences too.
func TestRandomOps(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for range 40 {
		ops := make([]byte, 400)
		r.Read(ops)
		runOps(t, ops)
	}
}

func runOps(t *testing.T, ops []byte) {
	{
		s := newSim(t, 16, 48, 40)
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%10, int(ops[i+1])
			page := arg % s.pages
			switch op {
			case 0, 9:
				s.commit(page)
			case 1:
				s.free(page)
			case 2:
				s.touch(page, true)
			case 3:
				s.touch(page, false)
			case 4:
				s.p.Trim(arg%8+1, uint8(arg%3))
			case 5:
				s.p.TrimAll()
			case 6:
				s.p.WriteModified(arg%20 + 1)
			case 7:
				s.repurpose(arg % 16)
			case 8:
				s.dev.failWrites = !s.dev.failWrites
			}
			s.check()
		}
		for page := range s.pages {
			s.touch(page, false)
		}
		s.check()
		for page := range s.pages {
			s.free(page)
		}
		s.check()
		if s.p.Slots().Used() != 0 || s.db.Stats().Available() != 15 {
			t.Fatalf("leaked after freeing everything: %v", s)
		}
	}
}
