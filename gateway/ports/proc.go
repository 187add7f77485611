package ports

// procInfo is what we can learn about a process besides lsof's fields.
type procInfo struct {
	comm    string // short command name, as lsof's c field
	cmdline string
	user    string
	env     map[string]string // only the CLAWDBOT_* variables we look for
}
