package browsertest

import (
	"slices"
	"testing"
)

// deltaLatencies pairs each frame that brings new text with the first
// render after it that shows new text.
func TestDeltaLatencies(t *testing.T) {
	d := func(tm float64, n int) frame { return frame{T: tm, Event: "agent", State: "delta", RunID: "r", Len: n} }
	r := func(tm float64, n int) render { return render{T: tm, Len: n, Streaming: true, Count: 1} }
	for _, c := range []struct {
		name    string
		frames  []frame
		renders []render
		want    []float64
	}{
		{"one render per delta", []frame{d(10, 3), d(20, 6)}, []render{r(12, 3), r(25, 6)}, []float64{2, 5}},
		{"a chat delta repeating the agent text is not measured", []frame{d(10, 3), {T: 11, Event: "chat", State: "delta", RunID: "r", Len: 3}, d(30, 6)},
			[]render{r(12, 3), r(31, 6)}, []float64{2, 1}},
		{"two deltas in one render both wait for it", []frame{d(10, 3), d(14, 6)}, []render{r(20, 6)}, []float64{10, 6}},
		{"the empty message appearing is not a render of text", []frame{d(10, 3)}, []render{r(10.5, 0), r(16, 3)}, []float64{6}},
		{"final and aborted frames are not deltas", []frame{{T: 5, State: "final", RunID: "r", Len: 9}}, []render{r(6, 9)}, nil},
		{"a delta with no render after it is left out", []frame{d(10, 3), d(40, 6)}, []render{r(12, 3)}, []float64{2}},
		{"a second run's message starts from no text", []frame{d(10, 5), {T: 50, Event: "agent", State: "delta", RunID: "s", Len: 2}},
			[]render{r(12, 5), {T: 51, Len: 0, Count: 2}, {T: 55, Len: 2, Count: 2}}, []float64{2, 5}},
	} {
		if got := deltaLatencies(c.frames, c.renders); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// framesLate counts the animation frames between a delta and its render.
func TestDeltaPairFramesLate(t *testing.T) {
	frames := []frame{{T: 10, N: 4, State: "delta", RunID: "r", Len: 3}, {T: 30, N: 5, State: "delta", RunID: "r", Len: 6}}
	renders := []render{{T: 12, N: 5, Len: 3, Count: 1}, {T: 70, N: 8, Len: 6, Count: 1}}
	var got []int
	for _, p := range deltaPairs(frames, renders) {
		got = append(got, p.framesLate())
	}
	if !slices.Equal(got, []int{1, 3}) {
		t.Errorf("frames late %v, want [1 3] (the next frame, then three frames on)", got)
	}
}
