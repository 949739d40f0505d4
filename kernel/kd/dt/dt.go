// Package dt is the debugger's dt (display type) for the kernel's NT
// structures, by WinDbg's names: dt nt!_MMPFN <addr>, dt _POOL_HEADER,
// dt _MDL, the lookaside lists, _LIST_ENTRY, _SLIST_HEADER and the rest of
// Types.
//
// Each name maps to the Go type that backs the structure, and the layout
// printed is that type's, by reflection: offsets, field names and types
// are the compiler's, so dt cannot drift from the code (the host tests pin
// the sizes NT documents where the project keeps them). With an address,
// dt reads the structure's bytes through the target's Memory, the same
// for the live kernel and a crash dump, and decodes each field from them;
// it never dereferences a Go value, so a wild address shows as unreadable
// and private fields show as well as exported ones. Named integer types
// with a String method (a PFN entry's state) show their name too.
//
// Types of packages above the kd layer (the kernel's _KPCR) are added with
// Register by the package that owns them; the dump viewer, which does not
// link the kernel, lacks those.
package dt

import (
	"encoding/binary"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/pfn"
	"ntgo/mm/pool"
	"ntgo/nt/ke"
	"ntgo/nt/list"
)

// generalLookaside is GENERAL_LOOKASIDE, the body every lookaside list
// type wraps (unexported in ex: drivers use the wrappers).
var generalLookaside = reflect.TypeFor[ex.LookasideListEx]().Field(0).Type

// types maps WinDbg's structure names to their Go types.
var types = map[string]reflect.Type{
	"_MMPFN":                 reflect.TypeFor[pfn.Entry](),
	"_POOL_HEADER":           reflect.TypeFor[pool.PoolHeader](),
	"_MDL":                   reflect.TypeFor[mm.Mdl](),
	"_GENERAL_LOOKASIDE":     generalLookaside,
	"_LOOKASIDE_LIST_EX":     reflect.TypeFor[ex.LookasideListEx](),
	"_NPAGED_LOOKASIDE_LIST": reflect.TypeFor[ex.NPagedLookasideList](),
	"_PAGED_LOOKASIDE_LIST":  reflect.TypeFor[ex.PagedLookasideList](),
	"_LIST_ENTRY":            reflect.TypeFor[list.ListEntry](),
	"_SINGLE_LIST_ENTRY":     reflect.TypeFor[list.SingleListEntry](),
	"_SLIST_HEADER":          reflect.TypeFor[list.SListHeader](),
	"_SLIST_ENTRY":           reflect.TypeFor[list.SListEntry](),
	"_KSPIN_LOCK":            reflect.TypeFor[ke.KSpinLock](),
}

// Register adds the structure name (WinDbg's, e.g. _KPCR) backed by Go
// type t; for packages the kd layer cannot import.
func Register(name string, t reflect.Type) {
	if _, dup := types[name]; dup {
		panic("dt: type registered twice: " + name)
	}
	types[name] = t
}

// Types is the names dt knows, sorted.
func Types() []string {
	names := make([]string, 0, len(types))
	for n := range types {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// lookup finds a structure by name: WinDbg's module prefix (nt!) is
// optional and case does not matter.
func lookup(name string) (string, reflect.Type, bool) {
	if i := strings.IndexByte(name, '!'); i >= 0 {
		name = name[i+1:]
	}
	for n, t := range types {
		if strings.EqualFold(n, name) {
			return n, t, true
		}
	}
	return "", nil, false
}

// Commands returns dt over t.
func Commands(t *kd.Target) []console.Command {
	return []console.Command{{Name: "dt", Args: "[nt!]<type> [addr]",
		Help: "display an NT structure's layout, or its fields at addr (dt alone lists the types)",
		Run:  func(w io.Writer, args []string) error { return display(w, t, args) }}}
}

func display(w io.Writer, t *kd.Target, args []string) error {
	switch len(args) {
	case 0:
		for _, n := range Types() {
			fmt.Fprintf(w, "nt!%-24s %s (%#x bytes)\n", n, types[n], types[n].Size())
		}
		return nil
	case 1, 2:
	default:
		return console.ErrUsage
	}
	name, typ, ok := lookup(args[0])
	if !ok {
		return fmt.Errorf("no type %s (dt alone lists them)", args[0])
	}
	if len(args) == 1 {
		fmt.Fprintf(w, "nt!%s (%s, %#x bytes)\n", name, typ, typ.Size())
		writeFields(w, typ, nil, 1)
		return nil
	}
	addr, err := kd.AddressArgument(args[1:], t.Names())
	if err != nil {
		return err
	}
	b := make([]byte, typ.Size())
	if !t.Memory.Read(addr, b) {
		return fmt.Errorf("%s bytes at %s are not all readable", name, kd.FormatAddress(uint64(addr)))
	}
	fmt.Fprintf(w, "nt!%s at %s\n", name, kd.FormatAddress(uint64(addr)))
	writeFields(w, typ, b, 1)
	return nil
}

// indent is the margin of one nesting level.
const indent = "   "

// writeFields prints the fields of struct typ, with their values decoded
// from b when b is not nil (the structure's bytes).
func writeFields(w io.Writer, typ reflect.Type, b []byte, depth int) {
	width := 0
	for f := range typ.Fields() {
		width = max(width, len(f.Name))
	}
	for f := range typ.Fields() {
		fmt.Fprintf(w, "%s+0x%03x %-*s : ", strings.Repeat(indent, depth), f.Offset, width, f.Name)
		if f.Type.Kind() == reflect.Struct {
			fmt.Fprintln(w, f.Type)
			var sub []byte
			if b != nil {
				sub = b[f.Offset : f.Offset+f.Type.Size()]
			}
			writeFields(w, f.Type, sub, depth+1)
			continue
		}
		if b == nil {
			fmt.Fprintln(w, typeName(f.Type))
			continue
		}
		fmt.Fprintln(w, value(f.Type, b[f.Offset:f.Offset+f.Type.Size()]))
	}
}

// typeName is WinDbg's name for a field's type, with the Go type after
// it when the Go type has a name of its own.
func typeName(t reflect.Type) string {
	base := ""
	switch t.Kind() {
	case reflect.Bool:
		base = "UChar (bool)"
	case reflect.Uint8:
		base = "UChar"
	case reflect.Uint16:
		base = "Uint2B"
	case reflect.Uint32:
		base = "Uint4B"
	case reflect.Uint64, reflect.Uintptr:
		base = "Uint8B"
	case reflect.Int8:
		base = "Char"
	case reflect.Int16:
		base = "Int2B"
	case reflect.Int32:
		base = "Int4B"
	case reflect.Int64, reflect.Int:
		base = "Int8B"
	case reflect.Pointer, reflect.UnsafePointer, reflect.Func, reflect.Map, reflect.Chan:
		base = "Ptr64"
	case reflect.Array:
		return fmt.Sprintf("[%d] %s", t.Len(), typeName(t.Elem()))
	default:
		return fmt.Sprintf("%s (%#x bytes)", t, t.Size())
	}
	if t.Name() != "" && t.PkgPath() != "" {
		base += " (" + t.String() + ")"
	}
	return base
}

// value decodes one field of type t from its bytes b.
func value(t reflect.Type, b []byte) string {
	switch t.Kind() {
	case reflect.Bool, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		v := littleEndian(b)
		return fmt.Sprintf("%#x", v) + stringer(t, v)
	case reflect.Pointer, reflect.UnsafePointer, reflect.Func, reflect.Map, reflect.Chan:
		return kd.FormatAddress(littleEndian(b))
	case reflect.Array:
		n, size := t.Len(), t.Elem().Size()
		elems := make([]string, n)
		for i := range n {
			elems[i] = value(t.Elem(), b[uintptr(i)*size:uintptr(i+1)*size])
		}
		return fmt.Sprintf("[%d] { %s }", n, strings.Join(elems, ", "))
	}
	words := make([]string, 0, len(b)/8)
	for off := 0; off+8 <= len(b); off += 8 {
		words = append(words, kd.FormatAddress(binary.LittleEndian.Uint64(b[off:])))
	}
	return fmt.Sprintf("%s: %s", t, strings.Join(words, " "))
}

// littleEndian is b as an unsigned little-endian integer.
func littleEndian(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// stringer is " (name)" for a value of a named integer type with a String
// method, as WinDbg names enumeration values.
func stringer(t reflect.Type, raw uint64) (s string) {
	if !t.Implements(reflect.TypeFor[fmt.Stringer]()) {
		return ""
	}
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.Bool:
		v.SetBool(raw != 0)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(signExtend(raw, t.Size()))
	default:
		v.SetUint(raw)
	}
	defer func() {
		if recover() != nil {
			s = ""
		}
	}()
	return " (" + v.Interface().(fmt.Stringer).String() + ")"
}

func signExtend(v uint64, size uintptr) int64 {
	shift := 64 - 8*size
	return int64(v<<shift) >> shift
}
