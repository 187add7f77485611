package browsertest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The problem collector is what makes "no JS errors" an assertion: a page
// that logs a console error and throws must be caught by it.
func TestHarnessCatchesPageErrors(t *testing.T) {
	b := newBrowser(t, 20*time.Second)
	page := `<!doctype html><p>x</p><script>console.error("harness-console-error"); setTimeout(() => { throw new Error("harness-uncaught") }, 0)</script>`
	b.run("open the page", chromedp.Navigate("data:text/html,"+url.PathEscape(page)))
	b.waitJS("the page", `document.querySelector('p')`, 5*time.Second)
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got = append(got, b.takeProblems()...)
		joined := strings.Join(got, "\n")
		if strings.Contains(joined, "harness-console-error") && strings.Contains(joined, "harness-uncaught") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("problems seen %q, want the console error and the uncaught exception", got)
}
