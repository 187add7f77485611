package tools

// coreTools are the tools New registers from o, in the order the
// original offers them (read, edit, write, then the rest). The session
// tools need the store (and sessions_send the runner), cron the
// scheduler, message the channels' send path.
func coreTools(o Options) []Tool {
	ts := []Tool{readTool(), editTool(), writeTool(), applyPatchTool(), lsTool(), findTool(), grepTool(), newWebFetchTool()}
	if o.Cron != nil {
		ts = append(ts, cronTool(o.Cron, o.Store))
	}
	if o.Messenger != nil {
		ts = append(ts, messageTool(o.Messenger))
	}
	if o.Store != nil {
		ts = append(ts, sessionsListTool(o.Store), sessionsHistoryTool(o.Store))
		if o.Sessions != nil && o.Runner != nil {
			ts = append(ts, sessionsSendTool(o.Sessions, o.Runner, nil))
		}
		ts = append(ts, sessionStatusTool(o.Store, o.Sessions))
	}
	return ts
}
