package bugcheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"ntgo/nt/arch"
)

func TestExitStatusNeverMeansSomethingElse(t *testing.T) {
	const codesChecked = 0x400
	for c := Code(0); c < codesChecked; c++ {
		s := c.ExitStatus()
		if s <= StatusScriptUnfinished && s != StatusOtherBugcheck || s >= 124 {
			t.Fatalf("%#x exits with %d, a status that is not a bugcheck's", uint32(c), s)
		}
	}
	for c, want := range map[Code]uint8{
		BadPoolCaller: 0x42, KernelSecurityCheckFailure: 0x39, PageFaultInNonpagedArea: 0x50,
		0x80: StatusOtherBugcheck, 0x101: StatusOtherBugcheck, 0x102: StatusOtherBugcheck, 0x103: StatusOtherBugcheck,
		0x104: StatusOtherBugcheck, 0x105: 5, 0x7B: 0x7B, 0x7C: StatusOtherBugcheck, 0xFF: StatusOtherBugcheck,
		SystemThreadExceptionNotHandled: StatusOtherBugcheck, UnexpectedKernelModeTrap: StatusOtherBugcheck,
	} {
		if got := c.ExitStatus(); got != want {
			t.Errorf("%#x exits with %#x, want %#x", uint32(c), got, want)
		}
	}
}

// docLine matches a row of exitstatus.go's table: the status, then the codes.
var docLine = regexp.MustCompile(`^//\t0x([0-9A-F]{2}) +(0x.*)$`)

// TestExitStatusTableDocumented checks the table in exitstatus.go against
// ExitStatus for every code ntgo defines, in both directions.
func TestExitStatusTableDocumented(t *testing.T) {
	if arch.Bare() {
		t.Skip("no source tree inside the kernel")
	}
	src, err := os.ReadFile("exitstatus.go")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[uint8]string{}
	var ownValues string
	for _, line := range strings.Split(string(src), "\n") {
		if m := docLine.FindStringSubmatch(line); m != nil {
			s, _ := strconv.ParseUint(m[1], 16, 8)
			rows[uint8(s)] = m[2]
		}
		if strings.Contains(line, "own value") || ownValues != "" && strings.HasPrefix(line, "// 0x") {
			ownValues += line
		}
	}
	listed := map[uint8]bool{}
	for c, info := range table {
		s := c.ExitStatus()
		row, inTable := rows[s]
		switch {
		case inTable:
			if !strings.Contains(row, fmt.Sprintf("0x%X %s", uint32(c), info.Name)) {
				t.Errorf("row for status %#x does not list 0x%X %s", s, uint32(c), info.Name)
			}
			listed[s] = true
		case uint32(s) != uint32(c):
			t.Errorf("0x%X exits with %#x but has no row", uint32(c), s)
		case !strings.Contains(ownValues, fmt.Sprintf("0x%02X", s)):
			t.Errorf("0x%X exits with its own value but is not in that list", uint32(c))
		}
	}
	for s := range rows {
		if !listed[s] {
			t.Errorf("row for status %#x names no code of the table", s)
		}
	}
}

// TestRaisedCodesDoNotCollide finds every bugcheck code the module's
// non-test code names (bugcheck.X) and checks that no two of them exit with
// the same status, except StatusOtherBugcheck, which several share (the
// launcher names the code on its last line). The kernel's fatal-trap path
// writes UNEXPECTED_KERNEL_MODE_TRAP's status itself, so that code counts as
// raised.
func TestRaisedCodesDoNotCollide(t *testing.T) {
	if arch.Bare() {
		t.Skip("no source tree inside the kernel")
	}
	codes := constCodes(t)
	raised := map[Code]bool{UnexpectedKernelModeTrap: true}
	const moduleRoot = "../.."
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "bugcheck" {
					if c, ok := codes[sel.Sel.Name]; ok {
						raised[c] = true
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !raised[BadPoolCaller] || !raised[PfnListCorrupt] {
		t.Fatalf("scan found only %v: it no longer sees the module's bugchecks", raised)
	}
	byStatus := map[uint8]Code{}
	for c := range raised {
		s := c.ExitStatus()
		if other, dup := byStatus[s]; dup && s != StatusOtherBugcheck {
			t.Errorf("%v and %v both exit with %#x", c, other, s)
		}
		byStatus[s] = c
	}
}

// constCodes reads bugcheck.go's Code constants: name to value.
func constCodes(t *testing.T) map[string]Code {
	f, err := parser.ParseFile(token.NewFileSet(), "bugcheck.go", nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]Code{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if typ, ok := vs.Type.(*ast.Ident); !ok || typ.Name != "Code" {
				continue
			}
			for i, name := range vs.Names {
				lit := vs.Values[i].(*ast.BasicLit)
				v, err := strconv.ParseUint(lit.Value, 0, 32)
				if err != nil {
					t.Fatal(err)
				}
				codes[name.Name] = Code(v)
			}
		}
	}
	if len(codes) != len(table) {
		t.Fatalf("parsed %d Code constants, the table has %d", len(codes), len(table))
	}
	return codes
}
