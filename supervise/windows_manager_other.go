//go:build !windows

package supervise

// scmManageAccess is nil off Windows: there is no SCM to ask, and tests
// inject WindowsManager.CanManage.
func scmManageAccess() error { return nil }
