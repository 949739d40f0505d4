package mm

// ChargeCommit is chargeCommit, for the commit-limit test.
var ChargeCommit = chargeCommit
