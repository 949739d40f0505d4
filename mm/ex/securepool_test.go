package ex

// The secure-pool routines with NT's names: the lifecycle, and each misuse
// with its status or bugcheck.

import (
	"testing"
	"unsafe"

	"ntgo/mm/pool"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

var tagSecure = pool.MakeTag("SecT")

func createSecure(t *testing.T) uintptr {
	t.Helper()
	var h uintptr
	if st := CreatePool(PoolCreateFlgSecurePool|PoolCreateFlgUseGlobalPool, uintptr(tagSecure), nil, &h); st != ntstatus.Success {
		t.Fatalf("ExCreatePool: %v", st)
	}
	return h
}

func secureParam(h uintptr, buf unsafe.Pointer, cookie uintptr, flags uint32, optional bool) []PoolExtendedParameter {
	return []PoolExtendedParameter{{Type: PoolExtendedParameterSecurePool, Optional: optional,
		SecurePoolParams: &PoolExtendedParamsSecurePool{SecurePoolHandle: h, Buffer: buf, Cookie: cookie, SecurePoolFlags: flags}}}
}

// secureBytes is n bytes of the secure block at p, read through the
// simulated MMU that maps it in these tests.
func (e *env) secureBytes(p unsafe.Pointer, n int) []byte {
	b := make([]byte, n)
	e.secure.Read(uintptr(p), b)
	return b
}

func freeParam(h, cookie uintptr) []PoolExtendedParameter {
	return []PoolExtendedParameter{{Type: PoolExtendedParameterSecurePool,
		SecurePoolParams: &PoolExtendedParamsSecurePool{SecurePoolHandle: h, Cookie: cookie}}}
}

func TestSecurePoolLifecycle(t *testing.T) {
	e := setup(t)
	h := createSecure(t)
	init := [40]byte{}
	copy(init[:], "key material, not to be overwritten")
	p := AllocatePool3(PoolFlagNonPaged, 40, tagSecure, secureParam(h, unsafe.Pointer(&init), 0xC0, SecurePoolFlagsFreeable|SecurePoolFlagsModifiable, false))
	if p == nil {
		t.Fatal("secure allocation failed")
	}
	if got := e.secureBytes(p, 40); string(got) != string(init[:]) {
		t.Fatalf("contents %q", got)
	}
	if !SecurePoolValidate(h, tagSecure, p, 0xC0) {
		t.Fatal("validate with the right cookie failed")
	}
	if SecurePoolValidate(h, tagSecure, p, 0xC1) || SecurePoolValidate(h, tagEx, p, 0xC0) || SecurePoolValidate(h+1, tagSecure, p, 0xC0) {
		t.Fatal("validate with a wrong cookie, tag or handle succeeded")
	}
	patch := []byte("KEY")
	if st := SecurePoolUpdate(h, tagSecure, p, 0xC0, 0, 3, unsafe.Pointer(&patch[0])); st != ntstatus.Success {
		t.Fatalf("ExSecurePoolUpdate: %v", st)
	}
	if got := string(e.secureBytes(p, 12)); got != "KEY material" {
		t.Fatalf("after update %q", got)
	}
	for _, c := range []struct {
		name         string
		h, cookie    uintptr
		offset, size uintptr
		buf          unsafe.Pointer
		want         ntstatus.Status
	}{
		{"wrong handle", h + 1, 0xC0, 0, 1, unsafe.Pointer(&patch[0]), ntstatus.InvalidHandle},
		{"wrong cookie", h, 0xC1, 0, 1, unsafe.Pointer(&patch[0]), ntstatus.InvalidParameter},
		{"past the end", h, 0xC0, 39, 2, unsafe.Pointer(&patch[0]), ntstatus.InvalidParameter},
		{"NULL buffer", h, 0xC0, 0, 1, nil, ntstatus.InvalidParameter},
		// refused before the buffer is read: its bytes are not there
		{"larger than any block", h, 0xC0, 0, 1 << 40, unsafe.Pointer(&patch[0]), ntstatus.InvalidParameter},
	} {
		if st := SecurePoolUpdate(c.h, tagSecure, p, c.cookie, c.offset, c.size, c.buf); st != c.want {
			t.Errorf("update, %s: %v, want %v", c.name, st, c.want)
		}
	}
	FreePool2(p, tagSecure, freeParam(h, 0xC0))
	if SecurePoolValidate(h, tagSecure, p, 0xC0) {
		t.Fatal("a freed block validates")
	}
	DestroyPool(h)
	if n := SecurePools().PagesInUse(); n != 0 {
		t.Fatalf("%d secure pages held after ExDestroyPool", n)
	}
	if e.secure.InUse() != 0 {
		t.Fatal("secure pages still mapped")
	}
}

func TestSecurePoolMisuse(t *testing.T) {
	setup(t)
	var h uintptr
	for _, c := range []struct {
		flags  uint32
		params *PoolCreateExtendedParams
		want   ntstatus.Status
	}{
		{0, nil, ntstatus.InvalidParameter1},
		{PoolCreateFlgUseGlobalPool, nil, ntstatus.InvalidParameter1},
		{PoolCreateFlgSecurePool | 0x4, nil, ntstatus.InvalidParameter1},
		{PoolCreateFlgSecurePool, &PoolCreateExtendedParams{Version: 2}, ntstatus.InvalidParameter},
		{PoolCreateFlgSecurePool, &PoolCreateExtendedParams{Version: 1, Parameters: []PoolCreateExtendedParameter{{Type: PoolCreateExtendedParameterName, PoolName: "x"}}}, ntstatus.InvalidParameter3},
		{PoolCreateFlgSecurePool, &PoolCreateExtendedParams{Version: 1}, ntstatus.Success},
	} {
		if st := CreatePool(c.flags, uintptr(tagSecure), c.params, &h); st != c.want {
			t.Errorf("ExCreatePool(%#x, %+v): %v, want %v", c.flags, c.params, st, c.want)
		}
	}
	buf := [16]byte{1, 2, 3}
	b := unsafe.Pointer(&buf)
	for _, c := range []struct {
		name   string
		flags  PoolFlags
		params []PoolExtendedParameter
		want   ntstatus.Status
	}{
		{"NULL Buffer", PoolFlagNonPaged, secureParam(h, nil, 1, 0, false), ntstatus.InvalidParameter},
		{"invalid SecurePoolFlags", PoolFlagNonPaged, secureParam(h, b, 1, 4, false), ntstatus.InvalidParameter},
		{"paged", PoolFlagPaged, secureParam(h, b, 1, 0, false), ntstatus.InvalidParameter},
		{"wrong handle", PoolFlagNonPaged, secureParam(h^0x100, b, 1, 0, false), ntstatus.InvalidHandle},
	} {
		if p := AllocatePool3(c.flags, 16, tagSecure, c.params); p != nil {
			t.Errorf("%s: allocated", c.name)
		}
		if st := raised(func() { AllocatePool3(c.flags|PoolFlagRaiseOnFailure, 16, tagSecure, c.params) }); st != c.want {
			t.Errorf("%s: raised %v, want %v", c.name, st, c.want)
		}
		// Optional: an ordinary block instead.
		p := AllocatePool3(c.flags, 16, tagSecure, secureOptional(c.params))
		if p == nil || SecurePoolValidate(h, tagSecure, p, 1) {
			t.Errorf("%s, optional: %v, want an ordinary block", c.name, p)
		}
		FreePool(p)
	}

	// Larger than the region: refused before the buffer is read.
	if st := raised(func() {
		AllocatePool3(PoolFlagNonPaged|PoolFlagRaiseOnFailure, 1<<40, tagSecure, secureParam(h, b, 1, 0, false))
	}); st != ntstatus.InsufficientResources {
		t.Errorf("a secure block larger than the region: raised %v", st)
	}
	fixed := AllocatePool3(PoolFlagNonPaged, 16, tagSecure, secureParam(h, b, 7, SecurePoolFlagsNone, false))
	freeable := AllocatePool3(PoolFlagNonPaged, 16, tagSecure, secureParam(h, b, 8, SecurePoolFlagsFreeable, false))
	if st := SecurePoolUpdate(h, tagSecure, fixed, 7, 0, 1, b); st != ntstatus.AccessDenied {
		t.Errorf("update of a block without MODIFIABLE: %v", st)
	}
	for _, c := range []struct {
		name string
		free func()
		want [4]uintptr
	}{
		{"not freeable", func() { FreePool2(fixed, tagSecure, freeParam(h, 7)) }, [4]uintptr{CallerSecureNotFreeable, uintptr(fixed), h, 0}},
		{"wrong cookie", func() { FreePool2(freeable, tagSecure, freeParam(h, 9)) }, [4]uintptr{CallerSecureWrongCookie, uintptr(freeable), 9, h}},
		{"wrong tag", func() { FreePool2(freeable, tagEx, freeParam(h, 8)) }, [4]uintptr{pool.CallerTagMismatch, uintptr(freeable), 0, uintptr(tagEx)}},
		{"wrong handle", func() { FreePool2(freeable, tagSecure, freeParam(h+1, 8)) }, [4]uintptr{CallerSecureBadHandle, h + 1, uintptr(freeable), 0}},
		{"Buffer set", func() { FreePool2(freeable, tagSecure, secureParam(h, b, 8, 0, false)) }, [4]uintptr{CallerSecureBadParameters, uintptr(freeable), 1, 0}},
		{"plain ExFreePool", func() { FreePool(freeable) }, [4]uintptr{pool.CallerNeverInPool, uintptr(freeable), 0, 0}},
		{"not a block", func() { FreePool2(unsafe.Add(freeable, 16), tagSecure, freeParam(h, 8)) }, [4]uintptr{pool.CallerInvalidHeader, uintptr(freeable) + 16, 0, 0}},
	} {
		rec := bugcheck.Catch(c.free)
		if rec == nil || rec.Code != bugcheck.BadPoolCaller || rec.Params != c.want {
			t.Errorf("%s: %v, want BAD_POOL_CALLER %#x", c.name, rec, c.want)
		}
	}
	old := ke.RaiseIrql(ke.HighLevel)
	rec := bugcheck.Catch(func() { AllocatePool3(PoolFlagNonPaged, 16, tagSecure, secureParam(h, b, 8, 0, false)) })
	rec2 := bugcheck.Catch(func() { FreePool2(freeable, tagSecure, freeParam(h, 8)) })
	ke.LowerIrql(old)
	if rec == nil || rec.Params != [4]uintptr{pool.CallerAllocIRQL, uintptr(ke.HighLevel), uintptr(pool.NonPagedPoolNx), 16} {
		t.Errorf("secure allocation at HIGH_LEVEL: %v", rec)
	}
	if rec2 == nil || rec2.Params != [4]uintptr{pool.CallerFreeIRQL, uintptr(ke.HighLevel), uintptr(pool.NonPagedPoolNx), uintptr(freeable)} {
		t.Errorf("secure free at HIGH_LEVEL: %v", rec2)
	}
	// fixed keeps the page, so the second free finds a free header.
	FreePool2(freeable, tagSecure, freeParam(h, 8))
	if rec := bugcheck.Catch(func() { FreePool2(freeable, tagSecure, freeParam(h, 8)) }); rec == nil || rec.Params[0] != pool.CallerDoubleFree {
		t.Errorf("double free: %v", rec)
	}
	DestroyPool(h)
	rec = bugcheck.Catch(func() { DestroyPool(h) })
	if rec == nil || rec.Code != bugcheck.BadPoolCaller || rec.Params != [4]uintptr{CallerSecureBadHandle, h, 0, 0} {
		t.Errorf("second ExDestroyPool: %v", rec)
	}
}

func secureOptional(params []PoolExtendedParameter) []PoolExtendedParameter {
	out := append([]PoolExtendedParameter(nil), params...)
	out[0].Optional = true
	return out
}
