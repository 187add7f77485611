// Command fakegateway stands in for `clawdbot gateway` in the supervise
// package's real-systemd test: it listens on --port, sends READY=1 once the
// listener is bound (like the gateway under Type=notify) and runs until
// signalled. It lets supervise prove its units and Manager against a real
// systemd without depending on the gateway package.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/coreos/go-systemd/v22/daemon"
)

func main() {
	fs := flag.NewFlagSet("fakegateway", flag.ExitOnError)
	port := fs.Int("port", 0, "port")
	if len(os.Args) < 2 || os.Args[1] != "gateway" {
		fmt.Fprintln(os.Stderr, "usage: fakegateway gateway --port N")
		os.Exit(2)
	}
	fs.Parse(os.Args[2:])
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("ok\n"))
			c.Close()
		}
	}()
	daemon.SdNotify(false, daemon.SdNotifyReady)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	daemon.SdNotify(false, daemon.SdNotifyStopping)
}
