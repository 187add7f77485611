//go:build !windows

package supervise

import "github.com/kardianos/service"

// withQueryStatus is the identity off Windows (kardianos has no SCM to ask
// there; see windows_status_windows.go).
func withQueryStatus(svc service.Service, _ string) WindowsService { return svc }
