package kernel_test

// Console commands run as NT system threads (systemthread.go): a panic
// that escapes one is SYSTEM_THREAD_EXCEPTION_NOT_HANDLED, a return at
// raised IRQL IRQL_GT_ZERO_AT_SYSTEM_SERVICE. In a test binary the
// bugcheck panics with its record, which bugcheck.Catch sees.

import (
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"ntgo/kernel/console"
	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
)

//go:noinline
func panickingCommand(io.Writer, []string) error { panic(errors.New("on purpose")) }

func raisingCommand(io.Writer, []string) error {
	ke.RaiseIrql(ke.DispatchLevel)
	return nil
}

func init() {
	console.Register(console.Command{Name: "test-panic", Help: "test: panic", Run: panickingCommand})
	console.Register(console.Command{Name: "test-raise", Help: "test: return at DISPATCH_LEVEL", Run: raisingCommand})
}

func TestCommandPanicIsSystemThreadException(t *testing.T) {
	if !arch.Bare() {
		t.Skip("the system-thread guard is installed on bare metal")
	}
	rec := bugcheck.Catch(func() { console.Execute(io.Discard, "test-panic") })
	if rec == nil || rec.Code != bugcheck.SystemThreadExceptionNotHandled {
		t.Fatalf("record %+v, want SYSTEM_THREAD_EXCEPTION_NOT_HANDLED", rec)
	}
	if rec.Params[0] != bugcheck.ExceptionGoPanic {
		t.Errorf("exception code %#x, want %#x", rec.Params[0], bugcheck.ExceptionGoPanic)
	}
	if f := runtime.FuncForPC(rec.Params[1] - 1); f == nil || !strings.HasSuffix(f.Name(), ".panickingCommand") {
		t.Errorf("exception address %#x is not in panickingCommand (%v)", rec.Params[1], f)
	}
	if rec.Params[2] == 0 || rec.Params[3] == 0 {
		t.Errorf("no exception or context record: %+v", rec)
	}
}

func TestCommandReturningAtDispatchLevel(t *testing.T) {
	if !arch.Bare() {
		t.Skip("the system-thread guard is installed on bare metal")
	}
	rec := bugcheck.Catch(func() { console.Execute(io.Discard, "test-raise") })
	ke.LowerIrql(ke.PassiveLevel)
	if rec == nil || rec.Code != bugcheck.IrqlGtZeroAtSystemService {
		t.Fatalf("record %+v, want IRQL_GT_ZERO_AT_SYSTEM_SERVICE", rec)
	}
	if want := reflect.ValueOf(raisingCommand).Pointer(); rec.Params[0] != want || rec.Params[1] != uintptr(ke.DispatchLevel) {
		t.Errorf("parameters %#x, want the routine %#x and DISPATCH_LEVEL", rec.Params, want)
	}
	if rec := bugcheck.Catch(func() { console.Execute(io.Discard, "ver") }); rec != nil {
		t.Errorf("a command at PASSIVE_LEVEL stopped: %v", rec)
	}
}
