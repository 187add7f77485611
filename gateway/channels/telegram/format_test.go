package telegram

import (
	"strings"
	"testing"
)

func TestMarkdownToHTML(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain & <tag>", "plain &amp; &lt;tag&gt;"},
		{"**bold** and *it* and _it2_", "<b>bold</b> and <i>it</i> and <i>it2</i>"},
		{"snake_case_name stays", "snake_case_name stays"},
		{"`a<b` code", "<code>a&lt;b</code> code"},
		{"~~gone~~", "<s>gone</s>"},
		{"[site](https://e.com/?a=1&b=\"2\")", `<a href="https://e.com/?a=1&amp;b=&quot;2&quot;">site</a>`},
		{"**bold [link](http://x) end**", `<b>bold <a href="http://x">link</a> end</b>`},
		{"```go\nx := 1 < 2\n```\nafter", "<pre><code>x := 1 &lt; 2</code></pre>\nafter"},
		{"# Title\n- item", "Title\n• item"},
		{"> quoted", "quoted"},
		{`\*not italic\*`, "*not italic*"},
		{"2 * 3 * 4", "2 * 3 * 4"},
		{"unclosed **bold", "unclosed **bold"},
	}
	for _, c := range cases {
		if got := MarkdownToHTML(c.in); got != c.want {
			t.Errorf("MarkdownToHTML(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestMarkdownToChunks(t *testing.T) {
	para := strings.Repeat("word ", 300) // 1500 chars
	long := strings.Join([]string{para, "**" + para + "**", para, para}, "\n\n")
	chunks := MarkdownToChunks(long, 4000)
	if len(chunks) < 2 {
		t.Fatalf("%d chunks for %d chars", len(chunks), len(long))
	}
	var joined strings.Builder
	for i, c := range chunks {
		if n := utf16Len(c.Text); n > 4000 {
			t.Errorf("chunk %d has %d visible chars", i, n)
		}
		if strings.Count(c.HTML, "<b>") != strings.Count(c.HTML, "</b>") {
			t.Errorf("chunk %d has unbalanced tags: %q", i, c.HTML)
		}
		joined.WriteString(c.Text)
	}
	if strings.Count(joined.String(), "word") != 1200 {
		t.Errorf("chunks lost text: %d words", strings.Count(joined.String(), "word"))
	}
	// A bold span cut by a chunk boundary is closed and reopened.
	cut := MarkdownToChunks("**"+strings.Repeat("a ", 30)+"**", 20)
	for _, c := range cut {
		if !strings.HasPrefix(c.HTML, "<b>") || !strings.HasSuffix(c.HTML, "</b>") {
			t.Errorf("split bold chunk %q", c.HTML)
		}
	}
	// A word longer than the limit is hard-cut; emoji count as two units.
	for _, c := range MarkdownToChunks(strings.Repeat("😀", 30), 10) {
		if utf16Len(c.Text) > 10 {
			t.Errorf("emoji chunk of %d units", utf16Len(c.Text))
		}
	}
}

func TestChunkMarkdownKeepsFences(t *testing.T) {
	code := strings.Repeat("fmt.Println(1)\n", 30) // 450 chars
	md := "intro\n\n```go\n" + code + "```\n\nafter"
	chunks := ChunkMarkdown(md, 200, "length")
	if len(chunks) < 3 {
		t.Fatalf("%d chunks", len(chunks))
	}
	lines := 0
	for i, c := range chunks {
		if len([]rune(c)) > 200 {
			t.Errorf("chunk %d has %d chars", i, len([]rune(c)))
		}
		if fenceStateAfter(c) != "" {
			t.Errorf("chunk %d leaves a fence open:\n%s", i, c)
		}
		html := MarkdownToHTML(c)
		if strings.Count(html, "<pre><code>") != strings.Count(html, "</code></pre>") {
			t.Errorf("chunk %d renders unbalanced: %s", i, html)
		}
		lines += strings.Count(html, "fmt.Println(1)")
		if i > 0 && i < len(chunks)-1 && !strings.HasPrefix(c, "```go\n") {
			t.Errorf("chunk %d does not reopen the fence: %q", i, c[:20])
		}
	}
	if lines != 30 {
		t.Errorf("%d code lines rendered as code, want 30", lines)
	}
	if !strings.Contains(chunks[len(chunks)-1], "after") {
		t.Error("text after the fence lost")
	}
}
