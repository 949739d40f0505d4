package layout_test

import (
	"strings"
	"testing"

	"ntgo/mm/layout"
	"ntgo/mm/pte"
)

func TestRegionsTileInOrder(t *testing.T) {
	for i, r := range layout.Regions {
		if r.ID != layout.ID(i) || r.Name == "" || r.Last < r.Start {
			t.Fatalf("region %d: %+v", i, r)
		}
		if !pte.IsCanonical(r.Start) || !pte.IsCanonical(r.Last) || r.Start>>63 == 0 {
			t.Fatalf("%s is not in the canonical upper half", r.Name)
		}
		if i > 0 && r.Start <= layout.Regions[i-1].Last {
			t.Fatalf("%s overlaps or precedes %s", r.Name, layout.Regions[i-1].Name)
		}
	}
}

func TestNTBounds(t *testing.T) {
	for _, c := range []struct {
		id          layout.ID
		start, size uintptr
	}{
		{layout.PteSpace, 0xFFFFF680_00000000, 512 << 30},
		{layout.HyperSpace, 0xFFFFF700_00000000, 512 << 30},
		{layout.SharedUserData, 0xFFFFF780_00000000, 4 << 10},
		{layout.SystemCacheWorkingSet, 0xFFFFF780_00001000, 512<<30 - 4<<10},
		{layout.InitialLoaderMappings, 0xFFFFF800_00000000, 512 << 30},
		{layout.SystemPtes, 0xFFFFF880_00000000, 128 << 30},
		{layout.PagedPool, 0xFFFFF8A0_00000000, 128 << 30},
		{layout.SessionSpace, 0xFFFFF900_00000000, 512 << 30},
		{layout.DynamicVA, 0xFFFFF980_00000000, 1 << 40},
		{layout.PfnDatabase, 0xFFFFFA80_00000000, 4 << 40},
		{layout.NonPagedPool, 0xFFFFFE80_00000000, 512 << 30},
		{layout.SecurePool, 0xFFFFFF00_00000000, 512 << 30},
		{layout.Hal, 0xFFFFFFFF_FFC00000, 4 << 20},
	} {
		r := layout.Regions[c.id]
		if r.Start != c.start || r.Size() != c.size {
			t.Errorf("%s: %#x size %#x, want %#x size %#x", r.Name, r.Start, r.Size(), c.start, c.size)
		}
	}
	if layout.Regions[layout.PteSpace].Start != pte.PteBase || layout.Regions[layout.PteSpace].Last != pte.PteSpaceEnd-1 {
		t.Fatal("PTE space is not the self-map's range")
	}
	if !layout.Regions[layout.PteSpace].Contains(pte.PxeAddress(0)) {
		t.Fatal("the PML4's self-map view lies outside PTE space")
	}
}

func TestFind(t *testing.T) {
	for va, want := range map[uintptr]string{
		0xFFFFF780_00000000: "Shared User Data",
		0xFFFFF780_00000FFF: "Shared User Data",
		0xFFFFF780_00001000: "System Cache Working Set",
		0xFFFFF6FB_7DBED000: "PTE Space",
		0xFFFFF880_00001000: "System PTEs",
		0xFFFFFA7F_FFFFFFFF: "Dynamic Kernel VA",
		0xFFFFFA80_00000000: "PFN Database",
		0xFFFFF8C0_00000000: "Special Pool",
		0xFFFFF8C0_0FFFFFFF: "Special Pool",
		0xFFFFFEFF_FFFFFFFF: "Non-Paged Pool",
		0xFFFFFF00_00000000: "Secure Pool",
		0xFFFFFF7F_FFFFFFFF: "Secure Pool",
		0xFFFFFFFF_FFFFFFFF: "HAL and Loader Mappings",
		0xFFFF8000_00000000: "Unused System Space",
	} {
		if r, ok := layout.Find(va); !ok || r.Name != want {
			t.Errorf("Find(%#x) = %q %v, want %q", va, r.Name, ok, want)
		}
	}
	for _, va := range []uintptr{0, 0x00007FFF_FFFFFFFF, 0xFFFFF8C0_10000000, 0xFFFFFF80_00000000, 0xFFFFFFFF_FFBFFFFF} {
		if r, ok := layout.Find(va); ok {
			t.Errorf("Find(%#x) = %s, want no region", va, r.Name)
		}
	}
}

func TestTable(t *testing.T) {
	s := layout.Table()
	for _, want := range []string{
		"FFFFF680`00000000  FFFFF6FF`FFFFFFFF     512 GiB  PTE Space",
		"FFFFF780`00000000  FFFFF780`00000FFF       4 KiB  Shared User Data",
		"FFFFF780`00001000  FFFFF7FF`FFFFFFFF    ~511 GiB  System Cache Working Set",
		"FFFFFFFF`FFC00000  FFFFFFFF`FFFFFFFF       4 MiB  HAL and Loader Mappings",
		"FFFFF980`00000000  FFFFFA7F`FFFFFFFF       1 TiB  Dynamic Kernel VA",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "\n"); n != len(layout.Regions)+1 {
		t.Errorf("%d lines", n)
	}
}
