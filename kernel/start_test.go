package kernel

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"ntgo/nt/arch"
)

// Start-up is explicit (docs/design.md, "Start-up"): the kernel's one
// start-up init in start.go brings the system up in its stated order, and
// every other init function in the tree only registers console commands,
// so no start-up step rests on the order package initializers run in.
// boot's init is the one other exception: it keeps the entry linked.
func TestInitOnlyRegistersCommands(t *testing.T) {
	if arch.Bare() {
		t.Skip("no source tree inside the kernel")
	}
	exempt := map[string]bool{"kernel/start.go": true, "boot/boot.go": true}
	const root = ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || d.Name() == "build") {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || exempt[rel] {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || fd.Name.Name != "init" {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncLit:
					return false // a command's Run: not called at init
				case *ast.CallExpr:
					if !isRegister(n.Fun) {
						t.Errorf("%s: init calls %s: start-up belongs in the kernel's start-up (kernel/start.go), init only registers commands",
							fset.Position(n.Pos()), exprString(n.Fun))
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// isRegister reports whether fun is console.Register (Register inside the
// console package).
func isRegister(fun ast.Expr) bool {
	switch fun := fun.(type) {
	case *ast.SelectorExpr:
		x, ok := fun.X.(*ast.Ident)
		return ok && x.Name == "console" && fun.Sel.Name == "Register"
	case *ast.Ident:
		return fun.Name == "Register"
	}
	return false
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.Ident:
		return e.Name
	}
	return "a function value"
}
