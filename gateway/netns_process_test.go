//go:build linux

package gateway_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
)

// A re-executed test binary with GW_TEST_DIAL=host:port is a client in
// another network namespace: it connects with GW_TEST_TOKEN and prints
// "connected" or "error: ...".
func init() {
	addr := os.Getenv("GW_TEST_DIAL")
	if addr == "" {
		return
	}
	host, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := connectHost(ctx, host, port, os.Getenv("GW_TEST_TOKEN"))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(0)
	}
	c.ws.CloseNow()
	fmt.Println("connected")
	os.Exit(0)
}

// The addresses of the private veth pair: only ever inside the two
// namespaces the test creates.
const (
	nsGatewayIP = "10.213.0.1"
	nsClientIP  = "10.213.0.2"
)

// netns is a private network namespace held open by a sleeping process.
type netns struct{ pid string }

func newNetns(t *testing.T) netns {
	t.Helper()
	cmd := exec.Command("unshare", "-n", "sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Skipf("unshare -n unavailable (%v): the LAN namespace test needs it", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := strconv.Itoa(cmd.Process.Pid)
	self, _ := os.Readlink("/proc/self/ns/net")
	// unshare execs sleep once the namespace exists: wait for the switch.
	if !gatewaytest.Poll(5*time.Second, func() bool {
		l, err := os.Readlink("/proc/" + pid + "/ns/net")
		return err == nil && l != self
	}) {
		t.Skip("unshare -n did not create a network namespace (no permission?)")
	}
	return netns{pid: pid}
}

// run runs a command inside n.
func (n netns) run(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"-t", n.pid, "-n"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nsenter %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// wrap is the command prefix that runs a program inside n.
func (n netns) wrap() []string { return []string{"nsenter", "-t", n.pid, "-n"} }

// dialFrom connects from inside n to addr with token and returns the
// client's verdict.
func (n netns) dialFrom(t *testing.T, addr, token string) string {
	t.Helper()
	cmd := exec.Command("nsenter", "-t", n.pid, "-n", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GW_TEST_DIAL="+addr, "GW_TEST_TOKEN="+token)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client in namespace: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// namespacePair builds two private namespaces joined by a veth pair
// (gateway side nsGatewayIP, client side nsClientIP). It skips where the
// test cannot run: not root, no unshare/nsenter/ip.
func namespacePair(t *testing.T) (gwNS, clientNS netns) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the LAN namespace test needs root (unshare -n + veth); skipped")
	}
	for _, tool := range []string{"unshare", "nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the LAN namespace test needs %s; skipped", tool)
		}
	}
	gwNS, clientNS = newNetns(t), newNetns(t)
	// Created inside gwNS with its peer moved straight into clientNS: the
	// host's own namespace never sees either end.
	gwNS.run(t, "ip", "link", "add", "veth-gw", "type", "veth", "peer", "name", "veth-cl", "netns", clientNS.pid)
	for _, side := range []struct {
		ns        netns
		dev, cidr string
	}{{gwNS, "veth-gw", nsGatewayIP + "/30"}, {clientNS, "veth-cl", nsClientIP + "/30"}} {
		side.ns.run(t, "ip", "link", "set", "lo", "up")
		side.ns.run(t, "ip", "addr", "add", side.cidr, "dev", side.dev)
		side.ns.run(t, "ip", "link", "set", side.dev, "up")
	}
	return gwNS, clientNS
}

// On a private two-namespace LAN: a lan-bound gateway is reachable from
// the other namespace (with its token, and only with it); a loopback-bound
// one is not, though it answers on its own loopback.
func TestProcessLanBindInNetworkNamespaces(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	gwNS, clientNS := namespacePair(t)

	lan := startGateway(t, gwOpts{config: lanConfig(), wrap: gwNS.wrap()})
	lan.waitLog("gateway listening on ws://0.0.0.0:", 5*time.Second)
	addr := net.JoinHostPort(nsGatewayIP, strconv.Itoa(lan.port))
	if got := clientNS.dialFrom(t, addr, procToken); got != "connected" {
		t.Fatalf("LAN client -> lan gateway: %q, want connected", got)
	}
	if got := clientNS.dialFrom(t, addr, "wrong-token"); !strings.Contains(got, "token mismatch") {
		t.Fatalf("LAN client with a wrong token: %q, want a token mismatch", got)
	}
	lan.waitLog("auth failed: gateway token mismatch", 5*time.Second)
	if !strings.Contains(lan.output(), "remote="+nsClientIP) {
		t.Errorf("the failed login does not name the LAN client %s", nsClientIP)
	}

	loop := startGateway(t, gwOpts{wrap: gwNS.wrap()})
	loopAddr := net.JoinHostPort(nsGatewayIP, strconv.Itoa(loop.port))
	if got := clientNS.dialFrom(t, loopAddr, procToken); !strings.Contains(got, "connection refused") {
		t.Fatalf("LAN client -> loopback gateway: %q, want connection refused", got)
	}
	if got := gwNS.dialFrom(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(loop.port)), procToken); got != "connected" {
		t.Fatalf("loopback client in the gateway's namespace: %q, want connected", got)
	}
}
