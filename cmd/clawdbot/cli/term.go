package cli

import "golang.org/x/term"

// isTerminal reports whether s (a stream of Env) is a terminal. It asks the
// terminal driver (golang.org/x/term: TCGETS, GetConsoleMode) rather than
// checking for a character device: /dev/null is a character device too,
// and treating it as a terminal made `doctor --fix </dev/null` (cron, a
// unit) repair without --yes and plain doctor print its prompt into logs.
func isTerminal(s any) bool {
	f, ok := s.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
