//go:build !race

package rtl

const raceEnabled = false
