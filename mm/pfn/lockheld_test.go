// What runs under the PFN lock has no stack check and does not allocate
// (the package comment's "Locking and context"). Two tests keep that true,
// both on the host, both reading which code runs under the lock from the
// sources: a lock region runs from a function's first lock.Acquire to its
// last lock.Release (to its end if the Release is deferred).
//
// TestLockHeldFunctionsAreNosplit asks every function of the package that
// a region calls, and everything those call in turn, to be //go:nosplit.
//
// TestNothingUnderTheLockHasAStackCheck reads the compiled code of the
// regions and follows every call out of them, into any package: none may
// reach a function with a stack check, which every Go-heap allocation
// also reaches. The package is compiled without inlining for it, so that
// every call in the source is a call in the code. Calls through a value
// (Memory's methods, the TransitionHook, the kernel's context test inside
// ke.SpinLock) are not followed: their targets are chosen at run time and
// keep the rule themselves (the kernel's Memory is nosplit hyperspace code,
// called without a wrapper: mm's TestTrapInterfacesCallNoWrappers).

package pfn

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"ntgo/kernel/arch"
	"ntgo/kernel/bugcheck"
	"ntgo/kernel/ke"
)

func TestLockHeldFunctionsAreNosplit(t *testing.T) {
	src := parseLocking(t)
	for _, fn := range slices.Sorted(maps.Keys(src.held)) {
		if !nosplit(src.funcs[fn]) {
			t.Errorf("%s runs under the PFN lock (called from %s) but is not //go:nosplit", fn, src.held[fn])
		}
	}
}

func TestNothingUnderTheLockHasAStackCheck(t *testing.T) {
	src := parseLocking(t)
	prog := disassembleWithoutInlining(t)
	acquire := funcName((*ke.SpinLock).Acquire)
	// Whatever acquires the lock in the code must be a region in the
	// sources, and the other way round, or the regions checked are not
	// the ones that run.
	for _, sym := range slices.Sorted(maps.Keys(prog)) {
		if name, ok := strings.CutPrefix(sym, pkgPrefix); ok && prog[sym].callsTo(acquire) && src.region(name) == nil && src.funcs[name] != nil {
			t.Errorf("%s takes the lock in the compiled code, but the sources show no region", name)
		}
	}
	reach := stackCheckSearch{prog: prog, paths: map[string][]string{}}
	for _, r := range src.regions {
		calls, ok := prog[pkgPrefix+r.fn]
		if !ok {
			t.Errorf("%s takes the lock but is not in the test binary: no test calls it", r.fn)
			continue
		}
		if !calls.callsTo(acquire) {
			t.Errorf("%s takes the lock in the sources but calls no %s in the compiled code", r.fn, acquire)
		}
		for _, c := range calls {
			if c.file != r.file || c.line < r.first || c.line > r.last || c.target == dynamicCall {
				continue
			}
			if path := reach.from(c.target); path != nil {
				t.Errorf("%s:%d, under the PFN lock in %s, calls %s, which has a stack check",
					c.file, c.line, r.fn, strings.Join(path, " → "))
			}
		}
	}
}

// pkgPrefix begins the symbol of every function of this package.
var pkgPrefix = reflect.TypeFor[Database]().PkgPath() + "."

// funcName is the symbol of function f.
func funcName(f any) string {
	return runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
}

// lockSource is what the package's sources say about the lock.
type lockSource struct {
	// funcs holds every function and method of the package by symbol
	// within it: "Size", "Range.frames", "(*Database).findRun".
	funcs map[string]*ast.FuncDecl
	// regions are the lock regions, one per function that takes the lock.
	regions []lockRegion
	// held maps each function called under the lock, directly or not, to
	// a function that calls it there.
	held map[string]string
}

// lockRegion is the lines first to last of file, in function fn, that run
// with the lock held.
type lockRegion struct {
	fn, file    string
	first, last int
}

func (s *lockSource) region(fn string) *lockRegion {
	for i := range s.regions {
		if s.regions[i].fn == fn {
			return &s.regions[i]
		}
	}
	return nil
}

// parseLocking reads the package's non-test sources for the lock regions
// and the functions they run.
func parseLocking(t *testing.T) *lockSource {
	if arch.Bare() {
		t.Skip("no source tree inside the kernel")
	}
	lock := lockField(t)
	fset := token.NewFileSet()
	s := &lockSource{funcs: map[string]*ast.FuncDecl{}, held: map[string]string{}}
	methods := map[string][]string{} // method name → symbols
	imports := map[*ast.FuncDecl]map[string]bool{}
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		pkgs := map[string]bool{}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if imp.Name != nil {
				pkgs[imp.Name.Name] = true
			} else {
				pkgs[path[strings.LastIndex(path, "/")+1:]] = true
			}
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				sym := symbol(fd)
				s.funcs[sym] = fd
				imports[fd] = pkgs
				if fd.Recv != nil {
					methods[fd.Name.Name] = append(methods[fd.Name.Name], sym)
				}
			}
		}
	}
	// callees are the functions of the package that call may run.
	callees := func(fd *ast.FuncDecl, call *ast.CallExpr) []string {
		switch fun := call.Fun.(type) {
		case *ast.Ident:
			if s.funcs[fun.Name] != nil {
				return []string{fun.Name}
			}
		case *ast.SelectorExpr:
			if x, ok := fun.X.(*ast.Ident); ok && imports[fd][x.Name] {
				return nil // another package's
			}
			return methods[fun.Sel.Name]
		}
		return nil
	}
	// holdCalls records the functions that fn's calls on lines first to
	// last run as held, and queues them to be read in turn.
	var work []string
	holdCalls := func(fn string, first, last int) {
		fd := s.funcs[fn]
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if line := fset.Position(call.Pos()).Line; line < first || line > last {
				return true
			}
			for _, c := range callees(fd, call) {
				if _, seen := s.held[c]; !seen {
					s.held[c] = fn
					work = append(work, c)
				}
			}
			return true
		})
	}
	for sym, fd := range s.funcs {
		if r, ok := lockRegionOf(fset, fd, lock); ok {
			r.fn = sym
			s.regions = append(s.regions, r)
			holdCalls(sym, r.first, r.last)
		}
	}
	for len(work) > 0 {
		fn := work[len(work)-1]
		work = work[:len(work)-1]
		holdCalls(fn, 0, math.MaxInt)
	}
	if len(s.regions) == 0 {
		t.Fatalf("no function of the package calls %s.Acquire", lock)
	}
	slices.SortFunc(s.regions, func(a, b lockRegion) int { return strings.Compare(a.fn, b.fn) })
	return s
}

// lockField is the name of Database's lock field.
func lockField(t *testing.T) string {
	db := reflect.TypeFor[Database]()
	for i := range db.NumField() {
		if f := db.Field(i); f.Type == reflect.TypeFor[ke.SpinLock]() {
			return f.Name
		}
	}
	t.Fatal("Database has no ke.SpinLock")
	return ""
}

// lockRegionOf returns fd's lock region, if it takes the lock.
func lockRegionOf(fset *token.FileSet, fd *ast.FuncDecl, lock string) (lockRegion, bool) {
	var acquire, release token.Pos
	deferred := false
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.DeferStmt:
			deferred = deferred || isLockCall(n.Call, lock, "Release")
		case *ast.CallExpr:
			switch {
			case isLockCall(n, lock, "Acquire") && !acquire.IsValid():
				acquire = n.Pos()
			case isLockCall(n, lock, "Release"):
				release = n.Pos()
			}
		}
		return true
	})
	if !acquire.IsValid() {
		return lockRegion{}, false
	}
	if deferred || release < acquire {
		release = fd.Body.End()
	}
	first := fset.Position(acquire)
	return lockRegion{file: first.Filename, first: first.Line, last: fset.Position(release).Line}, true
}

// isLockCall reports whether call is x.lock.method().
func isLockCall(call *ast.CallExpr, lock, method string) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != method {
		return false
	}
	field, ok := sel.X.(*ast.SelectorExpr)
	return ok && field.Sel.Name == lock
}

// symbol is fd's name as the toolchain spells it, without the package.
func symbol(fd *ast.FuncDecl) string {
	if fd.Recv == nil {
		return fd.Name.Name
	}
	switch recv := fd.Recv.List[0].Type.(type) {
	case *ast.StarExpr:
		return "(*" + recv.X.(*ast.Ident).Name + ")." + fd.Name.Name
	default:
		return recv.(*ast.Ident).Name + "." + fd.Name.Name
	}
}

// nosplit reports whether fd carries the //go:nosplit directive.
func nosplit(fd *ast.FuncDecl) bool {
	return fd.Doc != nil && slices.ContainsFunc(fd.Doc.List, func(c *ast.Comment) bool { return c.Text == "//go:nosplit" })
}

// A program is a binary's disassembly: each function's calls, by symbol.
type program map[string]calls

type calls []call

// call is one call instruction: where it is and what it calls.
type call struct {
	file   string
	line   int
	target string // a symbol, or dynamicCall
}

// dynamicCall is the target of a call through a register or memory.
const dynamicCall = "(dynamic)"

func (cs calls) callsTo(target string) bool {
	return slices.ContainsFunc(cs, func(c call) bool { return c.target == target })
}

// disassembleWithoutInlining builds this package's test binary with
// inlining off in the package and returns the calls of all its code. The
// build ignores GOFLAGS: instrumentation it may ask for (-race, -cover)
// adds calls the kernel's code does not have.
func disassembleWithoutInlining(t *testing.T) program {
	bin := filepath.Join(t.TempDir(), "pfn.test")
	build := exec.Command("go", "test", "-c", "-o", bin, "-gcflags=-l", ".")
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building without inlining: %v\n%s", err, out)
	}
	cmd := exec.Command("go", "tool", "objdump", bin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	prog := program{}
	var fn string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		// A function starts with "TEXT pkg.fn(SB) path", and each of its
		// instructions is "  file.go:line\taddress\tbytes\tCALL pkg.target(SB)".
		l := lines.Text()
		if sym, ok := strings.CutPrefix(l, "TEXT "); ok {
			fn, _, _ = strings.Cut(sym, "(SB)")
			prog[fn] = calls{}
			continue
		}
		fields := strings.FieldsFunc(l, func(r rune) bool { return r == '\t' })
		if len(fields) < 4 {
			continue
		}
		inst := fields[3]
		target, isCall := strings.CutPrefix(inst, "CALL ")
		if !isCall {
			// A jump to another function is a tail call.
			if target, isCall = strings.CutPrefix(inst, "JMP "); !isCall || !strings.HasSuffix(target, "(SB)") {
				continue
			}
		}
		if sym, ok := strings.CutSuffix(strings.TrimSpace(target), "(SB)"); ok {
			target = sym
		} else {
			target = dynamicCall
		}
		file, line, _ := strings.Cut(strings.TrimSpace(fields[0]), ":")
		n, _ := strconv.Atoi(line)
		prog[fn] = append(prog[fn], call{file: file, line: n, target: target})
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go tool objdump: %v", err)
	}
	return prog
}

// stackCheckSearch finds stack checks reachable from a function.
type stackCheckSearch struct {
	prog program
	// paths memoizes from: nil for a function that reaches none.
	paths map[string][]string
}

// morestack begins the name of the runtime's stack-growth entry points,
// which a function's stack check calls.
const morestack = "runtime.morestack"

// stopPanics begins the name of the runtime's panics for a failed bounds,
// division or shift check. They do not return: the kernel stops.
const stopPanics = "runtime.panic"

// from returns the chain of calls from fn to a function with a stack
// check, or nil if fn reaches none. The stops (the runtime's panics,
// KeBugCheckEx, which fail calls after releasing the lock) end a chain.
func (s *stackCheckSearch) from(fn string) []string {
	if path, ok := s.paths[fn]; ok {
		return path
	}
	if strings.HasPrefix(fn, stopPanics) || fn == funcName(bugcheck.KeBugCheckEx) {
		return nil
	}
	s.paths[fn] = nil // a cycle reaches nothing new
	calls, ok := s.prog[fn]
	var path []string
	switch {
	case !ok:
		path = []string{fn + " (not in the binary)"}
	case slices.ContainsFunc(calls, func(c call) bool { return strings.HasPrefix(c.target, morestack) }):
		path = []string{fn}
	default:
		for _, c := range calls {
			if c.target == dynamicCall {
				continue
			}
			if rest := s.from(c.target); rest != nil {
				path = append([]string{fn}, rest...)
				break
			}
		}
	}
	s.paths[fn] = path
	return path
}
