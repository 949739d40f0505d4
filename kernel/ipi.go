// Start-up of interprocessor requests (ipi_trap.go has the vector).

package kernel

import "ntgo/nt/ke"

// startIPIs hands ke the IPI sender and marks every started processor as
// taking requests, after initProcessors: from here on TLB flushes are
// shootdowns to every processor.
func startIPIs() {
	ke.SetIpiSender(sendIPI)
	for cpu := 1; cpu < int(startedProcessors()); cpu++ {
		ke.SetProcessorActive(cpu)
	}
}
