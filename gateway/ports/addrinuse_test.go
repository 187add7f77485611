package ports

import (
	"errors"
	"fmt"
	"net"
	"testing"
)

// A second listen on a taken port is recognised by its errno, wrapped or
// not; the message text alone (another locale, another OS) is not evidence.
func TestIsAddrInUse(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "::1"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			continue // no IPv6 here
		}
		_, err = net.Listen("tcp", ln.Addr().String())
		ln.Close()
		if !IsAddrInUse(err) || !IsAddrInUse(fmt.Errorf("listen on %s: %w", host, err)) {
			t.Errorf("%s: IsAddrInUse(%v) = false", host, err)
		}
	}
	for _, err := range []error{nil, errors.New("bind: address already in use"), fmt.Errorf("listen: %v", "in use")} {
		if IsAddrInUse(err) {
			t.Errorf("IsAddrInUse(%v) = true", err)
		}
	}
}
