package browsertest

import (
	"bytes"
	"cmp"
	"image"
	"image/color"
	"image/png"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
)

// TestScreenshots writes one PNG per tab of the Control UI into
// $CONTROLUI_SCREENSHOTS_DIR (`make screenshots` sets doc/screenshots),
// after a short chat so that the Chat tab has something to show. Without
// the variable it is skipped: the other tests already cover the tabs.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("CONTROLUI_SCREENSHOTS_DIR")
	if dir == "" {
		t.Skip("CONTROLUI_SCREENSHOTS_DIR is not set (make screenshots sets it)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	reply := []string{"I can help with a few things here:\n\n", "- **read and edit files** in your workspace\n", "- run commands, ",
		"with your approval (`exec`)\n", "- schedule jobs with *cron*\n\n", "What shall we start with?"}
	f := startGateway(t, llmtest.Script{Responses: []llmtest.Response{{Text: reply, Spacing: 30 * time.Millisecond}}})
	b := newBrowser(t, 2*time.Minute)
	b.open(f, "/")
	b.waitJS("the chat input", q("chat-input"), 5*time.Second)
	b.say("What can you do?")
	b.waitJS("the reply", `((m) => !!m && !m.hasAttribute('data-streaming'))(`+lastAssistant+`)`, 15*time.Second)
	// A second client, so Instances lists more than the UI itself.
	second := gatewaytest.Dial(t, f.srv.Addr().String())
	p := gatewaytest.ConnectParams(token)
	p["client"] = map[string]any{"id": "clawdbot-macos", "mode": "ui", "platform": "macos", "version": "2026.1.24",
		"displayName": "studio-mac", "instanceId": "screenshot-mac"}
	second.Connect(p)
	f.log.Info("screenshots: a line for the Logs tab", "subsystem", "gateway")

	tabs := eval[[]string](b, `[...document.querySelectorAll('[data-testid^="tab-"]')].map(e => e.getAttribute('data-testid').slice(4))`)
	if len(tabs) == 0 {
		t.Fatal("no tab-<name> links")
	}
	for _, name := range tabs {
		b.tab(name)
		b.waitJS("panel-"+name, `((p) => !!p && !p.hidden)(`+q("panel-"+name)+`)`, 5*time.Second)
		// Let the tab's first requests answer and render.
		time.Sleep(400 * time.Millisecond)
		p := b.shot(name)
		if p == "" {
			t.Fatalf("no screenshot of %s", name)
		}
		out := filepath.Join(dir, strings.ToLower(name)+".png")
		if err := recompress(p, out); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", out)
	}
}

// recompress writes the PNG at src to dst as an 8-bit paletted PNG at the
// best compression, through a temp file and a rename. The palette is the
// screenshot's 256 most frequent colours; the rest (a UI has about a
// thousand, mostly anti-aliased text edges) take the nearest of them,
// which looks the same and makes the files less than half as big.
func recompress(src, dst string) error {
	raw, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, quantize(img)); err != nil {
		return err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// quantize maps img onto a palette of its 256 most frequent colours.
func quantize(img image.Image) *image.Paletted {
	b := img.Bounds()
	at := func(x, y int) color.RGBA { return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) }
	count := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[at(x, y)]++
		}
	}
	colours := slices.Collect(maps.Keys(count))
	slices.SortFunc(colours, func(p, q color.RGBA) int {
		if c := cmp.Compare(count[q], count[p]); c != 0 {
			return c
		}
		return cmp.Compare(uint32(p.R)<<24|uint32(p.G)<<16|uint32(p.B)<<8|uint32(p.A), uint32(q.R)<<24|uint32(q.G)<<16|uint32(q.B)<<8|uint32(q.A))
	})
	var pal color.Palette
	for _, c := range colours[:min(256, len(colours))] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(b, pal)
	index := map[color.RGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := at(x, y)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}
