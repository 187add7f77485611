//go:build !unix

package gateway

// fileLimit is unknown off Unix: the default total cap applies.
func fileLimit() int { return 0 }
