package profiles

// configuredPort returns gateway.port from the config at path, or 0 when the
// file is missing, unreadable or sets no port. Resolve must not fail on a
// broken config: commands that care about the config load and report it.
func configuredPort(path string) int {
	cfg, err := LoadConfig(path)
	if err != nil || cfg == nil || cfg.Gateway.Port == 0 {
		return 0
	}
	return cfg.Gateway.Port
}
