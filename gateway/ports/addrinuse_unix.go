//go:build !windows

package ports

import "syscall"

var errAddrInUse error = syscall.EADDRINUSE
