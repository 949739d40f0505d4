// The GC-rule check (see the package comment).
//
// infoOf walks T's layout with reflection once per type and caches the
// verdict, with whether *T has a constructor and a destructor, in a
// sync.Map keyed by reflect.Type; later calls are one map load. A refused
// type is cached too and panics on every use, so the failure does not
// depend on which call came first.

package object

import (
	"fmt"
	"reflect"
	"sync"
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

// infoOf is T's cached typeInfo; it panics if T breaks the GC rule.
func infoOf[T any]() *typeInfo {
	t := reflect.TypeFor[T]()
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
