//go:build windows

package supervise

import (
	"errors"
	"fmt"

	"github.com/kardianos/service"
	"golang.org/x/sys/windows"
)

// queryStatusService is a kardianos service whose Status asks the SCM with
// SERVICE_QUERY_STATUS only. kardianos opens the service with START and
// STOP rights even to query it, which the default service DACL denies to
// non-administrators, so `gateway status` and doctor would read "access
// denied" where any user may see the state.
type queryStatusService struct {
	service.Service
	name string
}

func withQueryStatus(svc service.Service, name string) WindowsService {
	return queryStatusService{Service: svc, name: name}
}

// Status maps SCM states as kardianos does: START_PENDING counts as
// running, STOP_PENDING and PAUSED as stopped.
func (q queryStatusService) Status() (service.Status, error) {
	m, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return service.StatusUnknown, err
	}
	defer windows.CloseServiceHandle(m)
	name, err := windows.UTF16PtrFromString(q.name)
	if err != nil {
		return service.StatusUnknown, err
	}
	h, err := windows.OpenService(m, name, windows.SERVICE_QUERY_STATUS)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return service.StatusUnknown, service.ErrNotInstalled
	}
	if err != nil {
		return service.StatusUnknown, err
	}
	defer windows.CloseServiceHandle(h)
	var ss windows.SERVICE_STATUS
	if err := windows.QueryServiceStatus(h, &ss); err != nil {
		return service.StatusUnknown, err
	}
	switch ss.CurrentState {
	case windows.SERVICE_RUNNING, windows.SERVICE_START_PENDING:
		return service.StatusRunning, nil
	case windows.SERVICE_STOPPED, windows.SERVICE_STOP_PENDING, windows.SERVICE_PAUSED,
		windows.SERVICE_PAUSE_PENDING, windows.SERVICE_CONTINUE_PENDING:
		return service.StatusStopped, nil
	}
	return service.StatusUnknown, fmt.Errorf("unknown service state %d", ss.CurrentState)
}
