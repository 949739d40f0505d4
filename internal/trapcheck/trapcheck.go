// Package trapcheck is test support for the trap-context rule (docs/design.md,
// "Locking and context"): code that runs in trap context or under an
// interrupt-disabling spin lock has no stack check and does not allocate.
// A package's tests use it on the host to check that rule for their own
// restricted regions, from two sides:
//
//   - the sources (Parse): a Region is the lines of one function that run
//     restricted (a lock's Acquire to its Release, or a whole entry
//     function); Held follows the calls out of the regions to every
//     function of the package they run, which must be //go:nosplit;
//   - the compiled code (Disassemble, Search): the package's test binary
//     or the kernel, built with inlining off in the package so that every
//     call in the source is a call in the code, is read with `go tool
//     objdump`, and every static call out of a region is followed into any
//     package: none may reach what the region's Rule forbids. A goroutine
//     holding an interrupt-disabling lock may reach no stack check
//     (NoStackCheck), which every Go-heap allocation also reaches; trap
//     context, on the trap g whose stack guard is zero, may reach no
//     allocation and no write barrier (NoAllocation).
//
// Calls through a value (an interface method, a func variable) are not
// followed: their targets are chosen at run time and keep the rule
// themselves, which the packages check where they are installed. A Search
// stops at the functions that end the system (the runtime's bounds and
// division panics, KeBugCheckEx): what they do after the stop is theirs.
package trapcheck

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

	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
)

// Package is what one package's non-test sources say about its functions.
type Package struct {
	fset *token.FileSet
	// Funcs holds every function and method by symbol within the package:
	// "Size", "Range.frames", "(*Database).findRun".
	Funcs   map[string]*ast.FuncDecl
	methods map[string][]string               // method name → symbols
	imports map[*ast.FuncDecl]map[string]bool // names of the packages its file imports
}

// Parse reads the non-test Go files of the package in dir. Inside the
// kernel, where there is no source tree, it skips the test.
func Parse(t testing.TB, dir string) *Package {
	t.Helper()
	if arch.Bare() {
		t.Skip("no source tree inside the kernel")
	}
	p := &Package{fset: token.NewFileSet(), Funcs: map[string]*ast.FuncDecl{},
		methods: map[string][]string{}, imports: map[*ast.FuncDecl]map[string]bool{}}
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(p.fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
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
				sym := Symbol(fd)
				p.Funcs[sym] = fd
				p.imports[fd] = pkgs
				if fd.Recv != nil {
					p.methods[fd.Name.Name] = append(p.methods[fd.Name.Name], sym)
				}
			}
		}
	}
	return p
}

// Region is the lines First to Last of File, in function Fn, that run
// restricted; or, if Whole, all of Fn's code, inlined calls included.
type Region struct {
	Fn, File    string
	First, Last int
	Whole       bool
}

// LockRegions returns a region for each function that takes the lock
// named lock (a variable or a field: `lock.Acquire()`, `x.lock.Acquire()`):
// from its first Acquire to its last Release, or to its end if the
// Release is deferred. Sorted by function. No region fails t: the lock's
// name no longer matches the code.
func (p *Package) LockRegions(t testing.TB, lock string) []Region {
	t.Helper()
	var regions []Region
	for sym, fd := range p.Funcs {
		if fd.Body == nil {
			continue
		}
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
			continue
		}
		if deferred || release < acquire {
			release = fd.Body.End()
		}
		first := p.fset.Position(acquire)
		regions = append(regions, Region{Fn: sym, File: first.Filename, First: first.Line, Last: p.fset.Position(release).Line})
	}
	if len(regions) == 0 {
		t.Fatalf("no function of the package calls %s.Acquire", lock)
	}
	slices.SortFunc(regions, func(a, b Region) int { return strings.Compare(a.Fn, b.Fn) })
	return regions
}

// WholeFunction is the region of all of fn: an entry that runs restricted
// from its first line (the trap entry). In the compiled code it is all of
// fn's calls, so inlining may stay on.
func (p *Package) WholeFunction(t testing.TB, fn string) Region {
	t.Helper()
	fd := p.Funcs[fn]
	if fd == nil || fd.Body == nil {
		t.Fatalf("no function %s with a body in the package", fn)
	}
	first := p.fset.Position(fd.Body.Pos())
	return Region{Fn: fn, File: first.Filename, First: first.Line, Last: p.fset.Position(fd.Body.End()).Line, Whole: true}
}

// isLockCall reports whether call is lock.method() or x.lock.method().
func isLockCall(call *ast.CallExpr, lock, method string) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != method {
		return false
	}
	switch x := sel.X.(type) {
	case *ast.Ident:
		return x.Name == lock
	case *ast.SelectorExpr:
		return x.Sel.Name == lock
	}
	return false
}

// Held maps each function of the package that the regions run, directly
// or through other functions of the package, to one that calls it there.
func (p *Package) Held(regions []Region) map[string]string {
	held := map[string]string{}
	var work []string
	holdCalls := func(fn string, first, last int) {
		fd := p.Funcs[fn]
		if fd.Body == nil {
			return
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if line := p.fset.Position(call.Pos()).Line; line < first || line > last {
				return true
			}
			for _, c := range p.callees(fd, call) {
				if _, seen := held[c]; !seen {
					held[c] = fn
					work = append(work, c)
				}
			}
			return true
		})
	}
	for _, r := range regions {
		holdCalls(r.Fn, r.First, r.Last)
	}
	for len(work) > 0 {
		fn := work[len(work)-1]
		work = work[:len(work)-1]
		holdCalls(fn, 0, math.MaxInt)
	}
	return held
}

// callees are the functions of the package that call, in fd, may run.
func (p *Package) callees(fd *ast.FuncDecl, call *ast.CallExpr) []string {
	switch fun := call.Fun.(type) {
	case *ast.Ident:
		if p.Funcs[fun.Name] != nil {
			return []string{fun.Name}
		}
	case *ast.SelectorExpr:
		if x, ok := fun.X.(*ast.Ident); ok && p.imports[fd][x.Name] {
			return nil // another package's
		}
		return p.methods[fun.Sel.Name]
	}
	return nil
}

// CheckNosplit fails t for each function in held (from Held) that is not
// //go:nosplit; what names the restricted context in the message. A
// declaration without a body is assembly: its TEXT line's flags decide
// (the assembler makes a small leaf NOSPLIT itself), and a stack check in
// it is the compiled-code search's to find.
func (p *Package) CheckNosplit(t testing.TB, held map[string]string, what string) {
	t.Helper()
	for _, fn := range slices.Sorted(maps.Keys(held)) {
		if fd := p.Funcs[fn]; fd.Body != nil && !Nosplit(fd) {
			t.Errorf("%s runs %s (called from %s) but is not //go:nosplit", fn, what, held[fn])
		}
	}
}

// Symbol is fd's name as the toolchain spells it, without the package.
func Symbol(fd *ast.FuncDecl) string {
	if fd.Recv == nil {
		return fd.Name.Name
	}
	recv := fd.Recv.List[0].Type
	if idx, ok := recv.(*ast.IndexExpr); ok { // a generic receiver
		recv = idx.X
	}
	switch recv := recv.(type) {
	case *ast.StarExpr:
		x := recv.X
		if idx, ok := x.(*ast.IndexExpr); ok {
			x = idx.X
		}
		return "(*" + x.(*ast.Ident).Name + ")." + fd.Name.Name
	default:
		return recv.(*ast.Ident).Name + "." + fd.Name.Name
	}
}

// Nosplit reports whether fd carries the //go:nosplit directive.
func Nosplit(fd *ast.FuncDecl) bool {
	return fd.Doc != nil && slices.ContainsFunc(fd.Doc.List, func(c *ast.Comment) bool { return c.Text == "//go:nosplit" })
}

// A Program is a binary's disassembly: each function's calls, by symbol.
type Program map[string]Calls

// Calls are one function's call instructions.
type Calls []Call

// Call is one call instruction: where it is and what it calls.
type Call struct {
	File   string
	Line   int
	Target string // a symbol, or DynamicCall
}

// DynamicCall is the target of a call through a register or memory.
const DynamicCall = "(dynamic)"

// CallsTo reports whether any of the calls is to target.
func (cs Calls) CallsTo(target string) bool {
	return slices.ContainsFunc(cs, func(c Call) bool { return c.Target == target })
}

// Disassemble builds the test binary of the package in dir with inlining
// off in that package and returns the calls of all its code. The build
// ignores GOFLAGS: instrumentation it may ask for (-race, -cover) adds
// calls the kernel's code does not have.
func Disassemble(t testing.TB, dir string) Program {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pkg.test")
	return disassemble(t, dir, bin, "test", "-c", "-o", bin, "-gcflags=-l", ".")
}

// DisassembleKernel builds the kernel (ntgo/cmd/ntgo) and returns the
// calls of all its code: for regions whose functions only the kernel calls
// (the trap entry, the system-call layer's), the code that runs. Inlining
// is off in the package noInline unless that is "" (for Whole regions).
func DisassembleKernel(t testing.TB, noInline string) Program {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kernel")
	build := []string{"build", "-o", bin}
	if noInline != "" {
		build = append(build, "-gcflags="+noInline+"=-l")
	}
	return disassemble(t, ".", bin, append(build, "ntgo/cmd/ntgo")...)
}

// disassemble runs `go <build...>` in dir, which writes bin, and reads bin's
// calls with `go tool objdump`.
func disassemble(t testing.TB, dir, bin string, build ...string) Program {
	cmd := exec.Command("go", build...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building without inlining: %v\n%s", err, out)
	}
	objdump := exec.Command("go", "tool", "objdump", bin)
	out, err := objdump.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := objdump.Start(); err != nil {
		t.Fatal(err)
	}
	prog := Program{}
	var fn string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		// A function starts with "TEXT pkg.fn(SB) path", and each of its
		// instructions is "  file.go:line\taddress\tbytes\tCALL pkg.target(SB)".
		l := lines.Text()
		if sym, ok := strings.CutPrefix(l, "TEXT "); ok {
			fn, _, _ = strings.Cut(sym, "(SB)")
			prog[fn] = Calls{}
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
			target = DynamicCall
		}
		file, line, _ := strings.Cut(strings.TrimSpace(fields[0]), ":")
		n, _ := strconv.Atoi(line)
		prog[fn] = append(prog[fn], Call{File: file, Line: n, Target: target})
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	if err := objdump.Wait(); err != nil {
		t.Fatalf("go tool objdump: %v", err)
	}
	return prog
}

// A Rule is what a restricted region's code must not reach.
type Rule struct {
	// Name is what the failure says the reached function has.
	Name string
	// breaks reports whether fn, with its calls, breaks the rule itself.
	breaks func(fn string, calls Calls) bool
}

// NoStackCheck is the rule for a goroutine holding an interrupt-disabling
// lock: no function prologue's stack check (runtime.morestack), which
// could grow the stack or yield with the lock held, and so no Go-heap
// allocation either (mallocgc has a stack check).
var NoStackCheck = Rule{"a stack check", func(_ string, calls Calls) bool {
	return slices.ContainsFunc(calls, func(c Call) bool { return strings.HasPrefix(c.Target, "runtime.morestack") })
}}

// NoAllocation is the rule for trap context, which runs on the trap g
// (whose stack guard is zero, so a stack check never calls morestack
// there): no Go-heap allocation (runtime.mallocgc) and no Go pointer
// store behind a write barrier (runtime.gcWriteBarrier).
var NoAllocation = Rule{"a Go-heap allocation or a write barrier", func(fn string, calls Calls) bool {
	return fn == "runtime.mallocgc" || slices.ContainsFunc(calls, func(c Call) bool { return strings.HasPrefix(c.Target, "runtime.gcWriteBarrier") })
}}

// beyondRule reports whether a call to fn is one the rule's context never
// makes: on the trap g a stack check never calls morestack.
func (r Rule) beyondRule(fn string) bool {
	return r.Name == NoAllocation.Name && strings.HasPrefix(fn, "runtime.morestack")
}

// Search finds the functions breaking a Rule reachable from a function in
// a Program.
type Search struct {
	prog  Program
	rule  Rule
	stops []string
	// paths memoizes From: nil for a function that reaches none.
	paths map[string][]string
}

// runtimeStops begin the names of the runtime's functions that end the
// program: the panics for a failed bounds, division or shift check, and
// throw. They do not return: the kernel stops.
var runtimeStops = []string{"runtime.panic", "runtime.throw", "runtime.fatal"}

// NewSearch searches prog for what breaks rule. A call to a function that
// ends the system (KeBugCheckEx, the runtime's) ends a chain.
func NewSearch(prog Program, rule Rule) *Search {
	return &Search{prog: prog, rule: rule, stops: []string{FuncName(bugcheck.KeBugCheckEx)}, paths: map[string][]string{}}
}

// From returns the chain of calls from fn to a function breaking the
// rule, or nil if fn reaches none.
func (s *Search) From(fn string) []string {
	if path, ok := s.paths[fn]; ok {
		return path
	}
	if slices.Contains(s.stops, fn) || s.rule.beyondRule(fn) || slices.ContainsFunc(runtimeStops, func(p string) bool { return strings.HasPrefix(fn, p) }) {
		return nil
	}
	s.paths[fn] = nil // a cycle reaches nothing new
	calls, ok := s.prog[fn]
	var path []string
	switch {
	case !ok:
		path = []string{fn + " (not in the binary)"}
	case s.rule.breaks(fn, calls):
		path = []string{fn}
	default:
		for _, c := range calls {
			if c.Target == DynamicCall {
				continue
			}
			if rest := s.From(c.Target); rest != nil {
				path = append([]string{fn}, rest...)
				break
			}
		}
	}
	s.paths[fn] = path
	return path
}

// CheckRegions fails t for each static call on a region's lines, in the
// compiled code of its function (pkgPath.Fn), that reaches a function
// breaking the search's rule; what names the restricted context in the
// message. A region whose
// function is not in the binary fails too: no test calls it, so the
// binary cannot show what it does.
func (s *Search) CheckRegions(t testing.TB, pkgPath string, regions []Region, what string) {
	t.Helper()
	for _, r := range regions {
		calls, ok := s.prog[pkgPath+"."+r.Fn]
		if !ok {
			t.Errorf("%s runs %s but is not in the test binary: no test calls it", r.Fn, what)
			continue
		}
		for _, c := range calls {
			outside := filepath.Base(c.File) != filepath.Base(r.File) || c.Line < r.First || c.Line > r.Last
			if outside && !r.Whole || c.Target == DynamicCall {
				continue
			}
			if path := s.From(c.Target); path != nil {
				t.Errorf("%s:%d, %s in %s, calls %s, which has %s",
					c.File, c.Line, what, r.Fn, strings.Join(path, " → "), s.rule.Name)
			}
		}
	}
}

// FuncName is the symbol of function f.
func FuncName(f any) string {
	return runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
}

// CheckLockRegionsInCode fails t unless the package's functions that call
// acquire (the lock's Acquire symbol) in the compiled code of pkgPath are
// exactly the regions' functions: else the regions the sources show are
// not the ones that run. (Functions the compiler made up, closures and
// wrappers, are not the sources' and are not asked about.)
func (p *Package) CheckLockRegionsInCode(t testing.TB, prog Program, pkgPath string, regions []Region, acquire string) {
	t.Helper()
	inRegions := map[string]bool{}
	for _, r := range regions {
		inRegions[r.Fn] = true
		if calls, ok := prog[pkgPath+"."+r.Fn]; ok && !calls.CallsTo(acquire) {
			t.Errorf("%s takes the lock in the sources but calls no %s in the compiled code", r.Fn, acquire)
		}
	}
	for _, sym := range slices.Sorted(maps.Keys(prog)) {
		name, ok := strings.CutPrefix(sym, pkgPath+".")
		if ok && p.Funcs[name] != nil && prog[sym].CallsTo(acquire) && !inRegions[name] {
			t.Errorf("%s takes the lock in the compiled code, but the sources show no region", name)
		}
	}
}

// exemptPrefix begins the doc-comment line of a function in a *_trap.go
// file that is not //go:nosplit, saying why.
const exemptPrefix = "// Not nosplit: "

// Exempt returns the reason fd's doc comment gives for not being
// //go:nosplit, if it gives one.
func Exempt(fd *ast.FuncDecl) (reason string, ok bool) {
	if fd.Doc == nil {
		return "", false
	}
	for _, c := range fd.Doc.List {
		if r, ok := strings.CutPrefix(c.Text, exemptPrefix); ok && strings.TrimSpace(r) != "" {
			return r, true
		}
	}
	return "", false
}
