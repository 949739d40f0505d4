package ldr

import (
	"testing"

	"ntgo/mm/pool"
	"ntgo/nt/ntstatus"
)

func TestLoadUnload(t *testing.T) {
	tag := pool.MakeTag("LdTs")
	if st := Load(Module{Name: "ldrtest", Package: "ntgo/kernel/ldr", Tags: []pool.Tag{tag}}); st != ntstatus.Success {
		t.Fatal(st)
	}
	defer Unload("ldrtest")
	if st := Load(Module{Name: "ldrtest"}); st != ntstatus.ObjectNameCollision {
		t.Fatalf("second load: %v", st)
	}
	found := false
	for _, m := range Modules() {
		if m.Name == "ldrtest" {
			found = m.Tags[0] == tag
		}
	}
	if !found {
		t.Fatalf("module missing or incomplete in %v", Modules())
	}
	if !Unload("ldrtest") || Unload("ldrtest") {
		t.Fatal("unload did not remove exactly once")
	}
}
