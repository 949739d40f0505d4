package physmem

import "testing"

func TestSimFrames(t *testing.T) {
	s := NewSim(4)
	defer s.Close()
	s.Store64(PFN(2).Addr()+8, 0x1122334455667788)
	if got := s.Load64(PFN(2).Addr() + 8); got != 0x1122334455667788 {
		t.Fatalf("Load64 = %#x", got)
	}
	s.CopyFrame(3, 2)
	if got := s.Load64(PFN(3).Addr() + 8); got != 0x1122334455667788 {
		t.Fatalf("copied word = %#x", got)
	}
	s.ZeroFrame(2)
	if got := s.Load64(PFN(2).Addr() + 8); got != 0 {
		t.Fatalf("zeroed word = %#x", got)
	}
	if FrameOf(0x3fff) != 3 || PFN(3).Addr() != 0x3000 {
		t.Fatal("frame arithmetic")
	}
}
