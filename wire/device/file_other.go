//go:build !windows

package device

// isChmodUnsupported reports whether a Chmod failure may be ignored; on
// POSIX systems it may not, because the file holds a private key or token.
func isChmodUnsupported() bool { return false }
