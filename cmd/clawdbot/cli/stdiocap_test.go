package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCapFile(t *testing.T) {
	for _, appendMode := range []bool{true, false} {
		flags := os.O_CREATE | os.O_WRONLY
		if appendMode {
			flags |= os.O_APPEND // how launchd opens StandardOutPath
		}
		path := filepath.Join(t.TempDir(), "gateway.log")
		f, err := os.OpenFile(path, flags, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.Write(bytes.Repeat([]byte("x"), 3<<20))
		if capFile(f, 4<<20, "/state/logs") {
			t.Fatal("truncated below the limit")
		}
		f.Write(bytes.Repeat([]byte("y"), 2<<20))
		if !capFile(f, 4<<20, "/state/logs") {
			t.Fatal("not truncated above the limit")
		}
		io.WriteString(f, "next line\n")
		b, _ := os.ReadFile(path)
		if len(b) > 1024 || !strings.Contains(string(b), "was truncated; the full log is /state/logs") ||
			!strings.HasSuffix(string(b), "next line\n") || bytes.IndexByte(b, 0) >= 0 {
			t.Errorf("append=%v: file after cap (%d bytes): %q", appendMode, len(b), b)
		}
	}
}

func TestCapStdioFilesLeavesNonFilesAlone(t *testing.T) {
	var buf bytes.Buffer
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	stop := make(chan struct{})
	defer close(stop)
	capStdioFiles([]io.Writer{&buf, w}, 1, stdioCapEvery, "x", stop) // must not touch either
	if buf.Len() != 0 {
		t.Errorf("wrote to a buffer: %q", buf.String())
	}
}
