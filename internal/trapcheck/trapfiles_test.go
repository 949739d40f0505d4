package trapcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"ntgo/nt/arch"
)

// trapHeader is the rule every *_trap.go file states above its package
// clause.
const trapHeader = `// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.`

// root is the module's root, from this package's directory.
const root = "../.."

// sourceFiles parses every non-test Go file of the module.
func sourceFiles(t *testing.T) map[string]*ast.File {
	t.Helper()
	if arch.Bare() {
		t.Skip("no source tree inside the kernel")
	}
	files := map[string]*ast.File{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || d.Name() == "testdata" || d.Name() == "build") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Every *_trap.go file states the rule above its package clause, and every
// function in it with a body is //go:nosplit or says why not.
func TestTrapFilesKeepTheRule(t *testing.T) {
	trapFiles := 0
	for path, f := range sourceFiles(t) {
		if !strings.HasSuffix(path, "_trap.go") {
			continue
		}
		trapFiles++
		var above strings.Builder
		for _, c := range f.Comments {
			if c.Pos() < f.Package {
				for _, l := range c.List {
					above.WriteString(l.Text + "\n")
				}
			}
		}
		if !strings.Contains(above.String(), trapHeader) {
			t.Errorf("%s: the trap-context header is not above its package clause", path)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil { // assembly: its TEXT line decides
				continue
			}
			if _, exempt := Exempt(fd); !Nosplit(fd) && !exempt {
				t.Errorf("%s: %s is neither //go:nosplit nor says %q and why", path, Symbol(fd), strings.TrimSpace(exemptPrefix))
			}
		}
	}
	if trapFiles == 0 {
		t.Fatal("no *_trap.go files found")
	}
}

// The files outside *_trap.go that hold //go:nosplit functions are exactly
// the ones docs/design.md lists (between its nosplit-files markers).
func TestNosplitOutsideTrapFilesIsDocumented(t *testing.T) {
	var holders []string
	for path, f := range sourceFiles(t) {
		if strings.HasSuffix(path, "_trap.go") {
			continue
		}
		if slices.ContainsFunc(f.Decls, func(d ast.Decl) bool {
			fd, ok := d.(*ast.FuncDecl)
			return ok && Nosplit(fd)
		}) {
			holders = append(holders, path)
		}
	}
	slices.Sort(holders)
	design, err := os.ReadFile(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(design), "<!-- nosplit-files -->")
	section, _, ok2 := strings.Cut(section, "<!-- /nosplit-files -->")
	if !ok || !ok2 {
		t.Fatal("docs/design.md has no <!-- nosplit-files --> ... <!-- /nosplit-files --> section")
	}
	var listed []string
	for _, m := range regexp.MustCompile("`([a-z0-9_/]+\\.go)`").FindAllStringSubmatch(section, -1) {
		listed = append(listed, m[1])
	}
	slices.Sort(listed)
	for _, h := range holders {
		if !slices.Contains(listed, h) {
			t.Errorf("%s holds //go:nosplit functions but docs/design.md does not list it (move them to a *_trap.go file, or list it and say why)", h)
		}
	}
	for _, l := range listed {
		if !slices.Contains(holders, l) {
			t.Errorf("docs/design.md lists %s, which holds no //go:nosplit function", l)
		}
	}
}
