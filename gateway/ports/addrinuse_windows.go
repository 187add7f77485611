//go:build windows

package ports

import "golang.org/x/sys/windows"

// The net package reports the Winsock errno, not syscall.EADDRINUSE (an
// invented value on Windows that no system call returns).
var errAddrInUse error = windows.WSAEADDRINUSE
