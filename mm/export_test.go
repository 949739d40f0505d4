package mm

// ChargeCommit is chargeCommit, for the commit-limit test.
var ChargeCommit = chargeCommit

// PoolCommitted is the pools' commit charge.
func PoolCommitted() int64 { return poolCommitted.Load() }

// FixedMdlBytes is the block every MDL of up to mdlFixedPages pages takes.
const FixedMdlBytes = mdlFixedSize
