package channels

import (
	"strings"
	"unicode/utf8"
)

// ChunkText splits text into pieces of at most limit characters (runes),
// preferring a paragraph break, then a newline, then whitespace inside the
// window; a word longer than the limit is cut. ChunkNewline first splits
// on blank lines so each paragraph starts a new message. Empty text gives
// no chunks.
func ChunkText(text string, limit int, mode ChunkMode) []string {
	if limit <= 0 {
		limit = DefaultTextChunkLimit
	}
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var parts []string
	if mode == ChunkNewline {
		for _, p := range strings.Split(text, "\n\n") {
			if strings.TrimSpace(p) != "" {
				parts = append(parts, p)
			}
		}
	} else {
		parts = []string{text}
	}
	var out []string
	for _, p := range parts {
		out = append(out, chunkLength(p, limit)...)
	}
	return out
}

// chunkLength is the length mode of ChunkText for one piece.
func chunkLength(text string, limit int) []string {
	var out []string
	for utf8.RuneCountInString(text) > limit {
		// The byte offset of the rune after the window.
		end := 0
		for i := 0; i < limit; i++ {
			_, size := utf8.DecodeRuneInString(text[end:])
			end += size
		}
		window := text[:end]
		cut := strings.LastIndex(window, "\n\n")
		if cut <= 0 {
			cut = strings.LastIndex(window, "\n")
		}
		if cut <= 0 {
			cut = strings.LastIndexAny(window, " \t")
		}
		if cut <= 0 {
			cut = end
		}
		if piece := strings.TrimRight(text[:cut], " \t\n"); piece != "" {
			out = append(out, piece)
		}
		text = strings.TrimLeft(text[cut:], " \t\n")
	}
	if strings.TrimSpace(text) != "" {
		out = append(out, text)
	}
	return out
}
