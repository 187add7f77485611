//lint:file-ignore ST1005 tool errors are the original's texts: the model reads them verbatim, and they start with a capital and end with a period there

package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	readability "codeberg.org/readeck/go-readability/v2"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// web_fetch defaults of the original (tools/web-fetch.js, web-shared.js)
// and our body cap.
const (
	fetchMaxChars     = 50_000
	fetchMaxRedirects = 3
	fetchTimeout      = 30 * time.Second
	fetchErrorChars   = 4_000
	fetchUserAgent    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"
	// MaxFetchBytes caps the body web_fetch reads (the original reads
	// all of it): a page larger than this is cut and marked truncated.
	MaxFetchBytes = 2 << 20
)

// SSRFError is a fetch refused because its target is a private,
// loopback or link-local address (the original's SsrFBlockedError).
type SSRFError struct{ msg string }

func (e *SSRFError) Error() string { return e.msg }

// fetchConfig is tools.web.fetch.
type fetchConfig struct {
	enabled      bool
	maxChars     int
	maxRedirects int
	timeout      time.Duration
	userAgent    string
	readability  bool
	// allowPrivate is tools.web.fetch.allowPrivateNetwork (ours): the
	// fetch may reach private, loopback and link-local addresses.
	allowPrivate bool
}

func fetchSettings(doc map[string]any) fetchConfig {
	f := obj(obj(obj(doc, "tools"), "web"), "fetch")
	c := fetchConfig{enabled: true, maxChars: fetchMaxChars, maxRedirects: fetchMaxRedirects, timeout: fetchTimeout,
		userAgent: fetchUserAgent, readability: true}
	if v, ok := f["enabled"].(bool); ok {
		c.enabled = v
	}
	if v, ok := f["readability"].(bool); ok {
		c.readability = v
	}
	c.allowPrivate = boolean(f, "allowPrivateNetwork")
	if n, ok := f["maxChars"].(float64); ok && n >= 100 {
		c.maxChars = int(n)
	}
	if n, ok := f["maxRedirects"].(float64); ok && n >= 0 {
		c.maxRedirects = int(n)
	}
	if n, ok := f["timeoutSeconds"].(float64); ok && n >= 1 {
		c.timeout = time.Duration(n * float64(time.Second))
	}
	if s := str(f, "userAgent"); s != "" {
		c.userAgent = s
	}
	return c
}

// webFetchTool is the original's web_fetch without the Firecrawl
// fallback (an outside service) and without its 15-minute cache.
type webFetchTool struct{ Tool }

// Available: tools.web.fetch.enabled false removes it, as in the original.
func (webFetchTool) Available(doc map[string]any, _ agent.Session) bool {
	return fetchSettings(doc).enabled
}

// CallTimeout: the fetch has its own (tools.web.fetch.timeoutSeconds);
// the registry adds a margin for extraction.
func (webFetchTool) CallTimeout(c *Call) time.Duration {
	return fetchSettings(c.Doc).timeout + 10*time.Second
}

func newWebFetchTool() Tool {
	return webFetchTool{Func(llm.Tool{Name: "web_fetch",
		Description: "Fetch and extract readable content from a URL (HTML → markdown/text). Use for lightweight page access without browser automation.",
		Parameters:  schemaJSON(`{"type":"object","properties":{"url":{"type":"string","description":"HTTP or HTTPS URL to fetch."},"extractMode":{"type":"string","enum":["markdown","text"],"description":"Extraction mode (\"markdown\" or \"text\").","default":"markdown"},"maxChars":{"type":"number","description":"Maximum characters to return (truncates when exceeded).","minimum":100}},"required":["url"]}`)},
		runWebFetch)}
}

func runWebFetch(ctx context.Context, c *Call) (agent.ToolResult, error) {
	var a struct {
		URL         string   `json:"url"`
		ExtractMode string   `json:"extractMode"`
		MaxChars    *float64 `json:"maxChars"`
	}
	if err := c.Decode(&a); err != nil {
		return agent.ToolResult{}, err
	}
	a.URL = strings.TrimSpace(a.URL)
	if a.URL == "" {
		return agent.ToolResult{}, errors.New("url required")
	}
	cfg := fetchSettings(c.Doc)
	mode := "markdown"
	if a.ExtractMode == "text" {
		mode = "text"
	}
	maxChars := cfg.maxChars
	if a.MaxChars != nil {
		maxChars = max(int(*a.MaxChars), 100)
	}
	start := time.Now()
	res, body, cut, finalURL, err := fetchURL(ctx, a.URL, cfg)
	if err != nil {
		return agent.ToolResult{}, err
	}
	ct := res.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		detail := string(body)
		if strings.Contains(strings.ToLower(ct), "text/html") || looksLikeHTML(detail) {
			title, txt := htmlToMarkdown(detail)
			if title != "" {
				txt = title + "\n" + txt
			}
			detail = markdownToText(txt)
		}
		detail = truncRunes(strings.TrimSpace(detail), fetchErrorChars)
		if detail == "" {
			detail = strings.TrimPrefix(res.Status, strconv.Itoa(res.StatusCode)+" ")
		}
		return agent.ToolResult{}, fmt.Errorf("Web fetch failed (%d): %s", res.StatusCode, detail)
	}
	text, title, extractor := string(body), "", "raw"
	switch {
	case strings.Contains(ct, "text/html"):
		if !cfg.readability {
			return agent.ToolResult{}, errors.New("Web fetch extraction failed: Readability disabled and Firecrawl unavailable.")
		}
		u, _ := url.Parse(finalURL)
		t, ti := extractReadable(string(body), u, mode)
		if t == "" {
			return agent.ToolResult{}, errors.New("Web fetch extraction failed: Readability and Firecrawl returned no content.")
		}
		text, title, extractor = t, ti, "readability"
	case strings.Contains(ct, "application/json"):
		var v any
		if json.Unmarshal(body, &v) == nil {
			if b, err := json.MarshalIndent(v, "", "  "); err == nil {
				text, extractor = string(b), "json"
			}
		}
	}
	truncated := cut
	if r := []rune(text); len(r) > maxChars {
		text, truncated = string(r[:maxChars]), true
	}
	payload := map[string]any{"url": a.URL, "finalUrl": finalURL, "status": res.StatusCode, "contentType": ct,
		"extractMode": mode, "extractor": extractor, "truncated": truncated, "length": jsLength(text),
		"fetchedAt": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "tookMs": time.Since(start).Milliseconds(), "text": text}
	if title != "" {
		payload["title"] = title
	}
	return JSONResult(orderedFetch(payload)), nil
}

// orderedFetch keeps the original's field order in the JSON text.
func orderedFetch(m map[string]any) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, k := range []string{"url", "finalUrl", "status", "contentType", "title", "extractMode", "extractor", "truncated", "length", "fetchedAt", "tookMs", "text"} {
		v, ok := m[k]
		if !ok {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// fetchURL GETs u following up to cfg.maxRedirects redirects by hand,
// checking every hop's host; the dialer refuses private addresses
// whatever DNS answers at connect time (DNS rebinding included).
func fetchURL(ctx context.Context, raw string, cfg fetchConfig) (*http.Response, []byte, bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	client := fetchClient(cfg.allowPrivate)
	defer client.CloseIdleConnections()
	visited := map[string]bool{}
	cur := raw
	for redirects := 0; ; {
		u, err := url.Parse(cur)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, false, "", errors.New("Invalid URL: must be http or https")
		}
		if !cfg.allowPrivate {
			if err := checkHost(u.Hostname()); err != nil {
				return nil, nil, false, "", err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, nil, false, "", err
		}
		req.Header.Set("Accept", "*/*")
		req.Header.Set("User-Agent", cfg.userAgent)
		req.Header.Set("Accept-Language", "en-US,en;q=0.9")
		res, err := client.Do(req)
		if err != nil {
			var se *SSRFError
			if errors.As(err, &se) {
				return nil, nil, false, "", se
			}
			if ctx.Err() != nil {
				return nil, nil, false, "", fmt.Errorf("Web fetch timed out after %s", cfg.timeout)
			}
			return nil, nil, false, "", fmt.Errorf("fetch failed: %v", err)
		}
		switch res.StatusCode {
		case 301, 302, 303, 307, 308:
			res.Body.Close()
			loc := res.Header.Get("Location")
			if loc == "" {
				return nil, nil, false, "", fmt.Errorf("Redirect missing location header (%d)", res.StatusCode)
			}
			redirects++
			if redirects > cfg.maxRedirects {
				return nil, nil, false, "", fmt.Errorf("Too many redirects (limit: %d)", cfg.maxRedirects)
			}
			next, err := u.Parse(loc)
			if err != nil {
				return nil, nil, false, "", errors.New("Invalid URL: must be http or https")
			}
			if visited[next.String()] {
				return nil, nil, false, "", errors.New("Redirect loop detected")
			}
			visited[next.String()] = true
			cur = next.String()
			continue
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, MaxFetchBytes+1))
		res.Body.Close()
		if err != nil && ctx.Err() != nil {
			return nil, nil, false, "", fmt.Errorf("Web fetch timed out after %s", cfg.timeout)
		}
		cut := len(body) > MaxFetchBytes
		if cut {
			body = body[:MaxFetchBytes]
		}
		return res, body, cut, cur, nil
	}
}

// fetchClient dials through a Control hook that checks the address
// actually connected to, and never through an environment proxy (which
// would hide the target from the check).
func fetchClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &SSRFError{"Blocked: resolves to private/internal IP address"}
			}
			if privateAddr(ap.Addr()) {
				return &SSRFError{"Blocked: resolves to private/internal IP address"}
			}
			return nil
		}
	}
	tr := &http.Transport{Proxy: nil, DialContext: d.DialContext, ForceAttemptHTTP2: true,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 30 * time.Second, MaxResponseHeaderBytes: 64 << 10}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// checkHost is the original's assertPublicHostname before DNS: blocked
// names, and literal private addresses.
func checkHost(host string) error {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "" {
		return errors.New("Invalid hostname")
	}
	if h == "localhost" || h == "metadata.google.internal" || strings.HasSuffix(h, ".localhost") || strings.HasSuffix(h, ".local") || strings.HasSuffix(h, ".internal") {
		return &SSRFError{"Blocked hostname: " + host}
	}
	if a, err := netip.ParseAddr(h); err == nil && privateAddr(a) {
		return &SSRFError{"Blocked: private/internal IP address"}
	}
	return nil
}

// privateAddr: the original's isPrivateIpAddress (0/8, 10/8, 127/8,
// 169.254/16, 172.16/12, 192.168/16, 100.64/10, ::, ::1, fe80::/10,
// fec0::/10, fc00::/7, IPv4-mapped forms) plus multicast.
func privateAddr(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		switch {
		case b[0] == 0, b[0] == 10, b[0] == 127, b[0] == 169 && b[1] == 254, b[0] == 172 && b[1] >= 16 && b[1] <= 31,
			b[0] == 192 && b[1] == 168, b[0] == 100 && b[1] >= 64 && b[1] <= 127, b[0] >= 224:
			return true
		}
		return false
	}
	b := a.As16()
	return a.IsUnspecified() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsMulticast() ||
		(b[0] == 0xfe && b[1]&0xc0 == 0xc0) || b[0]&0xfe == 0xfc
}

func looksLikeHTML(s string) bool {
	t := strings.ToLower(strings.TrimSpace(s))
	if len(t) > 256 {
		t = t[:256]
	}
	return strings.HasPrefix(t, "<!doctype html") || strings.HasPrefix(t, "<html")
}

// extractReadable is web-fetch-utils.js extractReadableContent on
// go-readability: the article's text (text mode) or its HTML rendered to
// markdown, falling back to the whole page.
func extractReadable(page string, u *url.URL, mode string) (text, title string) {
	fallback := func() (string, string) {
		ti, md := htmlToMarkdown(page)
		if mode == "text" {
			t := markdownToText(md)
			if t == "" {
				t = normWS(stripTags(page))
			}
			return t, ti
		}
		return md, ti
	}
	p := readability.NewParser()
	p.CharThresholds = 0
	art, err := p.Parse(strings.NewReader(page), u)
	if err != nil || art.Node == nil {
		return fallback()
	}
	title = art.Title()
	if mode == "text" {
		var b strings.Builder
		if art.RenderText(&b) != nil {
			return fallback()
		}
		t := normWS(b.String())
		if t == "" {
			return fallback()
		}
		return t, title
	}
	var b strings.Builder
	if art.RenderHTML(&b) != nil {
		return fallback()
	}
	ti, md := htmlToMarkdown(b.String())
	if title == "" {
		title = ti
	}
	return md, title
}

var (
	reTitle  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`) })
	reScript = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?is)<script.*?</script>|<style.*?</style>|<noscript.*?</noscript>`)
	})
	reAnchor = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?is)<a\s+[^>]*href=["']([^"']+)["'][^>]*>(.*?)</a>`)
	})
	reLi       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<li[^>]*>(.*?)</li>`) })
	reBr       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)<(br|hr)\s*/?>`) })
	reBlockEnd = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)</(p|div|section|article|header|footer|table|tr|ul|ol)>`)
	})
	reTag      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<[^>]+>`) })
	reHexEnt   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)&#x([0-9a-f]+);`) })
	reDecEnt   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`&#(\d+);`) })
	reSpNl     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[ \t]+\n`) })
	reNl3      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\n{3,}`) })
	reSp2      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[ \t]{2,}`) })
	reMdImg    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`!\[[^\]]*]\([^)]+\)`) })
	reMdLink   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\[([^\]]+)]\([^)]+\)`) })
	reMdFence  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("(?s)```.*?```") })
	reMdFenceL = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("```[^\n]*\n?") })
	reMdCode   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("`([^`]+)`") })
	reMdHead   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^#{1,6}\s+`) })
	reMdBullet = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^\s*[-*+]\s+`) })
	reMdNum    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^\s*\d+\.\s+`) })
)

// reHeading holds the <h1>…<h6> patterns at index 1…6, compiled on first use
// so a gateway that never fetches a page does not pay for them at start-up.
var reHeading = sync.OnceValue(func() (res [7]*regexp.Regexp) {
	for i := 1; i <= 6; i++ {
		res[i] = regexp.MustCompile(fmt.Sprintf(`(?is)<h%d[^>]*>(.*?)</h%d>`, i, i))
	}
	return res
})

func decodeEntities(s string) string {
	r := strings.NewReplacer("&nbsp;", " ", "&NBSP;", " ", "&amp;", "&", "&AMP;", "&", "&quot;", `"`, "&#39;", "'", "&lt;", "<", "&LT;", "<", "&gt;", ">", "&GT;", ">")
	s = r.Replace(s)
	s = reHexEnt().ReplaceAllStringFunc(s, func(m string) string {
		n, err := strconv.ParseInt(reHexEnt().FindStringSubmatch(m)[1], 16, 32)
		if err != nil {
			return m
		}
		return string(rune(n))
	})
	return reDecEnt().ReplaceAllStringFunc(s, func(m string) string {
		n, err := strconv.Atoi(reDecEnt().FindStringSubmatch(m)[1])
		if err != nil {
			return m
		}
		return string(rune(n))
	})
}

func stripTags(s string) string { return decodeEntities(reTag().ReplaceAllString(s, "")) }

func normWS(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	s = reSpNl().ReplaceAllString(s, "\n")
	s = reNl3().ReplaceAllString(s, "\n\n")
	s = reSp2().ReplaceAllString(s, " ")
	return strings.TrimSpace(s)
}

// htmlToMarkdown is web-fetch-utils.js htmlToMarkdown.
func htmlToMarkdown(h string) (title, text string) {
	if m := reTitle().FindStringSubmatch(h); m != nil {
		title = normWS(stripTags(m[1]))
	}
	t := reScript().ReplaceAllString(h, "")
	t = reAnchor().ReplaceAllStringFunc(t, func(m string) string {
		sm := reAnchor().FindStringSubmatch(m)
		label := normWS(stripTags(sm[2]))
		if label == "" {
			return sm[1]
		}
		return "[" + label + "](" + sm[1] + ")"
	})
	for i := 1; i <= 6; i++ {
		re := reHeading()[i]
		t = re.ReplaceAllStringFunc(t, func(m string) string {
			return "\n" + strings.Repeat("#", i) + " " + normWS(stripTags(re.FindStringSubmatch(m)[1])) + "\n"
		})
	}
	t = reLi().ReplaceAllStringFunc(t, func(m string) string {
		label := normWS(stripTags(reLi().FindStringSubmatch(m)[1]))
		if label == "" {
			return ""
		}
		return "\n- " + label
	})
	t = reBr().ReplaceAllString(t, "\n")
	t = reBlockEnd().ReplaceAllString(t, "\n")
	return title, normWS(stripTags(t))
}

// markdownToText is web-fetch-utils.js markdownToText.
func markdownToText(md string) string {
	t := reMdImg().ReplaceAllString(md, "")
	t = reMdLink().ReplaceAllString(t, "$1")
	t = reMdFence().ReplaceAllStringFunc(t, func(b string) string {
		return strings.ReplaceAll(reMdFenceL().ReplaceAllString(b, ""), "```", "")
	})
	t = reMdCode().ReplaceAllString(t, "$1")
	t = reMdHead().ReplaceAllString(t, "")
	t = reMdBullet().ReplaceAllString(t, "")
	t = reMdNum().ReplaceAllString(t, "")
	return normWS(t)
}

func truncRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
