package tools

// coreTools are the tools New registers from o, in the order the
// original offers them (read, edit, write, then the rest).
func coreTools(o Options) []Tool {
	return []Tool{readTool(), editTool(), writeTool(), applyPatchTool(), lsTool(), findTool(), grepTool(), newWebFetchTool()}
}
