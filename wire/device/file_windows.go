package device

// isChmodUnsupported: Windows has no POSIX modes; File.Chmod only toggles
// the read-only bit, so a failure there is not a security problem.
func isChmodUnsupported() bool { return true }
