//go:build windows

package supervise

import "golang.org/x/sys/windows"

// scmManageAccess opens the SCM with the access kardianos's Install and
// Uninstall ask for (mgr.Connect: SC_MANAGER_ALL_ACCESS). Outside an
// elevated prompt Windows answers ERROR_ACCESS_DENIED, which winErr turns
// into the fix.
func scmManageAccess() error {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_ALL_ACCESS)
	if err != nil {
		return err
	}
	return windows.CloseServiceHandle(h)
}
