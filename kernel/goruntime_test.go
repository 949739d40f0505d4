package kernel_test

// The kernel's reason to exist as a Linux-ABI layer is that the stock Go
// runtime runs on it unmodified. These tests exercise the runtime services
// that lean hardest on that layer, inside the kernel under `make ktest
// PKG=./kernel` (and as ordinary host tests, where they check nothing
// kernel-specific):
//
//   - the garbage collector: hundreds of MiB allocated and dropped within the
//     launcher's 256 MiB guest, so heap growth, several GC cycles, the
//     background workers and the scavenger's madvise all have to work, and
//     demand-zero pages must read back as zeros and keep what was written;
//   - frames returned to the kernel: after debug.FreeOSMemory the scavenger's
//     MADV_DONTNEED must hand the frames back (bare metal only, where
//     kernel.MemoryInfo counts them);
//   - goroutines and channels, time.After and tickers (futex and epoll
//     timeouts driven by the LAPIC timer), sync primitives, maps.
//
// Nothing here is timed: timers are only checked never to fire early.

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ntgo/kernel"
	"ntgo/nt/arch"
)

const (
	gcChurnBytes = 256 << 20 // allocated and dropped in all
	gcChunkBytes = 1 << 20
	// Chunks alive at once: the live heap stays near 8 MiB, so the 256 MiB
	// churn must be collected many times over to fit in the guest.
	gcLiveChunks = 8
	gcMinCycles  = 4 // "several": far fewer than the churn/live ratio allows
)

// fillChunk writes tag into the first byte of every page of c, so that every
// page is really backed by a frame (a fresh span from the OS is assumed zero
// and would otherwise never be touched).
func fillChunk(c []byte, tag byte) {
	for i := 0; i < len(c); i += os.Getpagesize() {
		c[i] = tag
	}
}

// chunkHolds reports whether every page of c still starts with tag and the
// rest of the page is zero where sampled (its last byte).
func chunkHolds(c []byte, tag byte) bool {
	page := os.Getpagesize()
	for i := 0; i < len(c); i += page {
		if c[i] != tag || c[i+page-1] != 0 {
			return false
		}
	}
	return true
}

func TestGCChurn(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var live [gcLiveChunks][]byte
	for i := 0; i < gcChurnBytes/gcChunkBytes; i++ {
		slot := i % gcLiveChunks
		// The chunk about to be dropped must have survived every cycle
		// since it was made with its contents intact.
		if old := live[slot]; old != nil && !chunkHolds(old, byte(i-gcLiveChunks)) {
			t.Fatalf("chunk %d corrupted while live", i-gcLiveChunks)
		}
		c := make([]byte, gcChunkBytes)
		if !chunkHolds(c, 0) {
			t.Fatalf("chunk %d: fresh allocation not zero", i)
		}
		fillChunk(c, byte(i))
		live[slot] = c
	}
	runtime.ReadMemStats(&after)
	cycles := after.NumGC - before.NumGC
	t.Logf("%d MiB allocated, %d GC cycles, heap system memory %d MiB, total from OS %d MiB",
		(after.TotalAlloc-before.TotalAlloc)>>20, cycles, after.HeapSys>>20, after.Sys>>20)
	if after.TotalAlloc-before.TotalAlloc < gcChurnBytes {
		t.Errorf("allocated %d bytes, want at least %d", after.TotalAlloc-before.TotalAlloc, gcChurnBytes)
	}
	if cycles < gcMinCycles {
		t.Errorf("%d GC cycles while churning %d MiB, want at least %d", cycles, gcChurnBytes>>20, gcMinCycles)
	}
	runtime.KeepAlive(live)
}

const (
	// frameTestBytes is held live, then dropped and scavenged.
	frameTestBytes = 64 << 20
	// frameSlackBytes covers what the runtime keeps after FreeOSMemory
	// (span metadata, the heap bitmap, stacks) and the test's own garbage.
	frameSlackBytes = 8 << 20
)

// TestFreeOSMemoryReturnsFrames checks both halves of the kernel's anonymous
// memory: touching committed pages takes frames (demand zero) and the
// runtime's madvise gives them back.
func TestFreeOSMemoryReturnsFrames(t *testing.T) {
	if !arch.Bare() {
		t.Skip("kernel frames exist only on bare metal")
	}
	page := uint64(os.Getpagesize())
	debug.FreeOSMemory()
	_, free0 := kernel.MemoryInfo()
	held := make([][]byte, frameTestBytes/gcChunkBytes)
	for i := range held {
		held[i] = make([]byte, gcChunkBytes)
		fillChunk(held[i], byte(i))
	}
	_, free1 := kernel.MemoryInfo()
	runtime.KeepAlive(held)
	held = nil
	debug.FreeOSMemory()
	_, free2 := kernel.MemoryInfo()
	t.Logf("free frames: %d MiB before, %d MiB holding %d MiB, %d MiB after FreeOSMemory",
		free0*page>>20, free1*page>>20, frameTestBytes>>20, free2*page>>20)
	if taken := int64(free0-free1) * int64(page); taken < frameTestBytes {
		t.Errorf("touching %d MiB took %d KiB of frames", frameTestBytes>>20, taken>>10)
	}
	if lost := int64(free0-free2) * int64(page); lost > frameSlackBytes {
		t.Errorf("FreeOSMemory left %d KiB of frames taken, want at most %d KiB", lost>>10, frameSlackBytes>>10)
	}
}

const (
	fanWorkers = 64
	fanItems   = 10000
)

// TestGoroutinesAndChannels fans work out to goroutines over an unbuffered
// channel and collects their sums over a buffered one.
func TestGoroutinesAndChannels(t *testing.T) {
	in, out := make(chan int), make(chan int, fanWorkers)
	for w := 0; w < fanWorkers; w++ {
		go func() {
			sum := 0
			for v := range in {
				sum += v
			}
			out <- sum
		}()
	}
	go func() {
		for i := 1; i <= fanItems; i++ {
			in <- i
		}
		close(in)
	}()
	total := 0
	for w := 0; w < fanWorkers; w++ {
		total += <-out
	}
	if want := fanItems * (fanItems + 1) / 2; total != want {
		t.Fatalf("sum over %d goroutines = %d, want %d", fanWorkers, total, want)
	}
}

const (
	timerDelay = 20 * time.Millisecond
	tickPeriod = 5 * time.Millisecond
	tickCount  = 4
)

// TestTimeAfter checks that timers fire and never early, alone and raced
// against a channel that is never ready, and that a ticker keeps ticking.
func TestTimeAfter(t *testing.T) {
	start := time.Now()
	never := make(chan struct{})
	select {
	case <-time.After(timerDelay):
	case <-never:
		t.Fatal("received from a channel nobody sends on")
	}
	if d := time.Since(start); d < timerDelay {
		t.Errorf("time.After(%v) fired after %v", timerDelay, d)
	}

	tick := time.NewTicker(tickPeriod)
	defer tick.Stop()
	start = time.Now()
	for i := 0; i < tickCount; i++ {
		<-tick.C
	}
	if d := time.Since(start); d < tickCount*tickPeriod {
		t.Errorf("%d ticks of %v took %v", tickCount, tickPeriod, d)
	}
}

const (
	syncWorkers = 16
	syncRounds  = 1000
)

// TestSync runs a mutex-protected counter, an atomic counter, sync.Once and
// a sync.Cond barrier across goroutines that yield, so the scheduler
// interleaves them.
func TestSync(t *testing.T) {
	var (
		mu      sync.Mutex
		counter int
		atomics atomic.Int64
		once    sync.Once
		onces   atomic.Int32
		wg      sync.WaitGroup
	)
	arrived := 0
	cond := sync.NewCond(&mu)
	for w := 0; w < syncWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < syncRounds; r++ {
				mu.Lock()
				counter++
				mu.Unlock()
				atomics.Add(1)
				once.Do(func() { onces.Add(1) })
				if r%100 == 0 {
					runtime.Gosched()
				}
			}
			mu.Lock()
			arrived++
			cond.Broadcast()
			for arrived < syncWorkers {
				cond.Wait()
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if want := syncWorkers * syncRounds; counter != want || atomics.Load() != int64(want) {
		t.Errorf("mutex counter %d, atomic counter %d, want %d", counter, atomics.Load(), want)
	}
	if onces.Load() != 1 {
		t.Errorf("sync.Once ran %d times", onces.Load())
	}
}

const mapKeys = 100000

// TestMaps grows a map well past its first buckets, deletes half, and checks
// lookups and iteration; sync.Map is used from goroutines.
func TestMaps(t *testing.T) {
	m := make(map[int]int)
	for k := 0; k < mapKeys; k++ {
		m[k] = k * k
	}
	for k := 0; k < mapKeys; k += 2 {
		delete(m, k)
	}
	if len(m) != mapKeys/2 {
		t.Fatalf("len = %d after deleting half of %d", len(m), mapKeys)
	}
	seen := 0
	for k, v := range m {
		if k%2 == 0 || v != k*k {
			t.Fatalf("m[%d] = %d", k, v)
		}
		seen++
	}
	if seen != mapKeys/2 {
		t.Fatalf("iteration saw %d keys, want %d", seen, mapKeys/2)
	}

	var sm sync.Map
	var wg sync.WaitGroup
	for w := 0; w < syncWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < syncRounds; r++ {
				sm.Store(w*syncRounds+r, w)
			}
		}()
	}
	wg.Wait()
	n := 0
	sm.Range(func(k, v any) bool {
		if k.(int)/syncRounds != v.(int) {
			t.Errorf("sync.Map[%v] = %v", k, v)
		}
		n++
		return true
	})
	if n != syncWorkers*syncRounds {
		t.Errorf("sync.Map holds %d entries, want %d", n, syncWorkers*syncRounds)
	}
}
