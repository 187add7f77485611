package gateway

import (
	"net"
	"os"
	goruntime "runtime"
	"strings"

	"github.com/clawdbot/clawdbot/wire"
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

// selfPresence is the gateway's own presence entry (doc/protocol.md §6).
func selfPresence(host, version string) wire.PresenceEntry {
	return selfPresenceWith(host, version, primaryIPv4())
}

// selfPresenceWith builds the self entry for the primary IPv4 ip. Without
// one (no non-internal IPv4: a host on loopback only, an IPv6-only host)
// the ip is the host name, as the original's resolvePrimaryIPv4 falls back
// to os.hostname(): clients always get an ip, and the text its "(ip)".
func selfPresenceWith(host, version, ip string) wire.PresenceEntry {
	if ip == "" {
		ip = host
	}
	platform, family := platformInfo()
	text := "Gateway: " + host
	if ip != "" {
		text += " (" + ip + ")"
	}
	text += " · app " + version + " · mode gateway · reason self"
	return wire.PresenceEntry{
		Host: host, IP: ip, Version: version, Platform: platform, DeviceFamily: family,
		ModelIdentifier: archName(), Mode: "gateway", Reason: "self", Text: text,
	}
}

func platformInfo() (string, string) {
	rel := kernelRelease()
	switch goruntime.GOOS {
	case "darwin":
		return strings.TrimSpace("macos " + rel), "Mac"
	case "windows":
		return strings.TrimSpace("windows " + rel), "Windows"
	case "linux":
		return strings.TrimSpace("linux " + rel), "Linux"
	}
	return goruntime.GOOS, goruntime.GOOS
}

func archName() string {
	switch goruntime.GOARCH {
	case "amd64":
		return "x64"
	case "386":
		return "ia32"
	}
	return goruntime.GOARCH
}
