package paging

// SetDeviceForTest swaps the paging file's device, keeping its slots.
func (p *Pager) SetDeviceForTest(d Device) {
	p.wsMu.Lock()
	p.dev = d
	p.wsMu.Unlock()
}
