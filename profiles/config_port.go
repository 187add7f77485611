package profiles

// configuredPort returns gateway.port from the config at path, or 0 when the
// file is missing, unreadable or sets no usable port. Resolve must not fail
// on a broken config (commands that need the config load it and report the
// problem with its position), but a config that is invalid elsewhere still
// decides the port, so one bad key does not silently move the gateway.
func configuredPort(path string, getenv func(string) string) int {
	snap, err := LoadEnv(path, getenv)
	if err != nil || snap.Config == nil {
		return 0
	}
	if n := snap.Config.Gateway.Port; validPort(n) {
		return n
	}
	return 0
}
