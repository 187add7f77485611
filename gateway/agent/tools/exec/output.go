package exec

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// output keeps what a process wrote within fixed memory however much it
// writes: the first head bytes, a ring of the last tail bytes, and the
// not-yet-polled bytes (pending, also bounded, keeping the newest), so a
// command flooding stdout cannot grow the gateway.
type output struct {
	mu      sync.Mutex
	head    []byte
	headCap int
	ring    []byte // last tailCap bytes once head is full
	tailCap int
	total   int64
	pending []byte
	pendCap int
}

func newOutput(maxChars, pendingChars int) *output {
	h := maxChars * 2 / 10
	return &output{headCap: h, tailCap: maxChars - h, pendCap: pendingChars}
}

// Write never fails: the process must never block on its own output.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(p)
	o.total += int64(n)
	o.pending = appendBounded(o.pending, p, o.pendCap)
	if room := o.headCap - len(o.head); room > 0 {
		k := min(room, len(p))
		o.head = append(o.head, p[:k]...)
		p = p[k:]
	}
	if len(p) > 0 {
		o.ring = appendBounded(o.ring, p, o.tailCap)
	}
	return n, nil
}

// appendBounded appends p to b and keeps the last max bytes, reusing b's
// storage once it has grown to max.
func appendBounded(b, p []byte, max int) []byte {
	if max <= 0 {
		return b[:0]
	}
	if len(p) >= max {
		return append(b[:0], p[len(p)-max:]...)
	}
	if over := len(b) + len(p) - max; over > 0 {
		copy(b, b[over:])
		b = b[:len(b)-over]
	}
	return append(b, p...)
}

// Truncated reports that some output was dropped.
func (o *output) Truncated() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.total > int64(len(o.head)+len(o.ring))
}

// String is the kept output: head, a marker naming what was dropped, and
// tail.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	kept := int64(len(o.head) + len(o.ring))
	if o.total <= kept {
		return sanitize(string(o.head) + string(o.ring))
	}
	tail := o.ring
	for len(tail) > 0 && !utf8.RuneStart(tail[0]) {
		tail = tail[1:]
	}
	return sanitize(string(o.head)) + fmt.Sprintf("\n\n[... %d bytes of output omitted ...]\n\n", o.total-kept) + sanitize(string(tail))
}

// Tail is the last n bytes of output.
func (o *output) Tail(n int) string {
	s := o.String()
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	for len(s) > 0 && !utf8.RuneStart(s[0]) {
		s = s[1:]
	}
	return s
}

// Drain returns and forgets the output written since the last Drain.
func (o *output) Drain() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := sanitize(string(o.pending))
	o.pending = o.pending[:0]
	return s
}

// sanitize drops invalid UTF-8 and control characters other than tab,
// newline and carriage return, as the original's sanitizeBinaryOutput, so
// binary output does not reach the model as garbage.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
