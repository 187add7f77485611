package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent/lanes"
	"github.com/clawdbot/clawdbot/gateway/rpc"
)

// Queue modes (doc/messaging.md §4.5).
const (
	QueueCollect   = "collect"
	QueueFollowup  = "followup"
	QueueSteer     = "steer"
	QueueInterrupt = "interrupt"
)

// normalizeQueueMode maps a configured or typed mode to one of the four
// ("" when unknown). The original's aliases: queue/queued → collect.
func normalizeQueueMode(s string) string {
	switch m := strings.ToLower(strings.TrimSpace(s)); m {
	case QueueCollect, "queue", "queued":
		return QueueCollect
	case QueueFollowup, QueueSteer, QueueInterrupt:
		return m
	case "followups", "follow-up":
		return QueueFollowup
	}
	return ""
}

// followupQueue holds the chat messages that arrived while a run of the
// session was busy. One drainer goroutine per non-empty queue waits for
// the debounce to pass and for the session lane, then runs them: all
// queued (up to the cap) as one merged turn in collect mode, one by one
// in followup mode.
type followupQueue struct {
	r   *Runner
	key string

	mu       sync.Mutex
	items    []queuedMessage
	last     time.Time
	draining bool
}

type queuedMessage struct {
	text string
	mode string
	turn Turn
}

// queue returns the followup queue of sessionKey.
func (r *Runner) queue(sessionKey string) *followupQueue {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queues[sessionKey]
	if q == nil {
		q = &followupQueue{r: r, key: sessionKey}
		r.queues[sessionKey] = q
	}
	return q
}

// pending reports whether sessionKey has queued messages.
func (r *Runner) pending(sessionKey string) bool {
	r.mu.Lock()
	q := r.queues[sessionKey]
	r.mu.Unlock()
	if q == nil {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) > 0 || q.draining
}

func (q *followupQueue) push(m queuedMessage) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, m)
	q.last = q.r.now()
	if !q.draining {
		q.draining = true
		go q.drain()
	}
}

func (q *followupQueue) clear() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.items)
	q.items = nil
	return n
}

func (q *followupQueue) drain() {
	for {
		debounce := q.r.d.Config().QueueDebounce
		for {
			q.mu.Lock()
			wait := debounce - q.r.now().Sub(q.last)
			q.mu.Unlock()
			if wait <= 0 {
				break
			}
			t := time.NewTimer(wait)
			<-t.C
		}
		rel, err := q.r.lanes.Acquire(context.Background(), lanes.SessionLane(q.key))
		if err != nil {
			return
		}
		q.mu.Lock()
		if len(q.items) == 0 {
			q.draining = false
			q.mu.Unlock()
			rel()
			q.r.forgetQueue(q)
			return
		}
		var batch []queuedMessage
		if q.items[0].mode == QueueFollowup {
			batch, q.items = q.items[:1:1], q.items[1:]
		} else {
			n := min(len(q.items), max(q.r.d.Config().QueueCap, 1))
			batch, q.items = append([]queuedMessage(nil), q.items[:n]...), q.items[n:]
		}
		q.mu.Unlock()
		q.runBatch(batch)
		rel()
	}
}

func (r *Runner) forgetQueue(q *followupQueue) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q.mu.Lock()
	idle := len(q.items) == 0 && !q.draining
	q.mu.Unlock()
	if idle && r.queues[q.key] == q {
		delete(r.queues, q.key)
	}
}

// runBatch runs one followup turn (the lane is held) under a new run id.
func (q *followupQueue) runBatch(batch []queuedMessage) {
	t := batch[len(batch)-1].turn
	if len(batch) == 1 {
		t.Message = batch[0].text
	} else {
		blocks := []string{"[Queued messages while agent was busy]"}
		for i, m := range batch {
			blocks = append(blocks, strings.TrimSpace(fmt.Sprintf("---\nQueued #%d\n%s", i+1, m.text)))
		}
		t.Message = strings.Join(blocks, "\n\n")
	}
	if s, err := q.r.d.Sessions.Resolve(q.key); err == nil {
		t.Session = s
	}
	t.RunID = rpc.NewID()
	t.laneHeld = true
	q.r.Run(context.Background(), t)
}
