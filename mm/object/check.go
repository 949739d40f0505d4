// The GC-rule check (see the package comment).
//
// infoOf walks T's layout with reflection once per type and caches the
// verdict, with whether *T has a constructor and a destructor, in a
// sync.Map keyed by reflect.Type. A refused type is cached too and panics
// on every use, so the failure does not depend on which call came first.
//
// Every New and Delete asks, so in front of the map sits a small table of
// accepted types, keyed by the address of T's runtime type descriptor (the
// type word of the interface any((*T)(nil))): an inlined load and compare
// instead of the map's hashing and calls. Each slot is written once, by the
// first accepted type that hashes there; the others keep using the map.

package object

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"
)

// typeInfo is what New needs to know about a T.
type typeInfo struct {
	err           *TypeError // non-nil: T may not live in pool memory
	init, destroy bool       // *T implements Initializer, Destroyer
}

var (
	types           sync.Map // reflect.Type -> *typeInfo
	initializerType = reflect.TypeFor[Initializer]()
	destroyerType   = reflect.TypeFor[Destroyer]()
)

// TypeError is the panic value for a type that may not live in pool memory.
type TypeError struct {
	Type reflect.Type // the type asked for
	Path string       // from the type to the offending field, e.g. "Request.Links[].Name"
	Kind reflect.Kind // the offending field's kind
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("object: %v cannot live in pool memory: %s is a %v, a Go pointer the collector would not see there "+
		"(hold pool addresses as uintptr or object.Ptr[U])", e.Type, e.Path, e.Kind)
}

// acceptedType is a slot of the table in front of the map: the key's
// typeInfo, whose err is nil.
type acceptedType struct {
	key  uintptr
	info *typeInfo
}

// Table geometry: type descriptors are at least 8-byte aligned.
const (
	acceptedSlots       = 64
	typeDescriptorAlign = 8
)

// accepted holds *acceptedType, read with atomic.LoadPointer (cheaper to
// inline than atomic.Pointer's generic Load).
var accepted [acceptedSlots]unsafe.Pointer

// typeKey is the address of the type descriptor of the *T in e: an
// interface's first word (the runtime's eface layout, type then data).
func typeKey(e *any) uintptr { return *(*uintptr)(unsafe.Pointer(e)) }

// slot is key's slot in accepted.
func slot(key uintptr) *unsafe.Pointer { return &accepted[key/typeDescriptorAlign%acceptedSlots] }

// infoOf is T's cached typeInfo; it panics if T breaks the GC rule.
func infoOf[T any]() *typeInfo {
	if info := acceptedInfo[T](); info != nil {
		return info
	}
	return lookupInfo(any((*T)(nil)))
}

// acceptedInfo is infoOf's table lookup alone, nil if T is not in the
// table (then ask lookupInfo): New and Delete write infoOf out with it, as
// infoOf with its call does not inline.
func acceptedInfo[T any]() *typeInfo {
	e := any((*T)(nil))
	k := typeKey(&e)
	if a := (*acceptedType)(atomic.LoadPointer(slot(k))); a != nil && a.key == k {
		return a.info
	}
	return nil
}

// lookupInfo is infoOf past the table for the nil *T in e: the map, filled
// on a type's first use, and the table's slot if the type is accepted and
// the slot free.
func lookupInfo(e any) *typeInfo {
	t := reflect.TypeOf(e).Elem()
	v, ok := types.Load(t)
	if !ok {
		pt := reflect.PointerTo(t)
		v, _ = types.LoadOrStore(t, &typeInfo{
			err:     findGoPointer(t, t, t.String()),
			init:    pt.Implements(initializerType),
			destroy: pt.Implements(destroyerType),
		})
	}
	info := v.(*typeInfo)
	if info.err != nil {
		panic(info.err)
	}
	k := typeKey(&e)
	atomic.CompareAndSwapPointer(slot(k), nil, unsafe.Pointer(&acceptedType{key: k, info: info}))
	return info
}

// findGoPointer is the first field of t (reached from root by path) that
// holds a Go pointer, or nil.
func findGoPointer(root, t reflect.Type, path string) *TypeError {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return nil
	case reflect.Array:
		return findGoPointer(root, t.Elem(), path+"[]")
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if err := findGoPointer(root, f.Type, path+"."+f.Name); err != nil {
				return err
			}
		}
		return nil
	}
	// Pointer, UnsafePointer, Slice, Map, String, Interface, Chan, Func.
	return &TypeError{Type: root, Path: path, Kind: t.Kind()}
}
