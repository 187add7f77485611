package gateway

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"time"
)

// rawWS is a minimal WebSocket client over a plain TCP socket: the HTTP
// upgrade by hand, masked text frames out, and a tiny parser for the
// server's unmasked frames in. It has no goroutines, timers, contexts or
// per-frame allocations of its own, so a benchmark that runs hundreds or
// thousands of clients in the gateway's process (on the same two cores)
// measures the gateway rather than the clients.
type rawWS struct {
	net.Conn
	buf []byte // received bytes; buf[off:] not yet parsed
	off int
}

// rawDial opens a socket to addr and upgrades it to WebSocket.
func rawDial(addr string) (*rawWS, error) { return rawDialWith(addr, nil) }

// rawDialWith is rawDial sending early right behind the upgrade request,
// in the same write.
func rawDialWith(addr string, early []byte) (*rawWS, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &rawWS{Conn: c, buf: make([]byte, 0, 1024)}
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.Write(append([]byte(req), early...)); err != nil {
		c.Close()
		return nil, err
	}
	for {
		if i := bytes.Index(r.buf, []byte("\r\n\r\n")); i >= 0 {
			if !bytes.HasPrefix(r.buf, []byte("HTTP/1.1 101 ")) {
				c.Close()
				return nil, fmt.Errorf("upgrade refused: %q", r.buf[:i])
			}
			r.off = i + 4
			return r, nil
		}
		if err := r.fill(0); err != nil {
			c.Close()
			return nil, fmt.Errorf("upgrade: %w", err)
		}
	}
}

// fill reads more bytes, first making room for need unparsed bytes.
func (r *rawWS) fill(need int) error {
	if r.off > 0 {
		n := copy(r.buf[:cap(r.buf)], r.buf[r.off:])
		r.buf, r.off = r.buf[:n], 0
	}
	if cap(r.buf) < need {
		r.buf = slices.Grow(r.buf, need-len(r.buf))
	}
	if len(r.buf) == cap(r.buf) {
		r.buf = slices.Grow(r.buf, cap(r.buf))
	}
	n, err := r.Conn.Read(r.buf[len(r.buf):cap(r.buf)])
	r.buf = r.buf[:len(r.buf)+n]
	if n > 0 {
		return nil
	}
	return err
}

// next returns the opcode and payload of the next frame (the gateway sends
// every message as one unfragmented frame). The payload is valid until the
// next call.
func (r *rawWS) next() (byte, []byte, error) {
	for {
		b := r.buf[r.off:]
		need := 2
		if len(b) >= 2 {
			n, h := int(b[1]&0x7f), 2
			switch n {
			case 126:
				h = 4
				if len(b) >= h {
					n = int(binary.BigEndian.Uint16(b[2:]))
				}
			case 127:
				h = 10
				if len(b) >= h {
					n = int(binary.BigEndian.Uint64(b[2:]))
				}
			}
			need = h
			if len(b) >= h {
				need = h + n
				if len(b) >= need {
					r.off += need
					return b[0] & 0x0f, b[h:need], nil
				}
			}
		}
		if err := r.fill(need); err != nil {
			return 0, nil, err
		}
	}
}

// send writes one masked text frame (a zero mask: the payload goes as is).
func (r *rawWS) Send(p []byte) error {
	_, err := r.Write(clientFrame(p))
	return err
}

// clientFrame frames p as a client text message with a zero mask key.
func clientFrame(p []byte) []byte {
	f := []byte{0x81}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	case len(p) <= 0xffff:
		f = append(f, 0x80|126, 0, 0)
		binary.BigEndian.PutUint16(f[2:], uint16(len(p)))
	default:
		f = append(f, 0x80|127, 0, 0, 0, 0, 0, 0, 0, 0)
		binary.BigEndian.PutUint64(f[2:], uint64(len(p)))
	}
	f = append(f, 0, 0, 0, 0)
	return append(f, p...)
}

// connectFrame is a token connect request as the CLI sends it.
func connectFrame(token string) []byte {
	b, err := json.Marshal(map[string]any{"type": "req", "id": "pb-1", "method": "connect", "params": connectParams(token)})
	if err != nil {
		panic(err)
	}
	return b
}

// handshake reads the challenge, sends connect and waits for a successful
// response.
func (r *rawWS) handshake(connect []byte) error {
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer r.SetReadDeadline(time.Time{})
	_, p, err := r.next()
	if err != nil {
		return fmt.Errorf("challenge: %w", err)
	}
	if !bytes.Contains(p, []byte(`"event":"connect.challenge"`)) {
		return fmt.Errorf("first frame is not the challenge: %.80s", p)
	}
	if err := r.Send(connect); err != nil {
		return err
	}
	for {
		op, p, err := r.next()
		if err != nil {
			return fmt.Errorf("hello: %w", err)
		}
		if op == 0x8 {
			return fmt.Errorf("closed during handshake: %q", p)
		}
		if bytes.HasPrefix(p, []byte(`{"type":"res"`)) {
			if !bytes.Contains(p[:min(len(p), 80)], []byte(`"ok":true`)) {
				return fmt.Errorf("connect failed: %.200s", p)
			}
			return nil
		}
	}
}
