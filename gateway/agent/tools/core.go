package tools

// coreTools are the tools New registers from o.
func coreTools(o Options) []Tool {
	return nil
}
