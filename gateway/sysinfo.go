package gateway

import (
	"net"
	"os"
	"strings"
)

// kernelRelease is the OS release for the self presence entry ("" where
// it cannot be read cheaply; only Linux exposes it as a file).
func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// primaryIPv4 is the first non-internal IPv4, preferring en0/eth0 like the
// original.
func primaryIPv4() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	first := ""
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil || ipn.IP.IsLoopback() {
				continue
			}
			if ifc.Name == "en0" || ifc.Name == "eth0" {
				return ipn.IP.String()
			}
			if first == "" {
				first = ipn.IP.String()
			}
		}
	}
	return first
}
